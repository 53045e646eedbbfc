"""Run a hybrid search against a knowledge base: filters, both rankings, fusion, snippets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shadowmatch_kb.embed.chunking import chunk_text
from shadowmatch_kb.model import SearchResult
from shadowmatch_kb.search.hybrid import reciprocal_rank_fusion
from shadowmatch_kb.store.sqlite import ItemFilter

if TYPE_CHECKING:
    import numpy as np

    from shadowmatch_kb.kb import KnowledgeBase

__all__ = ["Rankings", "hybrid_search", "rankings"]

SNIPPET_CHARS = 240


@dataclass
class Rankings:
    """The two rankings of a query over the whole knowledge base, best first, before fusion."""

    keyword_ids: list[str]
    semantic_scores: dict[str, float]  # cosine of the query with the item's best chunk or the item
    best_chunk: dict[str, int] = field(default_factory=dict)  # semantic hits found by one chunk
    query_vector: np.ndarray | None = None

    @property
    def semantic_ids(self) -> list[str]:
        """Semantic hits, closest first."""
        return sorted(self.semantic_scores, key=lambda i: -self.semantic_scores[i])


def rankings(kb: KnowledgeBase, query: str, depth: int) -> Rankings:
    """The ``depth`` best keyword (BM25) and semantic hits of ``query``; semantic ones only with an index."""
    keyword_hits = kb.store.keyword_search(query, limit=depth, snippets=False)
    ranked = Rankings([item_id for item_id, _, _ in keyword_hits], {})
    index = kb.index()
    if index is None:
        if kb.store.count():
            kb.notices.append("no vector index yet: keyword results only; run `smkb reindex`")
        return ranked
    vector = kb.query_embedder().embed_batch([query])[0]
    ranked.query_vector = vector
    scores = ranked.semantic_scores
    for chunk_hit in index.query_chunks(vector, depth):
        scores[chunk_hit.item_id] = chunk_hit.score
        ranked.best_chunk[chunk_hit.item_id] = chunk_hit.chunk
    for item_hit in index.query_items(vector, depth):
        if item_hit.score > scores.get(item_hit.item_id, -2.0):
            scores[item_hit.item_id] = item_hit.score
            ranked.best_chunk.pop(item_hit.item_id, None)
    return ranked


def hybrid_search(kb: KnowledgeBase, query: str, *, k: int, where: ItemFilter) -> list[SearchResult]:
    """Keyword and semantic rankings of ``query`` fused by reciprocal rank, with snippets."""
    query = query.strip()
    if not query:
        return []
    store = kb.store
    allowed = None if where.is_empty() else set(store.filtered_ids(where))
    if allowed is not None and not allowed:
        return []
    # Filters drop candidates after ranking, so fetch more when filtering.
    depth = max(50, 5 * k) if allowed is None else max(300, 30 * k)

    ranked = rankings(kb, query, depth)
    best_chunk = ranked.best_chunk
    keyword_ids, semantic_ids = ranked.keyword_ids, ranked.semantic_ids

    if allowed is not None:
        keyword_ids = [i for i in keyword_ids if i in allowed]
        semantic_ids = [i for i in semantic_ids if i in allowed]
    fused = reciprocal_rank_fusion([keyword_ids, semantic_ids])
    rows = store.brief_rows([hit.item_id for hit in fused[: k + 20]])
    results: list[SearchResult] = []
    for hit in fused:
        row = rows.get(hit.item_id)
        if row is None or row["duplicate_of"] is not None:
            continue  # a duplicate is represented by its original
        results.append(
            SearchResult(
                row["id"],
                row["title"],
                row["url"],
                row["published"],
                round(hit.score, 6),
            )
        )
        if len(results) == k:
            break
    found_by_words = set(ranked.keyword_ids)
    snippets = store.keyword_snippets(query, [r.id for r in results if r.id in found_by_words])
    for result in results:
        result.snippet = snippets.get(result.id) or None
    _fill_semantic_snippets(kb, results, best_chunk)
    return results


def _fill_semantic_snippets(kb: KnowledgeBase, results: list[SearchResult], best_chunk: dict[str, int]) -> None:
    """Hits found only by meaning get the chunk that matched (or the summary) as their snippet."""
    missing = [r for r in results if not r.snippet]
    if not missing:
        return
    items = kb.store.get_many([r.id for r in missing])
    for result in missing:
        item = items[result.id]
        chunk_no = best_chunk.get(result.id, -1)
        chunks = chunk_text(item.text) if chunk_no >= 0 else []
        text = chunks[chunk_no] if 0 <= chunk_no < len(chunks) else (item.summary or item.text)
        text = " ".join(text.split())
        result.snippet = text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
