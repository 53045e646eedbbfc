"""The crawl loop: take queued URLs from the frontier, fetch them politely, and hand pages on.

A dispatcher reads the frontier in small batches (hosts interleaved) and feeds a bounded queue;
``concurrency`` workers fetch through the host gate, read feeds and sitemaps for links, and send
pages to worker processes for extraction, so fetching and extracting overlap on every core. Each
URL's outcome is recorded as soon as it is known; a URL whose work was cut short stays queued.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from shadowmatch_kb.crawl.pages import PageAnalysis, analyse_page, links_of_page
from shadowmatch_kb.crawl.politeness import HostGate, RobotsRules, site_of
from shadowmatch_kb.crawl.report import CrawlEvent, CrawlObserver, CrawlReport, NullObserver
from shadowmatch_kb.crawl.sources import Source
from shadowmatch_kb.errors import FetchError, InputError, UnsupportedContentError
from shadowmatch_kb.fetch.async_http import (
    AsyncFetcher,
    FetcherFactory,
    FetchOptions,
    FetchResponse,
    accepts_page,
    accepts_sitemap,
)
from shadowmatch_kb.store.frontier import Frontier, FrontierEntry, QueuedUrl
from shadowmatch_kb.store.sqlite import RawInput

__all__ = ["CrawlOptions", "Crawler", "PageStore", "start_extraction_workers"]

_BATCH = 64
# How often a crawl with nothing left to claim looks again while crawls elsewhere hold queued URLs of its
# sources (they may find more).
_POLL_OTHERS_S = 1.0


@dataclass(frozen=True)
class CrawlOptions:
    """How much to crawl and how politely."""

    max_pages: int | None = None  # requests this run may make (robots.txt aside); the rest stays queued
    since: str | None = None  # YYYY-MM-DD: skip entries listed or published before it
    concurrency: int = 8  # requests in flight at once, over all hosts
    per_host: int = 2  # requests in flight at once to one host
    delay: float = 1.0  # seconds between request starts to one host (robots.txt may ask for more)
    workers: int | None = None  # extraction processes; None: one per core; 0: extract in a thread
    fetch: FetchOptions = field(default_factory=FetchOptions)


def _exit_with_parent(parent: int) -> None:
    """In a worker: exit when the crawl process is gone (a kill leaves no orphan workers behind)."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def start_extraction_workers(workers: int | None) -> Executor | None:
    """Start the processes that extract pages, or None for ``workers == 0`` (extract in a thread).

    Call it before opening files or locks and before any thread starts: the workers are forked,
    so they start in milliseconds with the extractor imported and never re-run the caller's main
    module, and what a fork inherits (file locks, threads' locks) must not exist yet.
    """
    if workers == 0:
        return None
    count = workers or max(1, min(4, os.cpu_count() or 1))
    import trafilatura  # noqa: F401 - imported once here, inherited by every worker

    # Garbage of the parent (a dropped model's ONNX session, say) must be freed here, not by a collection
    # inside a worker: tearing down objects whose threads did not survive the fork can hang forever.
    gc.collect()
    context = multiprocessing.get_context("fork")
    executor = ProcessPoolExecutor(
        max_workers=count, mp_context=context, initializer=_exit_with_parent, initargs=(os.getpid(),)
    )
    # With fork, the first task starts every worker at once: do it now, while no thread runs.
    executor.submit(os.getpid).result()
    return executor


class PageStore(Protocol):
    """Where extracted articles go; answers (outcome, item id, reason)."""

    def store_page(self, page: PageAnalysis, raw: RawInput, *, source: Source) -> tuple[str, str | None, str | None]:
        """Store one article page: added, updated, unchanged or duplicate."""
        ...


def _role_for(source: Source) -> str:
    if source.kind == "site":
        return "page"
    if source.kind == "sitemap" and urlsplit(source.url).path.endswith("/robots.txt"):
        return "robots"
    return source.kind


class _Stop(Exception):
    """The page budget is spent: leave the URL queued for the next crawl."""


class Crawler:
    """One crawl run over some registered sources."""

    def __init__(
        self,
        frontier: Frontier,
        pages: PageStore,
        sources: Sequence[Source],
        options: CrawlOptions,
        *,
        fetchers: FetcherFactory | None = None,
        extractor: Executor | None = None,
    ) -> None:
        """``fetchers`` builds the crawl's fetchers from ``options.fetch`` (default: the pinned
        ``AsyncFetcher``); ``extractor`` runs page extraction (see ``start_extraction_workers``; else
        one thread)."""
        self.frontier = frontier
        self.pages = pages
        self.sources = {source.name: source for source in sources}
        self.options = options
        self.report = CrawlReport(sources=list(self.sources))
        self._make_fetcher: FetcherFactory = fetchers or AsyncFetcher
        self._observer: CrawlObserver = NullObserver()
        self._gate = HostGate(options.per_host, options.delay)
        self._robots = RobotsRules(options.fetch.user_agent, self._gate)
        self._fetchers: dict[bool, AsyncFetcher] = {}
        self._executor: Executor | None = extractor
        self._owns_executor = extractor is None
        self._in_flight: set[str] = set()
        self._done = asyncio.Event()
        self._requests_started = 0
        self._queued = 0
        self._queued_at = 0.0

    # ----- running -----------------------------------------------------------------------

    def run(self, observer: CrawlObserver | None = None) -> CrawlReport:
        """Crawl until the queue is empty or the page budget is spent; Ctrl-C stops it cleanly."""
        self._observer = observer or NullObserver()
        start = time.monotonic()
        names = list(self.sources)
        self.report.resumed = self.frontier.queued_count(names)
        self.frontier.enqueue(QueuedUrl(s.url, s.name, _role_for(s), 0) for s in self.sources.values())
        try:
            asyncio.run(self._crawl())
        except KeyboardInterrupt:
            self.report.stopped = "interrupted"
        finally:
            if self._owns_executor and self._executor is not None:
                self._executor.shutdown(wait=False)
                self._executor = None
            self.frontier.release()
            self.report.remaining = self.frontier.queued_count(names)
            self.report.notes.extend(f"{site}: {note}" for site, note in sorted(self._robots.notes.items()))
            self.report.seconds = time.monotonic() - start
        return self.report

    async def _crawl(self) -> None:
        queue: asyncio.Queue[FrontierEntry | None] = asyncio.Queue(maxsize=self.options.concurrency)
        workers = [asyncio.create_task(self._worker(queue)) for _ in range(max(1, self.options.concurrency))]
        try:
            await self._dispatch(queue)
        finally:
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers, return_exceptions=True)
            for fetcher in self._fetchers.values():
                await fetcher.aclose()

    async def _dispatch(self, queue: asyncio.Queue[FrontierEntry | None]) -> None:
        names = list(self.sources)
        while self.report.stopped is None:
            batch = self.frontier.next_batch(names, _BATCH, skip=self._in_flight)
            if not batch:
                if not self._in_flight:
                    if not self.frontier.claimed_elsewhere(names):
                        return
                    await asyncio.sleep(_POLL_OTHERS_S)
                    continue
                # Wait for a URL to end: it may queue new ones.
                self._done.clear()
                await self._done.wait()
                continue
            for entry in batch:
                if self.report.stopped is not None:
                    return
                self._in_flight.add(entry.url)
                await queue.put(entry)
            # Let the workers take this batch before reading the frontier again.
            while not queue.empty() and self.report.stopped is None:
                self._done.clear()
                await self._done.wait()

    async def _worker(self, queue: asyncio.Queue[FrontierEntry | None]) -> None:
        while (entry := await queue.get()) is not None:
            try:
                if self.report.stopped is None:
                    await self._visit(entry)
            except _Stop:
                pass
            except Exception as exc:  # noqa: BLE001 - one page's surprise must not end the crawl
                self._finish(entry, "failed", reason=f"internal error: {type(exc).__name__}: {exc}")
            finally:
                self._in_flight.discard(entry.url)
                self._done.set()

    # ----- one URL ----------------------------------------------------------------------------

    def _source(self, entry: FrontierEntry) -> Source:
        return self.sources[entry.source]

    def _fetcher(self, allow_private: bool) -> AsyncFetcher:
        if allow_private not in self._fetchers:
            self._fetchers[allow_private] = self._make_fetcher(
                self.options.fetch,
                allow_private=allow_private,
                pace=lambda url: self._gate.wait_turn(site_of(url)),
            )
        return self._fetchers[allow_private]

    async def _robots_text(self, url: str, fetcher: AsyncFetcher) -> tuple[int, str | None]:
        try:
            response = await fetcher.fetch(url, accept=lambda media_type: True)
        except FetchError as exc:
            return exc.status or 0, None  # 0: unreachable, judged as RFC 9309 says
        finally:
            self.report.fetches += 1
        return response.status, response.text()

    async def _visit(self, entry: FrontierEntry) -> None:
        source = self._source(entry)
        fetcher = self._fetcher(source.allow_private)
        if not await self._robots.allows(entry.url, lambda url: self._robots_text(url, fetcher)):
            self._finish(entry, "skipped", reason="disallowed by robots.txt", fetched=False)
            return
        limit = self.options.max_pages
        if limit is not None and self._requests_started >= limit:
            self.report.stopped = f"--max-pages {limit} reached"
            raise _Stop
        self._requests_started += 1
        accept = accepts_page if entry.role == "page" else accepts_sitemap
        try:
            async with self._gate.slot(site_of(entry.url)):
                response = await fetcher.fetch(
                    entry.url, etag=entry.etag, last_modified=entry.last_modified, accept=accept
                )
        except UnsupportedContentError as exc:
            self._finish(entry, "skipped", reason=exc.reason, keep_validators=True)
            return
        except FetchError as exc:
            self._finish(entry, "failed", reason=exc.reason, keep_validators=True)
            return
        finally:
            self.report.fetches += 1
        if response.not_modified:
            await self._on_not_modified(entry, source)
        elif entry.role == "page":
            await self._on_page(entry, source, response)
        else:
            try:
                reason = self._on_listing(entry, source, response.content, response.url)
            except InputError as exc:
                self._finish(entry, "failed", reason=exc.reason, response=response)
                return
            self._finish(entry, "listed", response=response, raw=response.content, reason=reason)

    # ----- what a response leads to -----------------------------------------------------------

    def _on_listing(self, entry: FrontierEntry, source: Source, content: bytes, base_url: str) -> str:
        """Queue what a feed, sitemap or robots.txt lists; raises InputError for a broken document."""
        from shadowmatch_kb.crawl.discover import parse_feed, parse_sitemap, sitemaps_from_robots
        from shadowmatch_kb.fetch.decode import decode_body

        found: list[QueuedUrl] = []
        if entry.role == "robots":
            for url in sitemaps_from_robots(decode_body(content, None), base_url=base_url):
                found.append(QueuedUrl(url, source.name, "sitemap", entry.depth))
        else:
            links = (
                parse_feed(content, base_url=base_url)
                if entry.role == "feed"
                else parse_sitemap(content, base_url=base_url)
            )
            for link in links:
                if link.kind == "sitemap":
                    found.append(QueuedUrl(link.url, source.name, "sitemap", entry.depth))
                elif self._wanted(source, link.url, link.published):
                    found.append(QueuedUrl(link.url, source.name, "page", entry.depth + 1, link.published))
        queued = self.frontier.enqueue(found)
        return f"{len(found)} links, {queued} queued"

    def _wanted(self, source: Source, url: str, listed: str | None) -> bool:
        if not source.accepts(url):
            return False
        if self.options.since and listed and listed[:10] < self.options.since:
            self.report.older_than_since += 1
            return False
        return True

    async def _on_not_modified(self, entry: FrontierEntry, source: Source) -> None:
        # Nothing changed: no re-extraction. A listing page's links are read again from its kept body,
        # so the pages it lists are revisited (each at the cost of one conditional request).
        body = self.frontier.stored_body(entry.url) if self._follows_links(entry, source) else None
        if body is not None:
            try:
                if entry.role == "page":
                    loop = asyncio.get_running_loop()
                    links = await loop.run_in_executor(self._extractor(), links_of_page, body, None, entry.url)
                    self._queue_links(entry, source, links)
                else:
                    self._on_listing(entry, source, body, entry.url)
            except InputError:
                pass
        self._finish(entry, "unchanged", reason="not modified (304)", keep_validators=True, item_id=entry.item_id)

    def _follows_links(self, entry: FrontierEntry, source: Source) -> bool:
        if entry.role != "page":
            return True
        return source.kind == "site" and entry.depth < source.max_depth

    async def _on_page(self, entry: FrontierEntry, source: Source, response: FetchResponse) -> None:
        if response.content_type not in ("text/html", "application/xhtml+xml", "text/plain"):
            self._finish(entry, "skipped", reason=f"not a web page: {response.content_type}", response=response)
            return
        follow = self._follows_links(entry, source)
        page = await self._analyse(response.content, response.charset, response.url, response.content_type, follow)
        self._queue_links(entry, source, page.links)
        raw = response.content if follow else None
        if page.skip_reason:
            self._finish(entry, "skipped", reason=page.skip_reason, response=response, raw=raw)
            return
        if self.options.since and page.published and page.published < self.options.since:
            self._finish(entry, "skipped", reason=f"published {page.published}, before --since", response=response)
            return
        stored = RawInput(response.url, response.content_type, response.content)
        outcome, item_id, reason = self.pages.store_page(page, stored, source=source)
        self._finish(entry, outcome, reason=reason, item_id=item_id, response=response, raw=raw)

    def _queue_links(self, entry: FrontierEntry, source: Source, links: list[str]) -> None:
        if not links or not self._follows_links(entry, source):
            return
        home = urlsplit(source.url).hostname
        found = [
            QueuedUrl(url, source.name, "page", entry.depth + 1)
            for url in links
            if (not source.same_site or urlsplit(url).hostname == home) and source.accepts(url)
        ]
        self.frontier.enqueue(found)

    async def _analyse(
        self, content: bytes, charset: str | None, url: str, media_type: str, links: bool
    ) -> PageAnalysis:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._extractor(), analyse_page, content, charset, url, media_type, links)

    def _extractor(self) -> Executor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1)
        return self._executor

    # ----- recording ---------------------------------------------------------------------

    def _finish(
        self,
        entry: FrontierEntry,
        outcome: str,
        *,
        reason: str | None = None,
        item_id: str | None = None,
        response: FetchResponse | None = None,
        raw: bytes | None = None,
        fetched: bool = True,
        keep_validators: bool = False,
    ) -> None:
        self.frontier.record(
            entry.url,
            outcome,
            reason=reason,
            fetched=fetched,
            etag=response.etag if response else None,
            last_modified=response.last_modified if response else None,
            item_id=item_id,
            raw=raw,
            keep_validators=keep_validators or response is None,
        )
        event = CrawlEvent(entry.url, entry.source, urlsplit(entry.url).netloc, outcome, reason, item_id)
        self.report.add(event)
        if not isinstance(self._observer, NullObserver):
            now = time.monotonic()
            # Counting the queue is a query: a display redrawn a few times a second needs no more.
            if now - self._queued_at > 0.2:
                self._queued, self._queued_at = self.frontier.queued_count(list(self.sources)), now
            self._observer.url_done(event, self._queued)
