"""How Chroma's recall@10 depends on ef_search, on real embeddings and on hard random vectors.

This is the measurement behind the ChromaIndex default (DEFAULT_EF_SEARCH). For each ef_search
it reports recall@10 and p50 latency of ``query_items`` against exact search (numpy brute force,
the baseline, measured in the same run). Prints one JSON document.

    python scripts/bench_chroma_recall.py [--size 10000] [--queries 300] [--cache DIR]

Real embeddings are the cached sentence vectors of scripts/bench_index.py (from ../shared/data);
without that folder only the random vectors are measured.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_data import DEFAULT_CACHE, data_missing, real_vectors  # noqa: E402

EF_VALUES = (10, 20, 50, 100, 200, 500, 1000)
K = 10


def exact_top(matrix: np.ndarray, queries: np.ndarray) -> list[set[int]]:
    """The true top-K rows of every query."""
    scores = queries @ matrix.T
    return [set(np.argpartition(-row, K)[:K].tolist()) for row in scores]


def build(vectors: np.ndarray, workdir: Path, ef: int):
    """A fresh Chroma index created with ``ef`` as its ef_search; returns it and its build time."""
    from shadowmatch_kb.index.chroma import ChromaIndex

    index = ChromaIndex.persistent(workdir / f"ef{ef}", model="bench", dimension=vectors.shape[1], ef_search=ef)
    started = time.perf_counter()
    empty = np.zeros((0, vectors.shape[1]), dtype=np.float32)
    for row, vector in enumerate(vectors):
        index.upsert(str(row), "h", vector, empty)
    index.flush()
    return index, time.perf_counter() - started


def sweep(vectors: np.ndarray, queries: np.ndarray, workdir: Path) -> dict[str, object]:
    """For every ef_search, a collection created with it, queried with the same held-out queries."""
    from shadowmatch_kb.index.chroma import DEFAULT_EF_SEARCH

    truth = exact_top(vectors, queries)
    timings = []
    for query in queries[:50]:
        t0 = time.perf_counter()
        exact_top(vectors, query[None, :])
        timings.append((time.perf_counter() - t0) * 1000)
    by_ef: dict[str, dict[str, float]] = {}
    for ef in EF_VALUES:
        # Each setting gets its own collection: Chroma fixes the search parameters of a loaded index.
        index, build_s = build(vectors, workdir, ef)
        latencies, hits = [], 0
        for query, expected in zip(queries, truth, strict=True):
            t0 = time.perf_counter()
            found = index.query_items(query, K)
            latencies.append((time.perf_counter() - t0) * 1000)
            hits += len({int(h.item_id) for h in found} & expected)
        by_ef[str(ef)] = {
            "recall_at_10": round(hits / (K * len(queries)), 4),
            "p50_ms": round(statistics.median(latencies), 3),
            "build_s": round(build_s, 2),
        }
    return {
        "n": len(vectors),
        "by_ef_search": by_ef,
        "baseline_exact_numpy_p50_ms": round(statistics.median(timings), 3),
        "default_ef_search": DEFAULT_EF_SEARCH,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="vectors in the index")
    parser.add_argument("--queries", type=int, default=300, help="held-out queries")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where bench_index caches embeddings")
    args = parser.parse_args()
    report: dict[str, object] = {"k": K, "queries": args.queries}
    rng = np.random.default_rng(0)
    random = rng.normal(size=(args.size + args.queries, 384)).astype(np.float32)
    random /= np.linalg.norm(random, axis=1, keepdims=True)
    sets = {"random_384d": random}
    missing = data_missing()
    if missing:
        report["real_skipped"] = missing
    else:
        real, _ = real_vectors(args.size + args.queries, args.cache)
        sets = {"real_sentences": real, **sets}
    for name, vectors in sets.items():
        with tempfile.TemporaryDirectory() as workdir:
            report[name] = sweep(vectors[: args.size], vectors[args.size :], Path(workdir))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
