"""Bring a vector index in line with the store: embed what is new or changed, drop what is gone.

Content hashes make this idempotent: an item whose hash the index already holds is never
embedded again, so rerunning after a crash only does the work that was lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.embed.chunking import chunk_text, item_embedding_text
from shadowmatch_kb.index.base import VectorIndex
from shadowmatch_kb.progress import NullProgress, Progress
from shadowmatch_kb.store.sqlite import SqliteStore

__all__ = ["SyncReport", "pending_changes", "sync_index"]

# Items embedded per model call. The ONNX embedder sorts a call's texts by length, so a bigger call pads less:
# on scripts/bench_index.py the import's overhead over encoding the same texts at once was 19.6 % at 32 items and
# 0.9 % at 128, and progress still moves every few seconds.
BATCH_ITEMS = 128
# A flat index rewrites its files on flush, so flush rarely during big imports but never lose much.
FLUSH_EVERY_SECONDS = 120.0


@dataclass
class SyncReport:
    """What one sync did."""

    embedded: int = 0
    removed: int = 0
    chunks: int = 0
    seconds: float = 0.0


def pending_changes(store: SqliteStore, index: VectorIndex) -> tuple[list[str], list[str]]:
    """Ids to (re)embed and ids to remove so the index matches the store."""
    wanted = store.content_hashes()
    held = index.entries()
    to_embed = sorted(i for i, h in wanted.items() if i not in held or held[i].content_hash != h)
    to_remove = sorted(i for i in held if i not in wanted)
    return to_embed, to_remove


def sync_index(
    store: SqliteStore,
    index: VectorIndex,
    embedder_factory: Callable[[], Embedder],
    *,
    progress: Progress | None = None,
) -> SyncReport:
    """Embed new and changed items into ``index`` and remove deleted ones, then flush."""
    progress = progress or NullProgress()
    started = time.monotonic()
    to_embed, to_remove = pending_changes(store, index)
    report = SyncReport(removed=len(to_remove))
    if to_remove:
        index.delete(to_remove)
    if to_embed:
        # The model loads only when there is something to embed: re-imports of unchanged files stay fast.
        embedder = embedder_factory()
        wanted = set(to_embed)
        progress.start("Embedding", len(to_embed))
        batch: list[tuple[str, str, str, str, str]] = []
        last_flush = time.monotonic()
        for row in store.iter_index_inputs():
            if row[0] not in wanted:
                continue
            batch.append(tuple(row))  # type: ignore[arg-type]
            if len(batch) >= BATCH_ITEMS:
                report.chunks += _embed_batch(batch, index, embedder)
                report.embedded += len(batch)
                progress.advance(len(batch))
                batch = []
                if time.monotonic() - last_flush > FLUSH_EVERY_SECONDS:
                    index.flush()
                    last_flush = time.monotonic()
        if batch:
            report.chunks += _embed_batch(batch, index, embedder)
            report.embedded += len(batch)
            progress.advance(len(batch))
        progress.finish()
    if to_embed or to_remove:
        index.flush()
    report.seconds = time.monotonic() - started
    return report


def _embed_batch(rows: list[tuple[str, str, str, str, str]], index: VectorIndex, embedder: Embedder) -> int:
    texts: list[str] = []
    spans: list[tuple[int, int]] = []
    for _, _, title, summary, text in rows:
        chunks = chunk_text(text)
        start = len(texts)
        texts.append(item_embedding_text(title, summary, text))
        texts.extend(chunks)
        spans.append((start, len(texts)))
    vectors = np.asarray(embedder.embed_batch(texts), dtype=np.float32)
    for (item_id, content_hash, *_), (start, end) in zip(rows, spans, strict=True):
        chunk_vectors = vectors[start + 1 : end]
        if len(chunk_vectors) == 0:
            chunk_vectors = np.zeros((0, vectors.shape[1]), dtype=np.float32)
        index.upsert(item_id, content_hash, vectors[start], chunk_vectors)
    return len(texts) - len(rows)
