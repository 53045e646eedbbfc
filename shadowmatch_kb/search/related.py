"""Related items: the originals closest to one item by its words and by its meaning, fused item by item.

* Words: the item's most distinctive words (title, summary, keywords, themes, Signals rows, body), chosen
  by tf-idf against the full-text index, make one OR query ranked by BM25. Each hit's score is taken
  relative to the item's own score for the same query, so it reads as "how much of this item's vocabulary
  the other one shares" (0 to 1) whatever the item's length.
* Meaning: the cosine of the item's own vector (title and summary) with every other item vector. Item
  vectors, not chunks: related items should be about the same thing, and a long article has many chunks
  that each get a chance to come close, which would list it beside almost anything.

The two are fused by score, not by rank: with the ranks of both lists fused (as search does), an item
that shares many rare words but sits far down the meaning list loses its place to items middling on both.
On the development half of the real posts (scripts/eval_related.py) rank fusion of these two lists reached
recall@10 0.45 and nDCG@10 0.31, score fusion 0.51 and 0.39 (meaning alone: 0.40 and 0.30).
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from shadowmatch_kb.errors import BackendError
from shadowmatch_kb.model import Item, SearchResult

if TYPE_CHECKING:
    from shadowmatch_kb.index.base import VectorIndex
    from shadowmatch_kb.store.sqlite import SqliteStore

__all__ = [
    "DEPTH",
    "LOOKUP_WORDS",
    "QUERY_WORDS",
    "WORD_WEIGHT",
    "distinctive_words",
    "fused_score",
    "item_words",
    "related_items",
]

# How many of the item's words make the query. Fewer loses the many middling words two texts on one
# subject share, more adds noise and time (recall@10 on the development half: 16 words 0.45, 32 0.48,
# 64 0.51, 128 0.48, all of them 0.48).
QUERY_WORDS = 64
# The weight of the words' score against the meaning's, both on a 0-1 scale. Chosen on the development
# half of the real posts: recall@10 is 0.40 with meaning alone and 0.48-0.52 for weights 1 to 3; at 2
# nDCG@10 (0.39) and MRR (0.44) are highest.
WORD_WEIGHT = 2.0
# Each word costs one count of the rows holding it (up to about 1 ms at 10k items for a common word), so a
# long article has its body's rarer words left out: its summary and most frequent words say what it is.
LOOKUP_WORDS = 256
# How many hits each side contributes before fusion.
DEPTH = 100
_WORD = re.compile(r"[^\W_]+")


def item_words(item: Item) -> tuple[Counter[str], list[str]]:
    """The item's words, lowercased, with how often each occurs in its title, summary, keywords, themes,
    Signals rows and body (single letters and bare numbers left out); and the words worth looking up in
    the index, at most ``LOOKUP_WORDS``: every word of the short fields, then the body's most frequent.

    No stop list: tf-idf ranks function words low on its own, and the lists tried cost recall@10 on the
    development half (0.51 without; 0.46 dropping function words, 0.43 with the key-phrase stop list).
    """
    signals = (" ".join((s.signal, s.change, s.horizon, s.driving_force)) for s in item.signals)
    short = _counted((item.title, item.summary, *item.keywords, *item.themes, *signals))
    body = _counted((item.text,))
    looked_up = list(short)[:LOOKUP_WORDS]
    looked_up += [word for word, _ in body.most_common() if word not in short][: LOOKUP_WORDS - len(looked_up)]
    return short + body, looked_up


def _counted(fields: Iterable[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for field in fields:
        for word in _WORD.findall(field.lower()):
            if len(word) > 1 and not word.isdigit():
                counts[word] += 1
    return counts


def distinctive_words(store: SqliteStore, item: Item, *, limit: int = QUERY_WORDS) -> list[str]:
    """The ``limit`` words of ``item`` with the highest tf-idf, one per indexed term (stem), best first.

    A term no other item holds cannot find anything, so it is left out however rare it is; so is one that
    half the items or more hold, which BM25 in SQLite scores as nothing while it makes the query read most rows.
    """
    counts, looked_up = item_words(item)
    total, statistics = store.term_statistics(looked_up, up_to_share=0.5)
    term_counts: Counter[str] = Counter()
    spelling: dict[str, tuple[int, str]] = {}  # a term's most frequent spelling in this item
    holders: dict[str, int] = {}
    for word, count in counts.items():
        if word not in statistics:
            continue
        term, documents = statistics[word]
        term_counts[term] += count
        holders[term] = documents
        if spelling.get(term, (0, ""))[0] < count:
            spelling[term] = (count, word)
    weights = {
        term: count * math.log(1 + (total - holders[term] + 0.5) / (holders[term] + 0.5))
        for term, count in term_counts.items()
        if 1 < holders[term] < total / 2
    }
    best = sorted(weights, key=lambda term: (-weights[term], term))[:limit]
    return [spelling[term][1] for term in best]


def fused_score(cosine: float, words: float) -> float:
    """One item's score from its cosine (-1 to 1) and its relative word score (0 to 1), on a 0-1 scale."""
    return ((1.0 + cosine) / 2.0 + WORD_WEIGHT * words) / (1.0 + WORD_WEIGHT)


def related_items(store: SqliteStore, index: VectorIndex | None, item: Item, *, k: int = 10) -> list[SearchResult]:
    """The ``k`` originals closest to ``item``, best first; BackendError when it is not indexed.

    Neither the item nor its original or copies are listed, and a copy stands for nothing: its original
    is listed when it is close on its own.
    """
    vector = index.item_vector(item.id) if index is not None else None
    if index is None or vector is None:
        raise BackendError(f"item {item.id} is not in the index yet; run `smkb reindex`")
    if k <= 0:
        return []
    same = {item.id} | ({item.duplicate_of} if item.duplicate_of else set())
    depth = max(DEPTH, 4 * k)
    meaning = {hit.item_id: hit.score for hit in index.query_items(vector, depth, exclude=same)}
    words = _word_scores(store, item, depth, same)
    rows = store.brief_rows(sorted((meaning.keys() | words.keys()) - same))
    originals = [i for i, row in rows.items() if row["duplicate_of"] is None]
    scores = _fused(index, vector, originals, meaning, words, k, complete=len(meaning) < depth)
    best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    return [
        SearchResult(rows[i]["id"], rows[i]["title"], rows[i]["url"], rows[i]["published"], round(score, 6))
        for i, score in best
    ]


def _word_scores(store: SqliteStore, item: Item, depth: int, same: set[str]) -> dict[str, float]:
    """BM25 of the item's distinctive words, each hit relative to the item's own score (capped at 1)."""
    words = distinctive_words(store, item)
    hits = store.any_word_bm25(words, limit=depth + len(same))
    if not hits:
        return {}
    own = max((score for item_id, score in hits if item_id in same), default=hits[0][1])
    if own <= 0:
        return {}
    return {item_id: min(1.0, score / own) for item_id, score in hits if item_id not in same}


def _fused(
    index: VectorIndex,
    vector: np.ndarray,
    candidates: list[str],
    meaning: dict[str, float],
    words: dict[str, float],
    k: int,
    *,
    complete: bool,
) -> dict[str, float]:
    """Fused scores of the candidates, exact for every one that can reach the best ``k``.

    A candidate found by words alone lies below the meaning list's last cosine (unless that list holds
    every indexed item), so that cosine bounds its score; its own vector is read only when the bound
    could still place it among the best ``k``.
    """
    scores = {i: fused_score(meaning[i], words.get(i, 0.0)) for i in candidates if i in meaning}
    floor = -1.0 if complete or not meaning else min(meaning.values())
    guesses = sorted(((fused_score(floor, words[i]), i) for i in candidates if i not in meaning), reverse=True)
    query = vector / (np.linalg.norm(vector) or 1.0)
    for bound, item_id in guesses:
        if len(scores) >= k and bound <= heapq.nlargest(k, scores.values())[-1]:
            break
        other = index.item_vector(item_id) if not complete else None
        cosine = -1.0 if other is None else float(np.dot(query, other / (np.linalg.norm(other) or 1.0)))
        scores[item_id] = fused_score(cosine, words[item_id])
    return scores
