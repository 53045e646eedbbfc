"""Hybrid search over a store and a vector index: filters, both rankings, fusion, snippets.

A ``Searcher`` receives the parts it reads — the record store (full text, filters, rows to show), the
vector index, and the query embedder — so it can be tested on small in-memory parts. Its results come
back with the notices a person should see (no index yet: words only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shadowmatch_kb.embed.chunking import chunk_text
from shadowmatch_kb.fetch.safety import page_address
from shadowmatch_kb.model import Item, ItemFilter, SearchResult
from shadowmatch_kb.search.focus import focus_text, search_terms
from shadowmatch_kb.search.hybrid import FusedHit, reciprocal_rank_fusion
from shadowmatch_kb.search.related import related_items

if TYPE_CHECKING:
    import numpy as np

    from shadowmatch_kb.embed.base import Embedder
    from shadowmatch_kb.index.base import VectorIndex
    from shadowmatch_kb.store.sqlite import SqliteStore

__all__ = ["NO_INDEX_NOTICE", "Rankings", "SearchOutcome", "Searcher"]

SNIPPET_CHARS = 240
NO_INDEX_NOTICE = "no vector index yet: keyword results only; run `smkb reindex`"


@dataclass
class Rankings:
    """The two rankings of a query over the whole knowledge base, best first, before fusion."""

    keyword_ids: list[str]
    semantic_scores: dict[str, float]  # cosine of the query with the item's best chunk or the item
    best_chunk: dict[str, int] = field(default_factory=dict)  # semantic hits found by one chunk
    query_vector: np.ndarray | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def semantic_ids(self) -> list[str]:
        """Semantic hits, closest first."""
        return sorted(self.semantic_scores, key=lambda i: -self.semantic_scores[i])


@dataclass
class SearchOutcome:
    """The hits of one search, best first, and what the person should be told about them."""

    results: list[SearchResult]
    notices: list[str] = field(default_factory=list)


class Searcher:
    """Keyword (BM25) and semantic rankings of a query, fused by reciprocal rank."""

    def __init__(
        self, store: SqliteStore, index: VectorIndex | None, query_embedder: Callable[[], Embedder] | None
    ) -> None:
        """``index`` None means words only; ``query_embedder`` gives the model of queries, needed only with an
        index and called on the first query that needs it (loading a model takes a while)."""
        if index is not None and query_embedder is None:
            raise ValueError("a Searcher with an index needs a query embedder")
        self.store = store
        self.index = index
        self.query_embedder = query_embedder

    def rankings(self, query: str, depth: int) -> Rankings:
        """The ``depth`` best keyword (BM25) and semantic hits of what ``query`` is about: every one of its
        content words OR-ed, as in a plain BM25, and the meaning of its focus (a question's framing, "how will
        AI change my job", left out); semantic hits only with an index."""
        keyword_hits = self.store.any_term_search(search_terms(query), limit=depth)
        ranked = Rankings([item_id for item_id, _ in keyword_hits], {})
        if self.index is None or self.query_embedder is None:
            if self.store.count():
                ranked.notices.append(NO_INDEX_NOTICE)
            return ranked
        ranked.semantic_scores, ranked.best_chunk, ranked.query_vector = self.closest(focus_text(query), depth)
        return ranked

    def closest(self, text: str, depth: int) -> tuple[dict[str, float], dict[str, int], np.ndarray]:
        """The ``depth`` items closest in meaning to ``text`` (cosine with the item's best chunk or the item
        itself), the chunk that matched for those found by one, and the text's vector; needs an index."""
        if self.index is None or self.query_embedder is None:
            raise ValueError("meaning needs a vector index and its query embedder")
        vector = self.query_embedder().embed_batch([text])[0]
        scores: dict[str, float] = {}
        best_chunk: dict[str, int] = {}
        for chunk_hit in self.index.query_chunks(vector, depth):
            scores[chunk_hit.item_id] = chunk_hit.score
            best_chunk[chunk_hit.item_id] = chunk_hit.chunk
        for item_hit in self.index.query_items(vector, depth):
            if item_hit.score > scores.get(item_hit.item_id, -2.0):
                scores[item_hit.item_id] = item_hit.score
                best_chunk.pop(item_hit.item_id, None)
        return scores, best_chunk, vector

    def meaning(self, texts: list[str], depth: int) -> list[dict[str, float]]:
        """For each text, the cosine of the ``depth`` closest items by their own vectors (title and summary).

        Empty without an index. Item vectors, not chunks: a question about a job is about what an item is
        about, and a chunk that mentions the job in passing would rank a loosely related item too high.
        """
        if self.index is None or self.query_embedder is None or not texts:
            return [{} for _ in texts]
        vectors = self.query_embedder().embed_batch(texts)
        return [self.near(vector, depth) for vector in vectors]

    def near(self, vector: np.ndarray, depth: int) -> dict[str, float]:
        """The cosine of the ``depth`` items closest to a vector of the model's space by their own vectors; empty
        without an index."""
        if self.index is None:
            return {}
        return {hit.item_id: hit.score for hit in self.index.query_items(vector, depth)}

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        where: ItemFilter | None = None,
        first: dict[str, float] | None = None,
    ) -> SearchOutcome:
        """The ``k`` best originals for ``query`` among the items ``where`` admits, with snippets.

        ``first`` (item id -> score, best first) is ranked ahead of the fusion: the knowledge base passes the
        items a person's question most likely means, as a briefing reads it."""
        query = query.strip()
        where = where or ItemFilter()
        if not query:
            return SearchOutcome([])
        allowed = None if where.is_empty() else set(self.store.filtered_ids(where))
        if allowed is not None and not allowed:
            return SearchOutcome([])
        # Filters drop candidates after ranking, so fetch more when filtering.
        depth = max(50, 5 * k) if allowed is None else max(300, 30 * k)

        ranked = self.rankings(query, depth)
        keyword_ids, semantic_ids = ranked.keyword_ids, ranked.semantic_ids
        if allowed is not None:
            keyword_ids = [i for i in keyword_ids if i in allowed]
            semantic_ids = [i for i in semantic_ids if i in allowed]
        fused = reciprocal_rank_fusion([keyword_ids, semantic_ids])
        if first:
            ahead = [FusedHit(i, score) for i, score in first.items() if allowed is None or i in allowed]
            fused = ahead + [hit for hit in fused if hit.item_id not in first]
        rows = self.store.brief_rows([hit.item_id for hit in fused[: k + 20]])
        originals = {row["duplicate_of"] for row in rows.values() if row["duplicate_of"]} - set(rows)
        rows |= self.store.brief_rows(sorted(originals)) if originals else {}
        results: list[SearchResult] = []
        listed: set[str] = set()
        pages: set[str] = set()  # one article imported twice is listed once, as its better-ranked copy
        for hit in fused[: k + 20]:
            row = rows.get(hit.item_id)
            if row is not None and row["duplicate_of"] is not None:
                row = rows.get(row["duplicate_of"])  # a copy found stands for its original
            if row is None or row["id"] in listed or (allowed is not None and row["id"] not in allowed):
                continue
            page = page_address(row["url"])
            if page in pages:
                continue
            listed.add(row["id"])
            if page:
                pages.add(page)
            results.append(SearchResult(row["id"], row["title"], row["url"], row["published"], round(hit.score, 6)))
            if len(results) == k:
                break
        found_by_words = set(ranked.keyword_ids)
        snippets = self.store.keyword_snippets(query, [r.id for r in results if r.id in found_by_words])
        for result in results:
            result.snippet = snippets.get(result.id) or None
        self._fill_semantic_snippets(results, ranked.best_chunk)
        return SearchOutcome(results, ranked.notices)

    def related(self, item: Item, *, k: int = 10) -> list[SearchResult]:
        """The originals closest to ``item`` by words and meaning, best first; BackendError when it is not
        indexed. See ``search.related``."""
        return related_items(self.store, self.index, item, k=k)

    def _fill_semantic_snippets(self, results: list[SearchResult], best_chunk: dict[str, int]) -> None:
        """Hits found only by meaning get the chunk that matched (or the summary) as their snippet."""
        missing = [r for r in results if not r.snippet]
        if not missing:
            return
        items = self.store.get_many([r.id for r in missing])
        for result in missing:
            item = items[result.id]
            chunk_no = best_chunk.get(result.id, -1)
            chunks = chunk_text(item.text) if chunk_no >= 0 else []
            text = chunks[chunk_no] if 0 <= chunk_no < len(chunks) else (item.summary or item.text)
            text = " ".join(text.split())
            result.snippet = text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
