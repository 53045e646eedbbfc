"""How well the project's related items (`smkb related`, the Closest of `smkb show`) recall the real posts' own links.

The real Signals posts in ../shared/data/signals_posts list their Closest posts by 32-hex id; the project keeps
them as ``reference_closest`` on import. The posts and the bundled demo corpus (as a knowledge base user would
hold both) are imported into a temporary knowledge base with the real ``KnowledgeBase.ingest``. Every post
whose links point to other items of that knowledge base is a query; its relevant items are those links (a
copy's link counts for its original; self-links, an upstream defect of some posts, are dropped). Every
method ranks every other original of the knowledge base:

* ``related``: the project's ``KnowledgeBase.related`` (words and meaning fused, ``search/related.py``);
* ``tfidf``: TF-IDF cosine over title, summary and body, as scikit-learn's ``TfidfVectorizer`` does it by
  default (words of two or more letters or digits, smoothed idf, l2 norm, no stop words);
* ``bm25``: plain BM25 (``_eval_rankings.PlainBM25``: k1 = 1.2, b = 0.75, Porter stemming as the knowledge
  base's own full-text index stems) with every word of the item's title, summary and body as one OR query
  over the same text of every other item;
* ``dense``: cosine of the items' own vectors in the index alone (what ``related`` was before);
* ``bm25_dense_rrf``: reciprocal rank fusion (k = 60) of ``bm25`` and ``dense``.

Measures: recall@10, nDCG@10 (binary gains) and MRR@10, on two halves drawn before any tuning by the parity
of the first byte of SHA-256(id): ``dev`` (even), where the fusion's settings were chosen, and ``test`` (odd),
held out; ``all`` pools both. The target is recall@10 of ``related`` at least 1.3 times that of ``tfidf``.
Also the warm time of one ``related`` call. Prints one JSON document (progress on stderr); prints a JSON
reason and exits 0 when ../shared/data is absent.

Usage: python scripts/eval_related.py [--keep DIR|URL]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
POSTS = REPO.parent / "shared" / "data" / "signals_posts"
DEMO = REPO / "corpus" / "demo"
K = 10
TARGET_RATIO = 1.3
_WORD = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _eval_rankings import PlainBM25, rrf  # noqa: E402


def split_of(item_id: str) -> str:
    """The half a query belongs to, fixed by its id alone."""
    return "dev" if hashlib.sha256(item_id.encode()).digest()[0] % 2 == 0 else "test"


def words(text: str) -> list[str]:
    """Lowercased words of two or more letters or digits."""
    return _WORD.findall(text.lower())


def tfidf_similarity(texts: list[str]) -> np.ndarray:
    """Cosine of TF-IDF vectors, every text against every other."""
    counts = [Counter(words(t)) for t in texts]
    holders: Counter[str] = Counter()
    for c in counts:
        holders.update(c.keys())
    vocabulary = {w: n for n, w in enumerate(holders)}
    n = len(texts)
    matrix = np.zeros((n, len(vocabulary)))
    for row, c in enumerate(counts):
        for w, tf in c.items():
            matrix[row, vocabulary[w]] = tf * (math.log((1 + n) / (1 + holders[w])) + 1)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return matrix @ matrix.T


def ranked(scores: np.ndarray, ids: list[str], skip: set[str]) -> list[str]:
    """Ids by score, best first (ties by id), without ``skip``."""
    order = sorted(range(len(ids)), key=lambda j: (-scores[j], ids[j]))
    return [ids[j] for j in order if ids[j] not in skip]


def measures(ranking: Sequence[str], relevant: set[str]) -> dict[str, float]:
    """recall@K, nDCG@K (binary) and MRR@K of one ranking."""
    top = list(ranking[:K])
    dcg = sum(1 / math.log2(rank + 2) for rank, i in enumerate(top) if i in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), K)))
    first = next((rank for rank, i in enumerate(top, start=1) if i in relevant), None)
    return {
        "recall@10": len(set(top) & relevant) / len(relevant),
        "ndcg@10": dcg / ideal,
        "mrr@10": 1 / first if first else 0.0,
    }


def summary(rows: list[dict[str, Any]], methods: list[str]) -> dict[str, Any]:
    """Mean of each measure of each method over the rows of one half."""
    out: dict[str, Any] = {"queries": len(rows), "links": sum(r["links"] for r in rows)}
    for method in methods:
        out[method] = {m: round(statistics.mean(r[method][m] for r in rows), 3) for m in rows[0][method]}
    return out


def evaluate(kb: Any) -> dict[str, Any]:
    """Every method on every query post of an imported knowledge base, by half."""
    items = {item.id: item for item in kb.list_items()}
    original = {i: item.duplicate_of or i for i, item in items.items()}
    ids = sorted(i for i, item in items.items() if item.duplicate_of is None)
    position = {i: n for n, i in enumerate(ids)}
    queries: dict[str, set[str]] = {}
    for item_id, item in items.items():
        links = {original[link] for link in item.reference_closest if link in items}
        links -= {item_id, original[item_id]}
        if links:
            queries[item_id] = links

    texts = [" ".join((items[i].title, items[i].summary, items[i].text)) for i in ids]
    index = kb.searcher().index
    vectors = np.stack([index.item_vector(i) for i in ids])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    matrices = {"tfidf": tfidf_similarity(texts), "dense": vectors @ vectors.T}
    bm25 = PlainBM25(zip(ids, texts, strict=True))
    kb.related(next(iter(queries)), k=K)  # opens the index and the full-text scratch tables once
    rows, seconds = [], []
    for item_id in sorted(queries):
        skip = {item_id, original[item_id]}
        row_of = position[original[item_id]]
        rankings: dict[str, list[str]] = {name: ranked(matrix[row_of], ids, skip) for name, matrix in matrices.items()}
        rankings["bm25"] = [i for i in bm25.rank(texts[row_of], limit=len(ids)) if i not in skip]
        rankings["bm25_dense_rrf"] = rrf([rankings["bm25"], rankings["dense"]])
        started = time.perf_counter()
        rankings["related"] = [r.id for r in kb.related(item_id, k=K)]
        seconds.append(time.perf_counter() - started)
        row: dict[str, Any] = {"id": item_id, "split": split_of(item_id), "links": len(queries[item_id])}
        row.update({name: measures(ranking, queries[item_id]) for name, ranking in rankings.items()})
        rows.append(row)

    methods = ["related", "tfidf", "bm25", "dense", "bm25_dense_rrf"]
    halves = {half: [r for r in rows if half in ("all", r["split"])] for half in ("dev", "test", "all")}
    figures = {half: summary(part, methods) for half, part in halves.items() if part}

    def ratio(half: str, baseline: str) -> float:
        return round(figures[half]["related"]["recall@10"] / max(figures[half][baseline]["recall@10"], 1e-9), 3)

    return {
        "items": len(items),
        "originals": len(ids),
        "query_posts": len(queries),
        "figures": figures,
        "recall_ratio_vs_tfidf": {half: ratio(half, "tfidf") for half in figures},
        "recall_ratio_vs_best_baseline": {
            half: ratio(half, max(methods[1:], key=lambda m: figures[half][m]["recall@10"])) for half in figures
        },
        "target_ratio": TARGET_RATIO,
        "target_met": {half: ratio(half, "tfidf") >= TARGET_RATIO for half in figures},
        "tuned_on": "dev",
        "related_warm_ms": {
            "median": round(1000 * statistics.median(seconds), 1),
            "max": round(1000 * max(seconds), 1),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep",
        help="Build the knowledge base here and keep it (reused when present): a folder, or a postgresql:// URL "
        "to measure a knowledge base in Postgres (its working folder: SMKB_WORKDIR).",
    )
    args = parser.parse_args()
    if not POSTS.is_dir():
        print(json.dumps({"skipped": f"{POSTS} is absent (real posts live in ../shared/data beside the checkout)"}))
        return 0
    sys.path.insert(0, str(REPO))
    from shadowmatch_kb.kb import KnowledgeBase
    from shadowmatch_kb.search import related as fusion

    with tempfile.TemporaryDirectory() as scratch:
        kb_dir = args.keep or Path(scratch) / "kb"
        with KnowledgeBase.open(kb_dir) as kb:
            started = time.perf_counter()
            results = kb.ingest([str(POSTS), str(DEMO)])
            import_seconds = time.perf_counter() - started
            print(f"imported {len(results)} files in {import_seconds:.0f} s", file=sys.stderr)
            report = evaluate(kb)
            report["import"] = {"files": len(results), "failed": sum(r.status == "failed" for r in results)}
            report["parameters"] = {
                "word_weight": fusion.WORD_WEIGHT,
                "query_words": fusion.QUERY_WORDS,
                "depth": fusion.DEPTH,
            }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
