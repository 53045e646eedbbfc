"""CachingEmbedder: repeated short texts are embedded once, and the vectors are those of the model."""

from __future__ import annotations

import os

import numpy as np
import pytest

from shadowmatch_kb.embed.cache import CachingEmbedder


class _Fake:
    """Distinct unit vectors per text, and a record of what was asked."""

    model_name = "fake"
    dimension = 8

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        self.asked.append(list(texts))
        rows = np.array([[hash((t, k)) % 1000 + 1 for k in range(8)] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_repeats_within_and_across_batches_are_embedded_once() -> None:
    inner = _Fake()
    cache = CachingEmbedder(inner)
    first = cache.embed_batch(["job losses", "care work", "job losses"])
    assert inner.asked == [["job losses", "care work"]]
    assert np.array_equal(first[0], first[2])
    second = cache.embed_batch(["care work", "new roles"])
    assert inner.asked[-1] == ["new roles"]
    assert np.array_equal(second[0], first[1])
    assert (cache.hits, cache.misses) == (1, 3)
    assert cache.embed_batch([]).shape == (0, 8)


def test_long_texts_are_not_kept_and_the_oldest_entries_go_first() -> None:
    inner = _Fake()
    cache = CachingEmbedder(inner, max_entries=2, max_chars=20)
    long_text = "a sentence far longer than twenty characters"
    cache.embed_batch([long_text])
    cache.embed_batch([long_text])
    assert inner.asked == [[long_text], [long_text]]
    cache.embed_batch(["one", "two", "three"])
    cache.embed_batch(["one"])  # evicted: only "two" and "three" were kept
    assert inner.asked[-1] == ["one"]


@pytest.mark.slow
def test_cached_vectors_equal_the_real_model() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    model = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    cache = CachingEmbedder(model)
    texts = ["artificial intelligence", "nurses and doctors", "artificial intelligence"]
    cached = cache.embed_batch(texts)
    again = cache.embed_batch(texts)
    assert np.allclose(cached, model.embed_batch(texts), atol=1e-5)
    assert np.array_equal(cached, again) and cache.hits == 3
