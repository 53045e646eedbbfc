"""Politeness: how many requests a host gets at once, how far apart they start, and what robots.txt allows.

``HostGate`` spaces the *starts* of requests to one host by its delay (the crawl's own delay, or a
longer ``Crawl-delay`` its robots.txt asks for) and caps how many run at once. ``RobotsRules``
fetches each host's robots.txt once per crawl, through the same gate, and answers per URL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from shadowmatch_kb.fetch.robots import MAX_CRAWL_DELAY, RobotsPolicy, policy_for_status

__all__ = ["HostGate", "RobotsRules", "site_of"]


def site_of(url: str) -> str:
    """The scheme and authority of a URL: the unit robots.txt and the per-host limits apply to."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class HostGate:
    """Per-host concurrency and spacing of request starts."""

    def __init__(
        self,
        per_host: int,
        delay: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.per_host = max(1, per_host)
        self.delay = max(0.0, delay)
        self._clock = clock
        self._sleep = sleep
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        self._last_start: dict[str, float] = {}
        self._delays: dict[str, float] = {}

    def set_delay(self, site: str, seconds: float) -> None:
        """Space this site's requests at least ``seconds`` apart (never less than the crawl's delay)."""
        self._delays[site] = max(self.delay, min(seconds, MAX_CRAWL_DELAY))
        # Requests reserved before the delay was known (robots.txt itself) must not start sooner.
        if site in self._last_start:
            self._next_start[site] = max(self._next_start[site], self._last_start[site] + self._delays[site])

    def delay_for(self, site: str) -> float:
        """The spacing of request starts to this site."""
        return self._delays.get(site, self.delay)

    @asynccontextmanager
    async def slot(self, site: str) -> AsyncIterator[None]:
        """Hold one of the site's request slots, starting no sooner than its delay allows."""
        semaphore = self._slots.setdefault(site, asyncio.Semaphore(self.per_host))
        async with semaphore:
            await self.wait_turn(site)
            yield

    async def wait_turn(self, site: str) -> None:
        """Wait until the site's next request may start (for a redirect hop or a retry inside a slot)."""
        now = self._clock()
        start = max(now, self._next_start.get(site, now))
        # Reserve the start time before sleeping, so waiters queue up one delay apart.
        self._next_start[site] = start + self.delay_for(site)
        self._last_start[site] = start
        if start > now:
            await self._sleep(start - now)


FetchRobots = Callable[[str], Awaitable[tuple[int, str | None]]]


class RobotsRules:
    """robots.txt of every site a crawl reaches, fetched once and applied to each URL."""

    def __init__(self, user_agent: str, gate: HostGate) -> None:
        self._user_agent = user_agent
        self._gate = gate
        self._policies: dict[str, RobotsPolicy] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.notes: dict[str, str] = {}

    async def policy(self, site: str, fetch: FetchRobots) -> RobotsPolicy:
        """The site's policy; the first call fetches its robots.txt with ``fetch(url) -> (status, text)``."""
        if site in self._policies:
            return self._policies[site]
        async with self._locks.setdefault(site, asyncio.Lock()):
            if site not in self._policies:
                async with self._gate.slot(site):
                    status, text = await fetch(f"{site}/robots.txt")
                policy = policy_for_status(status, text, self._user_agent)
                if policy.crawl_delay:
                    self._gate.set_delay(site, policy.crawl_delay)
                if policy.crawl_delay_capped:
                    self.notes[site] = f"robots.txt asks for over {MAX_CRAWL_DELAY:g} s between requests; using that"
                if status == 0 or status >= 500 or status == 429:
                    shown = status or "unreachable"
                    self.notes[site] = f"robots.txt could not be read ({shown}): nothing on the site is fetched"
                self._policies[site] = policy
        return self._policies[site]

    async def allows(self, url: str, fetch: FetchRobots) -> bool:
        """True when the URL's site lets this crawler fetch it (status 0 from ``fetch``: unreachable)."""
        return (await self.policy(site_of(url), fetch)).allows(url)
