"""CachingEmbedder: remembers the vectors of short texts that come back again and again.

Enriching a corpus embeds the same key phrases ("artificial intelligence", "job losses") for item after
item; each costs a model run that its first vector already answered.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from shadowmatch_kb.embed.base import Embedder

if TYPE_CHECKING:
    import numpy as np

__all__ = ["CachingEmbedder"]


class CachingEmbedder:
    """Wraps an embedder; texts of at most ``max_chars`` characters are kept, least recently used first out."""

    def __init__(self, inner: Embedder, *, max_entries: int = 20_000, max_chars: int = 80) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.dimension = inner.dimension
        self.max_entries = max_entries
        self.max_chars = max_chars
        self.hits = 0
        self.misses = 0
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts``: cached ones are copied, the rest embedded together in one call."""
        import numpy as np

        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for row, text in enumerate(texts):
            cached = self._vectors.get(text)
            if cached is None:
                missing.setdefault(text, []).append(row)
            else:
                self._vectors.move_to_end(text)
                out[row] = cached
        self.hits += len(texts) - sum(len(rows) for rows in missing.values())
        self.misses += len(missing)
        if missing:
            fresh = self.inner.embed_batch(list(missing))
            for (text, rows), vector in zip(missing.items(), fresh, strict=True):
                out[rows] = vector
                if len(text) <= self.max_chars:
                    self._vectors[text] = vector.copy()
            while len(self._vectors) > self.max_entries:
                self._vectors.popitem(last=False)
        return out
