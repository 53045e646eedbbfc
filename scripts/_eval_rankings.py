"""Baselines and measures shared by the retrieval evaluations: plain BM25, graded nDCG, precision.

The BM25 here is the one a user would reach for, at full strength: every word of the query OR-ed (no stop
words dropped, no "half the terms" rule), Okapi BM25 with the standard k1 = 1.2 and b = 0.75 (SQLite FTS5's
own ``bm25()``), over one column holding an item's title, summary and text, with the same Porter stemming
the knowledge base's full-text index uses. It lives in its own in-memory database, so nothing the project
tunes in its own index reaches it.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Iterable, Sequence

__all__ = ["PlainBM25", "ndcg_at", "precision_at", "rrf"]

_WORD = re.compile(r"[^\W_]+")


class PlainBM25:
    """BM25 over every word of a query, OR semantics, k1 = 1.2, b = 0.75, Porter-stemmed."""

    def __init__(self, documents: Iterable[tuple[str, str]]) -> None:
        """``documents``: (id, text) pairs."""
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE docs USING fts5(doc_id UNINDEXED, body, tokenize='porter unicode61')")
        self.db.executemany("INSERT INTO docs (doc_id, body) VALUES (?, ?)", documents)

    def rank(self, query: str, limit: int = 200) -> list[str]:
        """Ids by BM25, best first; an item holding any word of the query is a candidate."""
        words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        rows = self.db.execute(
            "SELECT doc_id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (match, limit)
        ).fetchall()
        return [row[0] for row in rows]


def rrf(rankings: Sequence[Sequence[str]], k: int = 60) -> list[str]:
    """Reciprocal-rank fusion with the usual constant."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item_id in enumerate(ranking, start=1):
            scores[item_id] = scores.get(item_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda i: (-scores[i], i))


def ndcg_at(ranked: Sequence[str], grades: dict[str, int], k: int = 10) -> float:
    """Graded nDCG@k (gain 2^g - 1); only defined for a question with at least one relevant item."""
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    if not ideal:
        raise ValueError("nDCG needs at least one relevant item")
    dcg = sum((2 ** grades.get(i, 0) - 1) / math.log2(n + 2) for n, i in enumerate(ranked[:k]))
    idcg = sum((2**g - 1) / math.log2(n + 2) for n, g in enumerate(ideal))
    return dcg / idcg


def precision_at(ranked: Sequence[str], grades: dict[str, int], k: int = 5) -> float:
    """Share of the first k places (k fixed, empty places count as misses) holding an item of grade >= 1."""
    return sum(grades.get(i, 0) >= 1 for i in ranked[:k]) / k
