"""Hybrid search on in-memory parts: reciprocal rank fusion, and a ``Searcher`` over a handful of items.

The store is a real ``SqliteStore(":memory:")`` (FTS5 BM25) and the index a real ``FlatIndex`` filled by
``sync_index``; only the embedder is a fake (``WordsEmbedder``), so every test runs in milliseconds and the
expected order can be worked out by hand. The real model is tested end to end in test_cli.py.
"""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

from shadowmatch_kb.index.flat import FlatIndex
from shadowmatch_kb.index.sync import sync_index
from shadowmatch_kb.model import Item, ItemFilter
from shadowmatch_kb.search.hybrid import reciprocal_rank_fusion
from shadowmatch_kb.search.searcher import NO_INDEX_NOTICE, Searcher
from shadowmatch_kb.store.sqlite import SqliteStore

# Words the fake embedder reads as one meaning while FTS5 (porter stemming) keeps them apart: what lets a
# paraphrase be found by meaning and by nothing else.
SAME_MEANING = {"attorney": "lawyer", "agreement": "contract", "examine": "review", "program": "software"}
_STOPWORDS = frozenset("a an and are as at by each for from how in is it of on or the their to use will with".split())


class WordsEmbedder:
    """A deterministic ``Embedder``: a hashed bag of lower-cased words, synonyms folded, rows of unit length."""

    model_name = "fake-words"
    dimension = 512

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """One unit row per text; texts sharing more words are closer (an empty text is a zero row)."""
        rows = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            for word in re.findall(r"[a-z]+", text.lower()):
                if word in _STOPWORDS:
                    continue
                word = word[:-1] if len(word) > 3 and word.endswith("s") else word  # "nurses" meets "nurse"
                # crc32, not hash(): str hashes change from run to run.
                row[zlib.crc32(SAME_MEANING.get(word, word).encode()) % self.dimension] += 1.0
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(norms > 0, norms, 1.0)


NURSE, NURSE_COPY, TRUCK, LAWYER, SHOP = (c * 32 for c in "abcde")
ITEMS = [
    Item(
        NURSE,
        "Hospitals adopt ambient scribes",
        published="2024-03-01",
        sectors=["healthcare"],
        text="Nurses on night shifts let ambient scribes draft their patient notes.",
        summary="Ambient scribes draft patient notes for nurses.",
    ),
    # A syndicated copy: same story, one extra line from the site that reposted it.
    Item(
        NURSE_COPY,
        "Hospitals adopt ambient scribes",
        published="2024-03-02",
        sectors=["healthcare"],
        text="Nurses on night shifts let ambient scribes draft their patient notes. Reposted by Ward Weekly.",
        duplicate_of=NURSE,
    ),
    Item(
        TRUCK,
        "Freight firms test driverless lorries",
        published="2021-06-01",
        sectors=["transport"],
        text="Hauliers fit a digital tachograph and lane sensors to every lorry on the motorway.",
    ),
    Item(
        LAWYER,
        "Lawyers review contracts with software",
        published="2023-09-01",
        sectors=["legal"],
        text="Law firms let software review contracts before a lawyer signs them off.",
    ),
    Item(
        SHOP,
        "Checkout robots in supermarkets",
        published="2024-01-10",
        sectors=["retail"],
        text="Supermarkets replace cashiers with checkout robots and shelf cameras.",
    ),
]


def _filled_store() -> SqliteStore:
    store = SqliteStore(":memory:")
    store.put_items((item, f"hash-{item.id}", item.id, None) for item in ITEMS)
    return store


@pytest.fixture
def store():
    s = _filled_store()
    yield s
    s.close()


@pytest.fixture
def searcher(store, tmp_path) -> Searcher:
    embedder = WordsEmbedder()
    index = FlatIndex(tmp_path / "flat", embedder.model_name, embedder.dimension)
    sync_index(store, index, lambda: embedder)  # the same path `smkb reindex` takes
    return Searcher(store, index, lambda: embedder)


def ids(outcome) -> list[str]:
    return [result.id for result in outcome.results]


# ----- fusion ---------------------------------------------------------------------------------------


def test_an_item_both_lists_rank_well_beats_one_ranked_first_by_one_list() -> None:
    fused = reciprocal_rank_fusion([["a", "b"], ["c", "b"]])
    # b: 2/62 beats 1/61 for a and for c; a and c tie and are ordered by id, so runs agree.
    assert [hit.item_id for hit in fused] == ["b", "a", "c"]
    assert fused[0].score == pytest.approx(2 / 62)
    assert fused[1].score == fused[2].score == pytest.approx(1 / 61)


def test_fusion_records_each_lists_rank() -> None:
    by_id = {hit.item_id: hit for hit in reciprocal_rank_fusion([["a", "b"], ["c", "b"]])}
    assert (by_id["a"].keyword_rank, by_id["a"].semantic_rank) == (1, None)
    assert (by_id["b"].keyword_rank, by_id["b"].semantic_rank) == (2, 2)
    assert (by_id["c"].keyword_rank, by_id["c"].semantic_rank) == (None, 1)


def test_weights_let_one_list_lead() -> None:
    assert [h.item_id for h in reciprocal_rank_fusion([["z"], ["y"]])] == ["y", "z"]  # a tie: by id
    assert [h.item_id for h in reciprocal_rank_fusion([["y"], ["z"]], weights=[1.0, 2.0])] == ["z", "y"]
    hits = reciprocal_rank_fusion([["y"], ["z"]], weights=[3.0, 1.0], k=0)
    assert [(h.item_id, h.score) for h in hits] == [("y", 3.0), ("z", 1.0)]


def test_a_ranking_without_a_weight_is_refused() -> None:
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0])


# ----- Searcher -------------------------------------------------------------------------------------


def test_a_word_found_in_one_item_puts_it_first_with_a_snippet(searcher) -> None:
    outcome = searcher.search("tachograph")
    assert ids(outcome)[0] == TRUCK
    assert searcher.rankings("tachograph", 10).keyword_ids == [TRUCK]
    assert "tachograph" in outcome.results[0].snippet
    assert outcome.notices == []


def test_a_paraphrase_with_no_shared_word_is_found_by_meaning(searcher) -> None:
    query = "attorneys examine agreements using programs"
    ranked = searcher.rankings(query, 10)
    assert ranked.keyword_ids == []  # FTS5 finds none of these words
    assert ranked.semantic_ids[0] == LAWYER
    result = searcher.search(query).results[0]
    assert result.id == LAWYER
    # Found only by meaning, its snippet is the chunk that matched.
    assert result.snippet == ITEMS[3].text


def test_filters_drop_items_of_other_sectors_and_older_ones(searcher) -> None:
    query = "robots draft notes"
    assert set(ids(searcher.search(query))) == {NURSE, TRUCK, LAWYER, SHOP}
    assert ids(searcher.search(query, where=ItemFilter(sector="healthcare"))) == [NURSE]
    assert ids(searcher.search(query, where=ItemFilter(sector="retail"))) == [SHOP]
    assert ids(searcher.search(query, where=ItemFilter(since="2024-01-01"))) == [NURSE, SHOP]
    assert ids(searcher.search(query, where=ItemFilter(sector="fishing"))) == []


def test_k_bounds_the_results(searcher) -> None:
    assert len(searcher.search("robots draft notes", k=2).results) == 2


def test_a_near_duplicate_is_not_listed_its_original_is(searcher) -> None:
    outcome = searcher.search("ambient scribes nurses")
    assert NURSE_COPY in searcher.rankings("ambient scribes nurses", 10).keyword_ids  # the copy did match
    assert ids(outcome)[0] == NURSE
    assert NURSE_COPY not in ids(outcome)


def test_one_article_imported_twice_is_listed_once(store) -> None:
    # Two imports of one page (the second from a newsletter link) that the near-duplicate check did not fold.
    page = "https://lawnews.example.org/contracts-software"
    first = Item("c" * 32, "Software reviews contracts", url=page, text="Contract review software reads leases.")
    again = Item(
        "d" * 32, "Contract review by software", url=f"{page}?utm_source=letter", text="Software reads leases."
    )
    store.put_items((i, f"hash-{i.id}", i.id, None) for i in (first, again))
    found = ids(Searcher(store, None, None).search("software leases"))
    assert len({first.id, again.id} & set(found)) == 1


def test_every_result_has_a_snippet(searcher) -> None:
    for result in searcher.search("checkout robots").results:
        assert result.snippet, result.id


def test_without_an_index_search_is_by_words_and_says_so(store) -> None:
    outcome = Searcher(store, None, None).search("tachograph")
    assert ids(outcome) == [TRUCK]
    assert outcome.notices == [NO_INDEX_NOTICE]
    # A paraphrase finds nothing by words alone.
    assert Searcher(store, None, None).search("attorneys examine agreements").results == []


def test_an_empty_store_without_an_index_has_no_notice() -> None:
    empty = SqliteStore(":memory:")
    assert Searcher(empty, None, None).search("tachograph").notices == []


def test_an_index_needs_a_query_embedder(store, tmp_path) -> None:
    with pytest.raises(ValueError, match="query embedder"):
        Searcher(store, FlatIndex(tmp_path / "flat", "m", 4), None)


@pytest.mark.parametrize("query", ["", "   \n\t"])
def test_an_empty_query_has_no_results(searcher, query) -> None:
    assert searcher.search(query).results == []


# A copy matched by a word its original lacks ("Reposted by Ward Weekly") stands for its original, as in retrieve().
def test_a_word_only_in_a_copy_finds_its_original(store) -> None:
    assert ids(Searcher(store, None, None).search("Ward Weekly")) == [NURSE]


def test_the_knowledge_base_hands_each_notice_over_once(tmp_path) -> None:
    """A long-running server takes the notices after every request: they never pile up in the knowledge base."""
    import gc
    import weakref

    from shadowmatch_kb.kb import KnowledgeBase

    kb = KnowledgeBase.open(tmp_path / "kb")
    kb.record.create().put_items((item, f"hash-{item.id}", item.id, None) for item in ITEMS)
    for _ in range(3):
        kb.search("contracts")  # no index yet: words only, with a notice each time
        assert kb.take_notices() == [NO_INDEX_NOTICE]
        assert kb.take_notices() == []
    # Dropped, a knowledge base is freed at once (no reference cycle waits for the collector with its models).
    gc.disable()
    try:
        dropped = weakref.ref(kb)
        kb.close()
        del kb
        assert dropped() is None
    finally:
        gc.enable()


def test_only_a_person_speaking_of_their_own_work_is_read_for_an_occupation() -> None:
    from shadowmatch_kb.search.focus import speaks_of_self

    assert speaks_of_self("I sort out billing complaints on the phone all day")
    assert speaks_of_self("Will AI take over my shifts?") and speaks_of_self("We’re a small bakery")
    assert not speaks_of_self("chatbots in customer service") and not speaks_of_self("Will AI replace plumbers?")
