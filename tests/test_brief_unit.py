"""Briefings on in-memory parts: the relevance gate of ``retrieve`` and ``build_briefing`` end to end.

``retrieve`` is given a stand-in searcher with fixed rankings, so each relevance floor is tested at a cosine
chosen on either side of it. ``build_briefing`` runs on a real in-memory store, a real flat index, the real
(lexical) sector resolver and the fake ``WordsEmbedder`` of test_search_unit.py; the real model's briefings
are tested in test_brief.py.
"""

from __future__ import annotations

from datetime import date

import pytest
from test_search_unit import WordsEmbedder

from shadowmatch_kb.brief.compose import build_briefing
from shadowmatch_kb.brief.retrieve import IN_SECTOR_FLOOR, NO_SECTOR_FLOOR, OUT_OF_SECTOR_FLOOR, retrieve
from shadowmatch_kb.enrich.sectors import SectorResolver
from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.index.flat import FlatIndex
from shadowmatch_kb.index.sync import sync_index
from shadowmatch_kb.model import Item, Signal
from shadowmatch_kb.search.searcher import NO_INDEX_NOTICE, Rankings, Searcher
from shadowmatch_kb.store.enrichment import save_enrichment
from shadowmatch_kb.store.sqlite import SqliteStore

HEALTH = "healthcare and social care"  # what the resolver calls the sector of "nursing"
TODAY = date(2024, 6, 1)


@pytest.fixture(scope="module")
def resolver() -> SectorResolver:
    return SectorResolver()  # lexical only: no model to load


def make_store(*items: Item) -> SqliteStore:
    store = SqliteStore(":memory:")
    store.put_items((item, f"hash-{item.id}", item.id, None) for item in items)
    return store


def item(n: int, published: str, sectors: list[str], **fields) -> Item:
    fields.setdefault("title", f"Item {n}")
    fields.setdefault("text", fields.get("summary", ""))  # the summary is the whole story here
    return Item(f"{n:032x}", published=published, sectors=sectors, **fields)


class RankedSearcher:
    """Stands in for a ``Searcher``: fixed keyword ids and cosines, so a test can sit on either side of a floor."""

    def __init__(self, store: SqliteStore, keyword_ids: list[str], scores: dict[str, float]) -> None:
        self.store, self.keyword_ids, self.scores = store, keyword_ids, scores

    def rankings(self, query: str, depth: int) -> Rankings:
        return Rankings(list(self.keyword_ids), dict(self.scores))  # retrieve writes into its copy


def evidence_ids(found) -> list[str]:
    return [e.item_id for e in found.evidence]


# ----- retrieve -------------------------------------------------------------------------------------


def test_in_sector_items_pass_a_low_floor_others_need_a_high_one(resolver) -> None:
    near, too_far, unsure = (
        item(1, "2024-01-01", ["nursing"]),
        item(2, "2024-01-01", ["nursing"]),
        item(3, "2024-01-01", ["nursing"]),
    )
    out_mid, out_close = item(4, "2024-01-01", ["retail"]), item(5, "2024-01-01", ["retail"])
    store = make_store(near, too_far, unsure, out_mid, out_close)
    # Enrichment computed "nursing" for this one but was unsure: it does not count as in the sector.
    save_enrichment(store, unsure, {"sector_confidence": {"nursing": 0.4}})
    scores = {near.id: IN_SECTOR_FLOOR + 0.05, too_far.id: IN_SECTOR_FLOOR - 0.05, unsure.id: IN_SECTOR_FLOOR + 0.05}
    scores |= {out_mid.id: OUT_OF_SECTOR_FLOOR - 0.15, out_close.id: OUT_OF_SECTOR_FLOOR + 0.05}
    searcher = RankedSearcher(store, [], scores)

    found = retrieve(searcher, "nurses", [HEALTH], resolver.vocabulary, today=TODAY)
    assert set(evidence_ids(found)) == {near.id, out_close.id}
    assert {e.item_id: e.in_sector for e in found.evidence} == {near.id: True, out_close.id: False}
    assert found.thin  # two relevant items are fewer than MIN_EVIDENCE
    assert found.candidates == 5

    # No sector asked: one floor in between, for all; the cosines above sit on either side of it.
    assert IN_SECTOR_FLOOR + 0.05 < NO_SECTOR_FLOOR <= OUT_OF_SECTOR_FLOOR - 0.15
    found = retrieve(searcher, "nurses", [], resolver.vocabulary, today=TODAY)
    assert set(evidence_ids(found)) == {out_mid.id, out_close.id}


def test_three_relevant_items_are_not_thin(resolver) -> None:
    items = [item(n, "2024-01-01", ["nursing"]) for n in (1, 2, 3)]
    searcher = RankedSearcher(make_store(*items), [], {i.id: 0.5 for i in items})
    found = retrieve(searcher, "nurses", [HEALTH], resolver.vocabulary, today=TODAY)
    assert len(found.evidence) == 3 and not found.thin
    assert len(retrieve(searcher, "nurses", [HEALTH], resolver.vocabulary, limit=2, today=TODAY).evidence) == 2


def test_since_drops_older_items(resolver) -> None:
    old, new = item(1, "2020-05-01", ["nursing"]), item(2, "2024-02-01", ["nursing"])
    searcher = RankedSearcher(make_store(old, new), [old.id, new.id], {old.id: 0.9, new.id: 0.5})
    assert set(evidence_ids(retrieve(searcher, "nurses", [HEALTH], resolver.vocabulary, today=TODAY))) == {
        old.id,
        new.id,
    }
    found = retrieve(searcher, "nurses", [HEALTH], resolver.vocabulary, since="2023-01-01", today=TODAY)
    assert evidence_ids(found) == [new.id]


def test_a_duplicate_stands_for_its_original(resolver) -> None:
    original = item(1, "2024-01-01", ["nursing"])
    copy = item(2, "2024-01-05", ["nursing"], duplicate_of=original.id)
    # Only the copy was found, by words and by meaning; the original must take its place and its cosine.
    searcher = RankedSearcher(make_store(original, copy), [copy.id], {copy.id: 0.8})
    found = retrieve(searcher, "nurses", [HEALTH], resolver.vocabulary, today=TODAY)
    assert evidence_ids(found) == [original.id]
    assert found.evidence[0].similarity == pytest.approx(0.8)


def test_of_two_equally_ranked_items_the_newer_leads(resolver) -> None:
    older, newer = item(1, "2016-01-01", []), item(2, "2024-05-01", [])
    # Each ranking puts a different one first, so fusion ties them; without recency the id would decide.
    searcher = RankedSearcher(make_store(older, newer), [older.id, newer.id], {older.id: 0.5, newer.id: 0.6})
    assert evidence_ids(retrieve(searcher, "q", [], resolver.vocabulary, today=TODAY)) == [newer.id, older.id]


# The module promises "a small recency factor lets the newer of two *equally relevant* items lead", but fused
# scores one rank apart differ by under 2 % while recency adds up to 30 %: an item first in every ranking at
# cosine 0.9 loses to a newer one second in every ranking at 0.3, barely over the in-sector floor.
@pytest.mark.xfail(strict=True, reason="bug: recency outweighs relevance, not only between equally relevant items")
def test_recency_does_not_overturn_a_clearly_better_match(resolver) -> None:
    best, weak = item(1, "2020-05-01", ["nursing"]), item(2, "2024-05-01", ["nursing"])
    searcher = RankedSearcher(make_store(best, weak), [best.id, weak.id], {best.id: 0.9, weak.id: 0.3})
    assert evidence_ids(retrieve(searcher, "nurses", [HEALTH], resolver.vocabulary, today=TODAY)) == [best.id, weak.id]


# ----- build_briefing -------------------------------------------------------------------------------

QUESTION = "How will AI change nursing work in hospitals?"
SCRIBES = Signal("AI scribes draft clinical notes", "manual notes to AI drafts", "2025", "cost")
NURSING = [
    item(
        1,
        "2024-05-01",
        ["nursing"],
        title="AI scribes change nursing work in hospitals",
        summary="Hospitals give nurses AI scribes that draft patient notes. Nursing work shifts to checking drafts.",
        signals=[SCRIBES, Signal("Nurses review AI drafts", "typing to reviewing", "2026", "workload")],
    ),
    item(
        2,
        "2024-03-01",
        ["nursing"],
        title="Hospital wards trial AI rostering",
        summary="Hospital managers use AI to plan nursing rosters. Nursing work changes as software sets rotas.",
        signals=[SCRIBES],
    ),
    item(
        3,
        "2023-11-01",
        ["nursing"],
        title="Nursing students learn to work with AI",
        summary="Nursing schools teach students to question AI advice in hospital wards.",
        signals=[Signal("Training in AI oversight", "optional to required modules", "2027", "regulation")],
    ),
]
TRUCKS = item(
    9,
    "2024-04-01",
    ["transport"],
    title="Freight firms test driverless lorries",
    summary="Hauliers fit lane sensors to every lorry on the motorway.",
    signals=[Signal("Driverless lorries on motorways", "drivers to remote supervisors")],
)


@pytest.fixture
def parts(tmp_path, resolver):
    """Keyword arguments of build_briefing over the nursing items and one on lorries."""
    store = make_store(*NURSING, TRUCKS)
    embedder = WordsEmbedder()
    index = FlatIndex(tmp_path / "flat", embedder.model_name, embedder.dimension)
    sync_index(store, index, lambda: embedder)
    yield {
        "searcher": Searcher(store, index, lambda: embedder),
        "store": store,
        "embedder": embedder,
        "resolver": resolver,
    }
    store.close()


def test_every_claim_cites_a_listed_source_and_signals_are_the_items_rows(parts) -> None:
    briefing = build_briefing(QUESTION, **parts, today=TODAY)
    assert briefing.sectors == [HEALTH]
    assert briefing.evidence_count == 3 and briefing.notice is None
    listed = [source.id for source in briefing.sources]
    assert [source.number for source in briefing.sources] == list(range(1, len(listed) + 1))
    assert TRUCKS.id not in listed
    assert briefing.overview and briefing.signals
    for claim in briefing.overview:
        assert claim.sources and set(claim.sources) <= set(listed), claim.text
    by_id = {i.id: i for i in NURSING}
    # The first is the plain lead naming the best-supported signal; the rest are the items' own sentences.
    assert briefing.overview[0].sources == briefing.signals[0].sources and len(briefing.overview) >= 2
    for claim in briefing.overview[1:]:
        assert claim.text in by_id[claim.sources[0]].summary
    for signal in briefing.signals:
        assert signal.sources and set(signal.sources) <= set(listed), signal.signal
        for source in signal.sources:
            assert (signal.signal, signal.change) in {(r.signal, r.change) for r in by_id[source].signals}
    # The row two items share is one signal supported by both, and it comes first.
    assert briefing.signals[0].signal == SCRIBES.signal
    assert sorted(briefing.signals[0].sources) == [NURSING[0].id, NURSING[1].id]
    assert briefing.signals[0].support == 2


@pytest.mark.parametrize("question", ["", "  \n "])
def test_an_empty_question_is_a_usage_error(parts, question) -> None:
    with pytest.raises(UsageError, match="question is empty"):
        build_briefing(question, **parts)


def test_occupations_attach_only_above_the_floor_and_only_when_asked(parts) -> None:
    assert build_briefing(QUESTION, **parts, today=TODAY).occupations == []
    calls = []

    def matcher(text: str, k: int) -> dict:
        calls.append((text, k))
        nurse = {"title": "Nurse", "score": 0.9, "most_exposed_tasks": [{"task": "Write up patient notes."}]}
        return {"occupations": [nurse, {"title": "Porter", "score": 0.2}], "missing_datasets": ["onet"]}

    briefing = build_briefing(QUESTION, **parts, occupations=matcher, today=TODAY)
    assert calls == [(QUESTION, 3)]
    assert [o["title"] for o in briefing.occupations] == ["Nurse"]
    assert briefing.missing_datasets == ["onet"]
    assert any('"Write up patient notes"' in prompt for prompt in briefing.prompts)


def test_a_question_the_store_holds_nothing_on_gets_a_notice(parts) -> None:
    briefing = build_briefing("How will AI change commercial fishing boats?", **parts, today=TODAY)
    assert briefing.sectors == ["farming, forestry and fishing"]
    assert briefing.notice.startswith("The knowledge base holds nothing on the farming, forestry and fishing sector")
    assert briefing.sources == [] and briefing.signals == [] and briefing.overview == []


def test_without_an_index_the_notice_comes_back(parts) -> None:
    words_only = Searcher(parts["store"], None, None)
    briefing = build_briefing(QUESTION, **{**parts, "searcher": words_only}, today=TODAY)
    assert briefing.notices == [NO_INDEX_NOTICE]
    # Keyword hits alone carry no cosine, so none passes a floor: the briefing says it holds nothing.
    assert briefing.evidence_count == 0 and "holds nothing" in briefing.notice
    assert build_briefing(QUESTION, **parts, today=TODAY).notices == []
