"""The one fetcher for synchronous callers: ``BlockingFetcher`` runs ``AsyncFetcher`` to completion.

Nothing about a fetch is decided here. Redirects, limits, media types, timeouts and the pinned
address check all happen in ``fetch.async_http`` and ``fetch.pinned``; this module only gives code
that is not async (``smkb ingest URL``) a plain ``fetch(url)`` over the same fetcher.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from shadowmatch_kb.fetch.async_http import AsyncFetcher, FetchOptions, FetchResponse, accepts_page

__all__ = ["BlockingFetcher", "Fetcher"]


class Fetcher(Protocol):
    """What a synchronous reader of URLs needs: one page at a time, or a FetchError."""

    def fetch(self, url: str, *, accept: Callable[[str], bool] = accepts_page) -> FetchResponse:
        """Fetch a URL whose media type ``accept`` takes; raise FetchError on any failure."""
        ...


class BlockingFetcher:
    """An ``AsyncFetcher`` seen as a blocking client; call it from synchronous code, never from a coroutine.

    It owns one event loop for its whole life, so connections pooled by one fetch serve the next.
    """

    def __init__(self, fetcher: AsyncFetcher | None = None) -> None:
        self._fetcher = fetcher if fetcher is not None else AsyncFetcher()
        self._runner = asyncio.Runner()
        # An event loop runs one call at a time; threads that share this fetcher take turns.
        self._lock = threading.Lock()
        self._closed = False

    @property
    def options(self) -> FetchOptions:
        """The limits and manners of the fetcher underneath."""
        return self._fetcher.options

    def __enter__(self) -> BlockingFetcher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def fetch(self, url: str, *, accept: Callable[[str], bool] = accepts_page) -> FetchResponse:
        """Fetch a URL through the async fetcher and wait for it; raise FetchError on any failure."""
        with self._lock:
            return self._runner.run(self._fetcher.fetch(url, accept=accept))

    def close(self) -> None:
        """Close the connection pool and the event loop; closing twice does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._runner.run(self._fetcher.aclose())
            finally:
                self._runner.close()
