"""The VectorIndex protocol shared by the flat and the Chroma index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = ["IndexEntry", "VectorHit", "VectorIndex", "checked_vectors", "normalised"]


@dataclass(frozen=True)
class IndexEntry:
    """What an index knows of one item: its content hash and how many chunk vectors."""

    item_id: str
    content_hash: str
    chunks: int


@dataclass(frozen=True)
class VectorHit:
    """One item found by a vector query; ``score`` is cosine similarity."""

    item_id: str
    score: float
    chunk: int  # -1 for the item-level vector, else the chunk number that matched best


class VectorIndex(Protocol):
    """Item-level and chunk-level vectors, searchable by cosine similarity.

    Each item has one item vector and zero or more chunk vectors. ``upsert`` replaces
    everything stored for an item. ``model`` is the embedding model that built the index.
    """

    model: str
    dimension: int

    def upsert(
        self,
        item_id: str,
        content_hash: str,
        item_vector: np.ndarray,
        chunk_vectors: np.ndarray,
    ) -> None:
        """Store or replace an item's vectors (shape (dim,) and (n, dim))."""
        ...

    def delete(self, item_ids: list[str]) -> None:
        """Forget these items (unknown ids are ignored)."""
        ...

    def entries(self) -> dict[str, IndexEntry]:
        """Every item held, by id."""
        ...

    def item_vector(self, item_id: str) -> np.ndarray | None:
        """The item-level vector of one item, or None when absent."""
        ...

    def chunk_vectors(self, item_id: str) -> np.ndarray | None:
        """The chunk-level vectors of one item in chunk order (shape (n, dim), n may be 0), or None when absent."""
        ...

    def query_items(self, vector: np.ndarray, k: int, exclude: set[str] | None = None) -> list[VectorHit]:
        """Nearest items by their item-level vectors, best first."""
        ...

    def query_chunks(self, vector: np.ndarray, k: int) -> list[VectorHit]:
        """Nearest items by their best-matching chunk vector, best first, one hit per item."""
        ...

    def flush(self) -> None:
        """Make every change durable (atomically for file-based indexes)."""
        ...

    def refresh(self) -> None:
        """See what other processes committed since this one opened the index (a no-op where reads are live)."""
        ...


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Scale rows to unit length so a dot product is cosine similarity; zero rows stay zero."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.ascontiguousarray(vectors / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def checked_vectors(
    item_id: str, dimension: int, item_vector: np.ndarray, chunk_vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Validate an upsert's shapes and return unit-length (item, chunks); ValueError names the item."""
    item = normalised(np.asarray(item_vector, dtype=np.float32).reshape(-1))
    if item.shape != (dimension,):
        raise ValueError(f"item vector of {item_id} has shape {item.shape}, expected ({dimension},)")
    chunks = np.asarray(chunk_vectors, dtype=np.float32)
    if chunks.size == 0:
        chunks = np.zeros((0, dimension), dtype=np.float32)
    if chunks.ndim != 2 or chunks.shape[1] != dimension:
        raise ValueError(f"chunk vectors of {item_id} have shape {chunks.shape}, expected (n, {dimension})")
    return item, normalised(chunks)
