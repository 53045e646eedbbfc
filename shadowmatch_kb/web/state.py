"""The server's hold on one knowledge base: reading threads with their own connections, and one writer.

SQLite connections belong to the thread that opened them, so each reading thread keeps its own knowledge
base; a request runs on the least busy one. Answers to questions asked before are kept per thread while
the record is unchanged (bookmarked briefings, the home page's examples).

A thread cannot be stopped, so one slow request (a briefing over a planted item took minutes) holds its
thread until it ends. Requests are bounded instead: each waits at most ``request_timeout`` for its answer
and is then told the server is busy (``ServerBusy``, a 503), while the work goes on and its thread counts
as busy until it ends, so new requests go to the others. Work that has not started when its request gives
up (the wait ran out, or the client left) is dropped. The footer every page shows, and /healthz, are read
on a thread of their own, so they never wait behind a briefing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from shadowmatch_kb.kb import KnowledgeBase
from shadowmatch_kb.web.review import WRITE_WAIT_S, Review

__all__ = ["ANSWERS_KEPT", "READERS", "REQUEST_TIMEOUT_S", "ServerBusy", "WebState"]

_log = logging.getLogger(__name__)  # debug lines only: `smkb serve -v` shows them

# Reading threads: one per core, as the model, SQLite and numpy release the GIL; at most 4 by default,
# as each holds its own copy of the model (about 100 MB).
READERS = max(2, min(os.cpu_count() or 2, 4))
ANSWERS_KEPT = 256  # briefings and searches remembered per reading thread
REQUEST_TIMEOUT_S = 20.0  # a warm briefing takes well under a second; twenty means something is wrong
FOOTER_TIMEOUT_S = 5.0  # two cheap queries on a thread of their own
T = TypeVar("T")


class ServerBusy(Exception):
    """No answer within the request's time limit, as the reading threads are busy: answered with 503."""


class _Reader:
    """One knowledge-base connection and the thread that uses it (SQLite connections stay on their thread)."""

    def __init__(self, kb: KnowledgeBase, name: str) -> None:
        self.kb = kb
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        # Work queued or running here; work ends on this thread and is cancelled on the event loop's.
        self.busy = 0
        self._busy_lock = threading.Lock()
        # What every page shows, kept until another connection writes to the record.
        self.footer: tuple[int | None, dict[str, Any]] | None = None
        self.sectors: tuple[int | None, dict[str, int]] | None = None
        # Answers to questions asked before (bookmarked briefings, the home page's examples), by question.
        self.answers: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def take(self) -> None:
        """Count one more piece of work on this thread."""
        with self._busy_lock:
            self.busy += 1

    def release(self, _job: Future[Any]) -> None:
        """Count one piece of work as ended (done, failed or dropped)."""
        with self._busy_lock:
            self.busy -= 1


class WebState:
    """The knowledge base of one server: reading threads, each with its own connection, and one writer."""

    def __init__(
        self,
        kb_dir: str | Path | None,
        analyst_token: str | None = None,
        write_wait: float = WRITE_WAIT_S,
        readers: int = READERS,
        request_timeout: float = REQUEST_TIMEOUT_S,
        **options: Any,
    ) -> None:
        # Checked before anything opens, so a refused token leaves no threads or connections behind.
        self.review = Review(analyst_token)
        first = KnowledgeBase.open(kb_dir, **options)
        self.kb = first  # for its configuration; requests read through ``read``
        self.request_timeout = request_timeout
        self._readers = [_Reader(first, "smkb-read-0")] + [
            _Reader(KnowledgeBase(first.config), f"smkb-read-{n}") for n in range(1, max(1, readers))
        ]
        self.health = _Reader(KnowledgeBase(first.config), "smkb-health")
        # Writes get their own connection and thread, and wait only briefly for the write lock, so an
        # import that holds it makes a write fail fast instead of stalling reads.
        self.writer = _Reader(KnowledgeBase(replace(first.config, lock_timeout=write_wait)), "smkb-write")

    @property
    def readers(self) -> int:
        """How many reading threads answer requests."""
        return len(self._readers)

    async def read(self, function: Callable[[KnowledgeBase], T], *, key: tuple[Any, ...] | None = None) -> T:
        """Run ``function(kb)`` on the least busy reading thread, waiting at most the request time limit;
        with a ``key``, an answer given before for the same key is given again while the record is unchanged."""
        reader = min(self._readers, key=lambda r: r.busy)
        if _log.isEnabledFor(logging.DEBUG):  # `smkb serve -v`: which thread answers, and how busy they all are
            busy = ", ".join(str(r.busy) for r in self._readers)
            _log.debug("reader %d of %d takes it (busy: %s)", self._readers.index(reader) + 1, len(self._readers), busy)
        return await self._run(reader, partial(self._answer, reader, key, function), self.request_timeout)

    async def footer_now(self) -> dict[str, Any]:
        """The footer, read on a thread of its own so it never waits behind a briefing (/healthz, every page)."""
        return await self._run(self.health, partial(self._answer, self.health, None, self.footer), FOOTER_TIMEOUT_S)

    @staticmethod
    async def _run(reader: _Reader, call: Callable[[], T], timeout: float) -> T:
        reader.take()
        job = reader.worker.submit(call)
        job.add_done_callback(reader.release)
        answer = asyncio.wrap_future(job)
        try:
            # Not ``wait_for``: it would take a TimeoutError raised by the work for its own.
            done, _ = await asyncio.wait({answer}, timeout=timeout)
            if not done:
                raise ServerBusy(f"no answer within {timeout:g} s")
            return answer.result()
        finally:
            # Work not yet started never will be; work running goes on, its answer unread. The job itself
            # is cancelled here, at once: the wrapper passes its cancel on only a turn of the loop later,
            # by when the 503 may be out, the thread free and the job started.
            job.cancel()
            answer.cancel()

    @classmethod
    def _answer(cls, reader: _Reader, key: tuple[Any, ...] | None, function: Callable[[KnowledgeBase], T]) -> T:
        try:
            return function(reader.kb) if key is None else cls._remembered(reader, key, function)
        finally:
            # A page shows what it needs of a result's notices (the tracker's); the rest are not kept, so a
            # long-running server never accumulates them.
            reader.kb.take_notices()

    @staticmethod
    def _remembered(reader: _Reader, key: tuple[Any, ...], function: Callable[[KnowledgeBase], T]) -> T:
        version = reader.kb.version()
        if version is None:
            return function(reader.kb)
        # The day is part of the key: a briefing weighs items by their age.
        full_key = (version, date.today().isoformat(), *key)
        if full_key in reader.answers:
            reader.answers.move_to_end(full_key)
            return reader.answers[full_key]  # type: ignore[no-any-return]
        answer = function(reader.kb)
        reader.answers[full_key] = answer
        while len(reader.answers) > ANSWERS_KEPT:
            reader.answers.popitem(last=False)
        return answer

    async def write(self, function: Callable[[KnowledgeBase], T]) -> T:
        """Run ``function(kb)`` on the writing thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.writer.worker, partial(self._write, function))

    def _write(self, function: Callable[[KnowledgeBase], T]) -> T:
        try:
            return function(self.writer.kb)
        finally:
            self.writer.kb.take_notices()  # as for reads: nothing piles up over the server's life

    async def warm(self) -> None:
        """Load the model, the index and the caches in every reader now, so no request waits for them."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(reader.worker, partial(self._warm, reader)) for reader in self._readers),
            loop.run_in_executor(self.health.worker, partial(self.footer, self.health.kb)),
        )

    def _warm(self, reader: _Reader) -> None:
        kb = reader.kb
        if not kb.exists:
            return
        kb.query_embedder()
        kb.signal_embedder()
        kb.sector_resolver()
        kb.index()
        kb.match_occupations("nurse", k=1)
        self.footer(kb)

    def _reader_of(self, kb: KnowledgeBase) -> _Reader:
        return next(r for r in [*self._readers, self.health, self.writer] if r.kb is kb)

    def footer(self, kb: KnowledgeBase) -> dict[str, Any]:
        """The item count and newest date every page shows."""
        reader, version = self._reader_of(kb), kb.version()
        if reader.footer is None or reader.footer[0] != version or version is None:
            reader.footer = (version, kb.size())
        return reader.footer[1]

    def sectors(self, kb: KnowledgeBase) -> dict[str, int]:
        """Sectors with their item counts, recomputed only after the record changed."""
        reader, version = self._reader_of(kb), kb.version()
        if reader.sectors is None or reader.sectors[0] != version or version is None:
            reader.sectors = (version, kb.sector_counts() if self.footer(kb)["items"] else {})
        return reader.sectors[1]

    def close(self) -> None:
        """Close each connection on its own thread (SQLite insists), then stop the threads."""
        for reader in [*self._readers, self.health, self.writer]:
            reader.worker.submit(reader.kb.close).result()
            reader.worker.shutdown(wait=True)
