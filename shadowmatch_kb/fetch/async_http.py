"""The one fetcher: every network read of the project goes through ``AsyncFetcher``.

The crawler awaits it directly; synchronous callers (``smkb ingest URL``) use the blocking face in
``fetch.blocking``, which runs this same code. Redirects (each hop checked), size limits, accepted
media types, timeouts, retries with backoff and conditional GETs are decided here and nowhere else.

Every failure is a ``FetchError`` whose reason is one line; a media type the caller does not read is
its subclass ``UnsupportedContentError``. No httpx or httpcore exception leaves ``AsyncFetcher.fetch``.

Address safety is decided where the connection is made (``fetch.pinned``): the host is resolved
once, refused unless every address is public, and connected to at the address that was checked.
Callers receive their fetchers from a ``FetcherFactory`` (``AsyncFetcher`` itself is the standard
one), so a test can hand in one whose transport is a loopback server or a function.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol
from urllib.parse import urljoin

import httpx

# The default lives with the other settings; it is re-exported here, beside the options that use it.
from shadowmatch_kb.config import DEFAULT_USER_AGENT
from shadowmatch_kb.errors import FetchError, UnsupportedContentError
from shadowmatch_kb.fetch.decode import decode_body, parse_content_type
from shadowmatch_kb.fetch.pinned import PinnedTransport, RefusedConnection, checked_addresses, one_line
from shadowmatch_kb.fetch.safety import DEFAULT_PORTS, canonicalize_url, check_url_allowed

__all__ = [
    "DEFAULT_USER_AGENT",
    "AsyncFetcher",
    "FetchOptions",
    "FetchResponse",
    "FetcherFactory",
    "Pace",
    "accepts_page",
    "accepts_sitemap",
]

ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,application/rss+xml;q=0.9,"
    "application/atom+xml;q=0.9,application/json;q=0.8,text/plain;q=0.8,*/*;q=0.5"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
PAGE_TYPES = frozenset(
    ["text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml"]
    + ["application/json", "application/feed+json"]  # JSON Feed
)
GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip", "application/octet-stream"})
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class FetchOptions:
    """Limits and manners of one fetcher."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 20.0  # connect, read, write and pool wait, and a deadline for the whole body
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    retries: int = 3  # extra attempts on 429, 500, 502, 503, 504 and connection errors, never on timeouts
    backoff: float = 0.5  # the first retry's wait; it doubles with each attempt
    max_retry_wait: float = 120.0  # a longer Retry-After fails at once rather than stall the crawl


@dataclass
class FetchResponse:
    """One successful answer (2xx, or 304 to a conditional GET), after redirects and retries."""

    url: str  # final URL, canonical
    requested_url: str
    status: int
    content: bytes  # b"" for 304
    content_type: str  # media type only, lower case; "" for 304
    charset: str | None
    etag: str | None
    last_modified: str | None
    attempts: int = 1  # requests made for the final URL, retries included
    redirects: list[str] = field(default_factory=list)  # canonical URLs that answered with a redirect, in order
    retry_waits: list[float] = field(default_factory=list)  # seconds slept before each retry, on every hop
    headers: dict[str, str] = field(default_factory=dict)  # of the final response, names in lower case

    @property
    def not_modified(self) -> bool:
        """True when the server answered 304: the copy the caller holds is still current."""
        return self.status == 304

    def text(self) -> str:
        """Return the body decoded with the best charset evidence available."""
        return decode_body(self.content, self.charset)


def accepts_page(media_type: str) -> bool:
    """Return True for media types read as pages, feeds or sitemaps (HTML, XML, plain text, JSON)."""
    return media_type in PAGE_TYPES or media_type.endswith("+xml")


def accepts_sitemap(media_type: str) -> bool:
    """Return True for what accepts_page takes plus the types gzipped sitemaps are served as."""
    # Servers label .xml.gz files with these too; the sitemap parser sniffs the body (gzip magic, XML)
    # and refuses anything that is not a sitemap, so accepting the label risks nothing.
    mislabelled = ("binary/octet-stream", "application/x-gzip-compressed", "application/gzip-compressed")
    return accepts_page(media_type) or media_type in GZIP_TYPES or media_type in mislabelled


# Awaited with the URL before every request of a fetch but the first: how a polite caller spaces them.
Pace = Callable[[str], Awaitable[None]]


class FetcherFactory(Protocol):
    """Builds the fetchers a caller uses; ``AsyncFetcher`` itself is the standard, pinned one."""

    def __call__(
        self, options: FetchOptions | None = None, *, allow_private: bool = False, pace: Pace | None = None
    ) -> AsyncFetcher:
        """Return a fetcher with these limits that reaches private addresses only if allowed."""
        ...


# --- the fetcher ------------------------------------------------------------------------------------


class _Retryable(Exception):
    """An attempt failed in a way worth trying again: a 429 or 5xx status, or a broken connection."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


@dataclass
class _Job:
    """One call to fetch: what was asked, and what it has done so far across hops."""

    url: str
    headers: dict[str, str]
    accept: Callable[[str], bool]
    status: int | None = None  # of the latest response, for errors that a status explains
    attempts: int = 0
    redirects: list[str] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)


def _retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (delta seconds or an HTTP date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _sniff_media_type(content: bytes) -> str:
    """Guess the media type of a body sent without Content-Type; "" when it is not something we read."""
    if content.startswith(_GZIP_MAGIC):
        return "application/gzip"
    head = content[:64].removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<?xml"):
        return "application/xml"
    if head.startswith(b"<"):
        return "text/html"
    if head.startswith(b"{"):
        return "application/json"
    return ""


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    link: BaseException | None = exc
    for _ in range(16):  # bounded: a chain can loop back on itself
        if link is None:
            return False
        if isinstance(link, kind):
            return True
        link = link.__cause__ or link.__context__
    return False


def _status_line(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()


def _refused(job: _Job, current: str, reason: str) -> FetchError:
    if current == job.url:
        return FetchError(job.url, reason)
    return FetchError(job.url, f"redirect to {current} refused: {reason}")


class AsyncFetcher:
    """Fetches URLs concurrently with one pooled httpx client, checking every hop's address."""

    def __init__(
        self,
        options: FetchOptions | None = None,
        *,
        allow_private: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        pace: Pace | None = None,
    ) -> None:
        """``pace(url)`` is awaited before every request but the first of a fetch (redirect hops and
        retries), so a polite caller can space those too."""
        self.options = options or FetchOptions()
        self._pace = pace
        self.allow_private = allow_private
        # A transport handed in cannot pin addresses, so each hop is then checked before the request.
        self._pinned = transport is None
        self._sleep = sleep
        self._client = httpx.AsyncClient(
            transport=transport if transport is not None else PinnedTransport(allow_private=allow_private),
            timeout=self.options.timeout,
            # Redirects are followed by hand so each hop's scheme and address are checked first.
            follow_redirects=False,
            headers={"User-Agent": self.options.user_agent, "Accept": ACCEPT},
        )

    async def __aenter__(self) -> AsyncFetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: Callable[[str], bool] = accepts_page,
    ) -> FetchResponse:
        """Fetch a URL (conditionally when validators are given); raise FetchError on any failure."""
        job = _Job(url, {}, accept)
        if etag:
            job.headers["If-None-Match"] = etag
        if last_modified:
            job.headers["If-Modified-Since"] = last_modified
        current = url
        # Exact URLs, not canonical ones: sites often redirect ?utm_source=... to the same page without it.
        seen = {url}
        for hop in range(self.options.max_redirects + 1):
            if hop and self._pace is not None:
                await self._pace(current)
            await self._check_hop(job, current)
            answer = await self._get(job, current)
            if isinstance(answer, FetchResponse):
                return answer
            if answer in seen:
                raise FetchError(url, f"redirect loop: {current} redirects back to {answer}", status=job.status)
            seen.add(answer)
            job.redirects.append(canonicalize_url(current))
            current = answer
        raise FetchError(url, f"too many redirects (more than {self.options.max_redirects})", status=job.status)

    async def _check_hop(self, job: _Job, current: str) -> None:
        """Check a hop's scheme; without the pinned backend, check its addresses here as well."""
        try:
            check_url_allowed(current, allow_private=True)  # scheme, host and port only: no DNS
            parsed = httpx.URL(current)
            host = parsed.host  # httpx is stricter than urlsplit about names: better to fail here, in one line
            if self._pinned or self.allow_private:
                return
            async with asyncio.timeout(self.options.timeout):
                await checked_addresses(host, parsed.port or DEFAULT_PORTS[parsed.scheme], allow_private=False)
        except (FetchError, RefusedConnection) as exc:
            raise _refused(job, current, exc.reason) from exc
        except (httpx.InvalidURL, ValueError) as exc:  # ValueError covers UnicodeError from IDNA
            raise _refused(job, current, f"invalid URL: {one_line(exc)}") from exc
        except TimeoutError as exc:
            raise FetchError(job.url, f"timed out after {self.options.timeout:g}s resolving {current}") from exc

    async def _get(self, job: _Job, current: str) -> FetchResponse | str:
        """Request one hop, retrying what is worth retrying; return the answer or the redirect target."""
        job.attempts = 0
        while True:
            job.attempts += 1
            try:
                return await self._attempt(job, current)
            except _Retryable as retryable:
                failure = retryable
            if job.attempts > self.options.retries:
                suffix = f" after {job.attempts} attempts" if job.attempts > 1 else ""
                raise FetchError(job.url, f"{failure.reason}{suffix}", status=failure.status)
            if failure.retry_after is not None and failure.retry_after > self.options.max_retry_wait:
                raise FetchError(
                    job.url,
                    f"{failure.reason}, Retry-After {failure.retry_after:.0f}s is longer than "
                    f"the {self.options.max_retry_wait:g}s this fetcher waits",
                    status=failure.status,
                )
            wait = self._wait(job.attempts, failure.retry_after)
            job.waits.append(wait)
            await self._sleep(wait)
            if self._pace is not None:
                await self._pace(current)

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        backoff = self.options.backoff * 2 ** (attempt - 1)
        # A little jitter keeps many fetches that failed together from all retrying in the same instant.
        backoff = min(backoff + random.uniform(0, backoff / 10), self.options.max_retry_wait)
        return max(retry_after or 0.0, backoff)

    async def _attempt(self, job: _Job, current: str) -> FetchResponse | str:
        """Make one request and turn every way it can fail into FetchError or _Retryable."""
        try:
            async with self._client.stream("GET", current, headers=job.headers) as response:
                return await self._answer(job, response)
        except RefusedConnection as exc:
            raise _refused(job, current, exc.reason) from exc
        except httpx.TimeoutException as exc:
            # Not retried: a server too slow to answer once is rarely quicker the second time.
            raise FetchError(job.url, f"timed out after {self.options.timeout:g}s ({type(exc).__name__})") from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:  # refused, reset, closed early
            reason = f"{type(exc).__name__}: {one_line(exc)}"
            if _caused_by(exc, ssl.SSLError):  # a certificate that fails now fails on every retry too
                raise FetchError(job.url, reason) from exc
            raise _Retryable(reason) from exc
        except httpx.HTTPError as exc:  # a protocol error, an unsupported URL
            raise FetchError(job.url, f"{type(exc).__name__}: {one_line(exc)}") from exc
        except httpx.InvalidURL as exc:
            raise FetchError(job.url, f"invalid URL: {one_line(exc)}") from exc

    async def _answer(self, job: _Job, response: httpx.Response) -> FetchResponse | str:
        """Judge a response by its status and headers, and read the body only if it is wanted."""
        status = job.status = response.status_code
        if status in REDIRECT_STATUSES:
            location = response.headers.get("location", "").strip()
            if not location:
                raise FetchError(job.url, f"HTTP {status} redirect without a Location header", status=status)
            try:
                return urljoin(str(response.url), location)
            except ValueError as exc:
                reason = f"HTTP {status} redirect to an invalid URL: {one_line(exc)}"
                raise FetchError(job.url, reason, status=status) from exc
        if status in RETRY_STATUSES:
            retry_after = _retry_after(response.headers.get("retry-after"))
            raise _Retryable(_status_line(response), status=status, retry_after=retry_after)
        if status == 304:
            return self._respond(job, response)
        if not 200 <= status < 300:
            raise FetchError(job.url, _status_line(response), status=status)
        media_type, charset = parse_content_type(response.headers.get("content-type", ""))
        if media_type and not job.accept(media_type):
            raise UnsupportedContentError(job.url, f"not a page: {media_type}")
        content = await self._read_body(job, response)
        if not media_type:
            media_type = _sniff_media_type(content)
            if not media_type or not job.accept(media_type):
                raise UnsupportedContentError(job.url, "not a page: no Content-Type, and the body is not markup")
        return self._respond(job, response, content, media_type, charset)

    def _respond(
        self,
        job: _Job,
        response: httpx.Response,
        content: bytes = b"",
        media_type: str = "",
        charset: str | None = None,
    ) -> FetchResponse:
        etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        if response.status_code == 304:
            # A 304 may omit the validators; the ones the caller sent are then still the current ones.
            etag = etag or job.headers.get("If-None-Match")
            modified = modified or job.headers.get("If-Modified-Since")
        return FetchResponse(
            url=canonicalize_url(str(response.url)),
            requested_url=job.url,
            status=response.status_code,
            content=content,
            content_type=media_type,
            charset=charset,
            etag=etag,
            last_modified=modified,
            attempts=job.attempts,
            redirects=job.redirects,
            retry_waits=job.waits,
            headers=dict(response.headers.items()),
        )

    async def _read_body(self, job: _Job, response: httpx.Response) -> bytes:
        limit = self.options.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(job.url, f"page larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            # Each read has its own timeout; this deadline bounds a server that trickles bytes forever.
            async with asyncio.timeout(self.options.timeout):
                async for chunk in response.aiter_bytes():
                    size += len(chunk)  # decoded bytes, so a small gzip bomb is cut off too
                    if size > limit:
                        raise FetchError(job.url, f"page larger than {limit} bytes")
                    chunks.append(chunk)
        except TimeoutError as exc:
            raise FetchError(job.url, f"timed out after {self.options.timeout:g}s reading the body") from exc
        return b"".join(chunks)
