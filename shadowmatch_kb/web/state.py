"""The server's hold on one knowledge base: reading threads with their own connections, and one writer.

SQLite connections belong to the thread that opened them, so each reading thread keeps its own knowledge
base; a request runs on the least busy one. Answers to questions asked before are kept per thread while
the record is unchanged (bookmarked briefings, the home page's examples).
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from shadowmatch_kb.kb import KnowledgeBase
from shadowmatch_kb.web.review import WRITE_WAIT_S, Review

__all__ = ["ANSWERS_KEPT", "READERS", "WebState"]

READERS = max(2, min(os.cpu_count() or 2, 4))
ANSWERS_KEPT = 256  # briefings and searches remembered per reading thread
T = TypeVar("T")


class _Reader:
    """One knowledge-base connection and the thread that uses it (SQLite connections stay on their thread)."""

    def __init__(self, kb: KnowledgeBase, name: str) -> None:
        self.kb = kb
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.busy = 0
        # What every page shows, kept until another connection writes to the record.
        self.footer: tuple[int | None, dict[str, Any]] | None = None
        self.sectors: tuple[int | None, dict[str, int]] | None = None
        # Answers to questions asked before (bookmarked briefings, the home page's examples), by question.
        self.answers: OrderedDict[tuple[Any, ...], Any] = OrderedDict()


class WebState:
    """The knowledge base of one server: reading threads, each with its own connection, and one writer."""

    def __init__(
        self,
        kb_dir: str | Path | None,
        analyst_token: str | None = None,
        write_wait: float = WRITE_WAIT_S,
        readers: int = READERS,
        **options: Any,
    ) -> None:
        first = KnowledgeBase.open(kb_dir, **options)
        self.kb = first  # for its configuration; requests read through ``read``
        self._readers = [_Reader(first, "smkb-read-0")] + [
            _Reader(KnowledgeBase(first.config), f"smkb-read-{n}") for n in range(1, max(1, readers))
        ]
        self.review = Review(analyst_token)
        # Writes get their own connection and thread, and wait only briefly for the write lock, so an
        # import that holds it makes a write fail fast instead of stalling reads.
        self.writer = _Reader(KnowledgeBase(replace(first.config, lock_timeout=write_wait)), "smkb-write")

    @property
    def readers(self) -> int:
        """How many reading threads answer requests."""
        return len(self._readers)

    async def read(self, function: Callable[[KnowledgeBase], T], *, key: tuple[Any, ...] | None = None) -> T:
        """Run ``function(kb)`` on the least busy reading thread; with a ``key``, an answer given before
        for the same key is given again while the record is unchanged."""
        reader = min(self._readers, key=lambda r: r.busy)
        reader.busy += 1
        try:
            loop = asyncio.get_running_loop()
            call = partial(self._answer, reader, key, function)
            return await loop.run_in_executor(reader.worker, call)
        finally:
            reader.busy -= 1

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
        return await loop.run_in_executor(self.writer.worker, partial(function, self.writer.kb))

    async def warm(self) -> None:
        """Load the model, the index and the caches in every reader now, so no request waits for them."""
        await asyncio.gather(
            *(
                asyncio.get_running_loop().run_in_executor(reader.worker, partial(self._warm, reader))
                for reader in self._readers
            )
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
        return next(r for r in self._readers if r.kb is kb)

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
        for reader in [*self._readers, self.writer]:
            reader.worker.submit(reader.kb.close).result()
            reader.worker.shutdown(wait=True)
