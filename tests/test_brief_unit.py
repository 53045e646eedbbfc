"""Briefings on in-memory parts: the relevance gate of ``retrieve`` and ``build_briefing`` end to end.

``retrieve`` is given a stand-in searcher with fixed rankings, so each relevance floor is tested at a cosine
chosen on either side of it. ``build_briefing`` runs on a real in-memory store, a real flat index, the real
(lexical) sector resolver and the fake ``WordsEmbedder`` of test_search_unit.py; the real model's briefings
are tested in test_brief.py.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from test_search_unit import WordsEmbedder

import shadowmatch_kb.brief.retrieve as retrieve_module
from shadowmatch_kb.brief.compose import build_briefing
from shadowmatch_kb.brief.overview import overview
from shadowmatch_kb.brief.retrieve import (
    CLOSE_TO_WORK,
    FALLBACK_FLOOR,
    FALLBACK_ITEMS,
    OCCUPATION_FLOOR,
    WIDER_FLOOR,
    WITH_OCCUPATION,
    WITHOUT_OCCUPATION,
    Reading,
    retrieve,
    score_candidates,
)
from shadowmatch_kb.enrich.sectors import SectorResolver
from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.index.flat import FlatIndex
from shadowmatch_kb.index.sync import sync_index
from shadowmatch_kb.model import Item, Signal
from shadowmatch_kb.search.searcher import NO_INDEX_NOTICE, Searcher
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
    """Stands in for a ``Searcher``: fixed cosines (what the person does, their occupation) over a real store,
    so a test can sit on either side of a floor; the keyword ranking is the store's own."""

    def __init__(
        self,
        store: SqliteStore,
        focus: dict[str, float],
        occupation: dict[str, float] | None = None,
        work: dict[str, float] | None = None,
    ):
        self.store, self.focus, self.occupation, self.work = store, focus, occupation or {}, work or {}
        self.index = object()  # an index is there: the cosines above are what it found

    def meaning(self, texts: list[str], depth: int) -> list[dict[str, float]]:
        return [dict(self.focus), dict(self.occupation)][: len(texts)]

    def near(self, vector, depth: int) -> dict[str, float]:  # the occupation's work is the only vector asked of
        return dict(self.work)


def reading(sectors: list[str] | None = None, occupation: str | None = None, terms: list[str] | None = None):
    work = np.ones(4, dtype=np.float32) if occupation else None  # the fakes' cosines stand for what it finds
    return Reading("nurses on a ward", terms or ["nurses", "ward"], sectors or [], occupation, work)


def evidence_ids(found) -> list[str]:
    return [e.item_id for e in found.evidence]


# ----- retrieve -------------------------------------------------------------------------------------


def cosine_for(chance: float, *, occupation: float | None = None, in_sector: bool = False) -> float:
    """The cosine with what the person does at which an item without their words reaches ``chance``;
    ``occupation`` None: no occupation was named (the model without one)."""
    model = WITHOUT_OCCUPATION if occupation is None else WITH_OCCUPATION
    logit = math.log(chance / (1 - chance))
    rest = model.intercept + model.in_sector * in_sector + model.occupation_similarity * (occupation or 0.0)
    return (logit - rest) / model.similarity


def test_relevance_grows_with_every_signal() -> None:
    for model in (WITH_OCCUPATION, WITHOUT_OCCUPATION):
        base = model.chance(0.3, 0.3, False, 0.0)
        assert 0.0 < base < 1.0
        assert model.chance(0.4, 0.3, False, 0.0) > base
        assert model.chance(0.3, 0.3, True, 0.0) > base
        assert model.chance(0.3, 0.3, False, 0.2) > base
    assert WITH_OCCUPATION.chance(0.3, 0.4, False, 0.0) > WITH_OCCUPATION.chance(0.3, 0.3, False, 0.0)
    assert WITH_OCCUPATION.chance(0.3, 0.3, False, 0.0, 0.4) > WITH_OCCUPATION.chance(0.3, 0.3, False, 0.0, 0.3)


def test_an_item_close_to_the_occupations_work_is_likelier_and_found_by_it_alone(resolver) -> None:
    # Found only by the occupation's work (its ESCO descriptions and ILO tasks), an item is still scored; the same
    # item found by the question alone, with no work to compare, is less likely on the person's work.
    on_job = item(1, "2024-01-01", ["nursing"])
    store = make_store(on_job)
    by_work = score_candidates(
        RankedSearcher(store, {}, {}, {on_job.id: 0.5}), reading([HEALTH], "Nurses"), resolver.vocabulary
    )[0]
    assert [(e.item_id, e.work_similarity) for e in by_work] == [(on_job.id, 0.5)]
    alone = score_candidates(
        RankedSearcher(store, {on_job.id: 0.4}, {}, {}), reading([HEALTH], "Nurses"), resolver.vocabulary
    )[0]
    both = score_candidates(
        RankedSearcher(store, {on_job.id: 0.4}, {}, {on_job.id: 0.5}), reading([HEALTH], "Nurses"), resolver.vocabulary
    )[0]
    assert both[0].relevance > alone[0].relevance


def test_items_above_the_floor_are_kept_most_relevant_first_with_their_tier(resolver, monkeypatch) -> None:
    # These fakes reach a chance by their closeness to what the person does alone, past any real cosine: that
    # closeness is not read as closeness to the occupation's work here (it is in the next test).
    monkeypatch.setattr(retrieve_module, "CLOSE_TO_WORK", 2.0)
    about_job, in_sector, wider, below = (
        item(1, "2024-01-01", ["retail"]),
        item(2, "2024-01-01", ["nursing"]),
        item(3, "2024-01-01", ["retail"]),
        item(4, "2024-01-01", ["nursing"]),
    )
    store = make_store(about_job, in_sector, wider, below)
    near, FLOOR = OCCUPATION_FLOOR + 0.05, WITH_OCCUPATION.cite_floor
    focus = {
        about_job.id: cosine_for(0.9, occupation=near),
        in_sector.id: cosine_for(0.8, occupation=0.0, in_sector=True),
        wider.id: cosine_for(FLOOR + 0.02, occupation=0.0),
        below.id: cosine_for(FLOOR - 0.02, occupation=0.0, in_sector=True),
    }
    searcher = RankedSearcher(store, focus, {about_job.id: near})

    found = retrieve(searcher, reading([HEALTH], "Nursing professionals"), resolver.vocabulary, today=TODAY)
    # The sector is a signal, never a gate: the item about the job is first though it sits in retail.
    assert evidence_ids(found) == [about_job.id, in_sector.id, wider.id]
    assert [e.tier for e in found.evidence] == ["occupation", "sector", "wider"]
    assert [round(e.relevance, 2) for e in found.evidence] == [0.9, 0.8, round(FLOOR + 0.02, 2)]
    assert found.count("occupation") == found.count("sector") == 1 and found.thin
    assert found.candidates == 4


def test_a_likely_item_close_to_what_the_person_does_is_close_to_their_work(resolver) -> None:
    # Session 15: "No item ... is close to the work of freight handlers" above Amazon's warehouse storage system,
    # cited for an order picker (cosine 0.50 with what they said, 0.34 with "Freight handlers").
    close, likely, unlikely = (item(n, "2024-01-01", ["nursing"]) for n in (1, 2, 3))
    near = OCCUPATION_FLOOR - 0.01
    cosines = {close.id: CLOSE_TO_WORK + 0.01, likely.id: CLOSE_TO_WORK - 0.01, unlikely.id: CLOSE_TO_WORK + 0.01}
    on_work = {close.id: 0.45, likely.id: 0.45}  # what the occupation's work is: the unlikely item is far from it
    store = make_store(close, likely, unlikely)
    searcher = RankedSearcher(store, cosines, {close.id: near, likely.id: near}, on_work)
    found, _, _ = score_candidates(searcher, reading([HEALTH], "Nursing professionals"), resolver.vocabulary)
    tiers = {e.item_id: (e.tier, e.relevance >= WITH_OCCUPATION.cite_floor) for e in found}
    assert tiers[close.id] == ("occupation", True) and tiers[likely.id] == ("sector", True)
    assert tiers[unlikely.id][1] is False and tiers[unlikely.id][0] != "occupation"  # unlikely: never close
    # Without an occupation there is no occupation's work to be close to.
    found, _, _ = score_candidates(searcher, reading([HEALTH]), resolver.vocabulary)
    assert {e.tier for e in found} == {"sector"}


def test_three_items_about_the_job_or_sector_are_not_thin(resolver) -> None:
    items = [item(n, "2024-01-01", ["nursing"]) for n in (1, 2, 3)]
    searcher = RankedSearcher(make_store(*items), {i.id: 0.5 for i in items})
    found = retrieve(searcher, reading([HEALTH]), resolver.vocabulary, today=TODAY)
    assert len(found.evidence) == 3 and not found.thin
    assert len(retrieve(searcher, reading([HEALTH]), resolver.vocabulary, limit=2, today=TODAY).evidence) == 2


def test_when_nothing_is_likely_the_closest_few_stand_in_and_the_rest_is_left_out(resolver) -> None:
    items = [item(n, "2024-01-01", ["nursing"]) for n in (1, 2, 3, 4)]
    floor = WITHOUT_OCCUPATION.cite_floor
    chances = [floor - 0.03, floor - 0.06, FALLBACK_FLOOR + 0.01, FALLBACK_FLOOR - 0.02]
    cosines = {i.id: cosine_for(p, in_sector=True) for i, p in zip(items, chances, strict=True)}
    assert max(cosines.values()) < WIDER_FLOOR  # none is kept for its meaning alone
    found = retrieve(RankedSearcher(make_store(*items), cosines), reading([HEALTH]), resolver.vocabulary, today=TODAY)
    assert evidence_ids(found) == [i.id for i in items[:FALLBACK_ITEMS]]
    assert found.count("sector") == FALLBACK_ITEMS and found.thin
    unlikely = {i.id: cosine_for(FALLBACK_FLOOR - 0.02, in_sector=True) for i in items}
    searcher = RankedSearcher(make_store(*items), unlikely)
    assert retrieve(searcher, reading([HEALTH]), resolver.vocabulary, today=TODAY).evidence == []


def test_when_nothing_is_likely_an_item_close_in_meaning_stands_in_whatever_its_sector(resolver) -> None:
    close, far = item(1, "2024-01-01", ["banking"]), item(2, "2024-01-01", ["banking"])
    searcher = RankedSearcher(make_store(close, far), {close.id: WIDER_FLOOR + 0.01, far.id: WIDER_FLOOR - 0.05})
    found = retrieve(searcher, reading([HEALTH]), resolver.vocabulary, today=TODAY)
    assert found.evidence[0].relevance < FALLBACK_FLOOR  # unlikely by the model: no sector, no words
    assert evidence_ids(found) == [close.id] and found.count("wider") == 1


def test_search_lists_every_item_found_by_its_estimated_relevance_the_unlikely_too(resolver) -> None:
    # Cut at FALLBACK_FLOOR, the items under it fell to the fused rank of words and meaning: a plumber's one item on
    # building (0.08) was missing from a list of warehouse robots and marketing (session 21's evaluation).
    from shadowmatch_kb.brief.compose import likely_items

    likely, unlikely = item(1, "2024-01-01", ["banking"]), item(2, "2024-01-01", ["banking"])
    cosines = {likely.id: cosine_for(FALLBACK_FLOOR + 0.1), unlikely.id: cosine_for(FALLBACK_FLOOR / 2)}
    found = likely_items(
        "I fit bathrooms",
        searcher=RankedSearcher(make_store(likely, unlikely), cosines),
        embedder=WordsEmbedder(),
        resolver=resolver,
        occupations=lambda text, k: {"occupations": [], "alternatives": [], "missing_datasets": []},
    )
    assert list(found) == [likely.id, unlikely.id]
    assert found[likely.id] > FALLBACK_FLOOR > found[unlikely.id] > 0


def test_an_unsure_computed_sector_does_not_count(resolver) -> None:
    unsure = item(1, "2024-01-01", ["nursing"])
    store = make_store(unsure)
    searcher = RankedSearcher(store, {unsure.id: 0.3})  # likely enough only if it is of the sector
    # 0.6 is what meaning alone gives a sector, without a word of it: Bain's essay on older workers read as healthcare.
    for confidence in (0.4, 0.6):
        save_enrichment(store, unsure, {"sector_confidence": {"nursing": confidence}})
        assert retrieve(searcher, reading([HEALTH]), resolver.vocabulary, today=TODAY).evidence == []
    save_enrichment(store, unsure, {"sector_confidence": {"nursing": 0.9}})
    found = retrieve(searcher, reading([HEALTH]), resolver.vocabulary, today=TODAY)
    assert [(e.in_sector, e.tier) for e in found.evidence] == [(True, "sector")]


def test_an_item_tagged_with_the_sector_however_unsure_keeps_the_sector_from_being_said_absent(resolver) -> None:
    # Session 18's review: "No item in the knowledge base is mainly about the business support services sector" beside
    # a study of support agents that `smkb show` lists with that sector (computed at 0.53).
    unsure, other = item(1, "2024-01-01", [HEALTH]), item(2, "2024-01-01", ["banking"])
    store = make_store(unsure, other)
    save_enrichment(store, unsure, {"sector_confidence": {HEALTH: 0.4}})
    searcher = RankedSearcher(store, {other.id: 0.3})  # neither is likely, nor is the tagged one even found
    found = retrieve(searcher, reading([HEALTH]), resolver.vocabulary, today=TODAY)
    assert found.evidence == [] and found.of_sector == 1
    bare = retrieve(RankedSearcher(make_store(other), {other.id: 0.3}), reading([HEALTH]), resolver.vocabulary)
    assert bare.of_sector == 0  # nothing in the knowledge base carries it: that may be said


def test_since_drops_older_items(resolver) -> None:
    old, new = item(1, "2020-05-01", ["nursing"]), item(2, "2024-02-01", ["nursing"])
    searcher = RankedSearcher(make_store(old, new), {old.id: 0.9, new.id: 0.5})
    assert set(evidence_ids(retrieve(searcher, reading([HEALTH]), resolver.vocabulary, today=TODAY))) == {
        old.id,
        new.id,
    }
    found = retrieve(searcher, reading([HEALTH]), resolver.vocabulary, since="2023-01-01", today=TODAY)
    assert evidence_ids(found) == [new.id]


def test_a_duplicate_stands_for_its_original(resolver) -> None:
    original = item(1, "2024-01-01", ["nursing"])
    copy = item(2, "2024-01-05", ["nursing"], duplicate_of=original.id)
    # Only the copy was found by meaning; the original must take its place and its cosine.
    searcher = RankedSearcher(make_store(original, copy), {copy.id: 0.8})
    found = retrieve(searcher, reading([HEALTH]), resolver.vocabulary, today=TODAY)
    assert evidence_ids(found) == [original.id]
    assert found.evidence[0].similarity == pytest.approx(0.8)


def test_one_article_imported_twice_is_one_source(resolver) -> None:
    # The same page reached from two feeds, once with tracking parameters: two items, one article.
    page = "https://news.example.org/2024/robots-on-wards"
    first = item(1, "2024-01-01", ["nursing"], url=page)
    again = item(2, "2024-01-01", ["nursing"], url=f"{page}?utm_source=newsletter&utm_medium=email")
    other = item(3, "2024-01-01", ["nursing"], url="https://news.example.org/2024/other-story")
    on_file = [item(n, "2024-01-01", ["nursing"]) for n in (4, 5)]  # files have no page: never folded together
    searcher = RankedSearcher(
        make_store(first, again, other, *on_file),
        {again.id: 0.8, first.id: 0.7, other.id: 0.6, on_file[0].id: 0.55, on_file[1].id: 0.5},
    )
    found = retrieve(searcher, reading([HEALTH]), resolver.vocabulary, today=TODAY)
    assert evidence_ids(found) == [again.id, other.id, on_file[0].id, on_file[1].id]  # the likelier copy stays
    assert evidence_ids(retrieve(searcher, reading([HEALTH]), resolver.vocabulary, limit=2, today=TODAY)) == [
        again.id,
        other.id,
    ]


def test_of_two_equally_close_items_the_newer_leads(resolver) -> None:
    older, newer = item(1, "2016-01-01", ["nursing"]), item(2, "2024-05-01", ["nursing"])
    searcher = RankedSearcher(make_store(older, newer), {older.id: 0.5, newer.id: 0.5})
    assert evidence_ids(retrieve(searcher, reading([HEALTH]), resolver.vocabulary, today=TODAY)) == [
        newer.id,
        older.id,
    ]


def test_recency_does_not_overturn_a_clearly_better_match(resolver) -> None:
    best, weak = item(1, "2020-05-01", ["nursing"]), item(2, "2024-05-01", ["nursing"])
    searcher = RankedSearcher(make_store(best, weak), {best.id: 0.6, weak.id: 0.45})
    assert evidence_ids(retrieve(searcher, reading([HEALTH]), resolver.vocabulary, today=TODAY)) == [best.id, weak.id]


def test_the_persons_own_words_lift_an_item(resolver) -> None:
    plain = item(1, "2024-01-01", ["nursing"], summary="Wards try new software.")
    worded = item(2, "2024-01-01", ["nursing"], summary="Night nurses on the ward try new software.")
    searcher = RankedSearcher(make_store(plain, worded), {plain.id: 0.5, worded.id: 0.45})
    found = retrieve(searcher, reading([HEALTH], terms=["nurses", "night"]), resolver.vocabulary, today=TODAY)
    assert evidence_ids(found) == [worded.id, plain.id]


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
    assert briefing.evidence_count == 3
    assert (briefing.notice is None) == (len(briefing.sources) >= 3)  # thin by what is cited (tested below)
    listed = [source.id for source in briefing.sources]
    assert [source.number for source in briefing.sources] == list(range(1, len(listed) + 1))
    assert TRUCKS.id not in listed
    assert briefing.overview and briefing.signals
    for claim in briefing.overview:
        assert claim.sources and set(claim.sources) <= set(listed), claim.text
    by_id = {i.id: i for i in NURSING}
    # The first is the plain lead naming the signal closest to the question; the rest are the items' own
    # sentences, shown with the title of the item they come from.
    assert briefing.overview[0].sources == briefing.signals[0].sources and len(briefing.overview) >= 2
    assert not briefing.overview[0].is_quote
    for claim in briefing.overview[1:]:
        assert claim.is_quote and claim.text in by_id[claim.sources[0]].summary
    for signal in briefing.signals:
        assert signal.sources and set(signal.sources) <= set(listed), signal.signal
        for source in signal.sources:
            assert (signal.signal, signal.change) in {(r.signal, r.change) for r in by_id[source].signals}
    # The row two items share is one signal supported by both.
    scribes = next(s for s in briefing.signals if s.signal == SCRIBES.signal)
    assert sorted(scribes.sources) == [NURSING[0].id, NURSING[1].id] and scribes.support == 2
    # Sources are numbered most relevant first, and the briefing says what it rests on.
    cited = len(briefing.sources)
    assert cited >= 2
    assert briefing.coverage == f"This briefing rests on {cited} items about the healthcare and social care sector."


def test_signals_off_the_question_are_dropped(parts) -> None:
    store = parts["store"]
    chores = item(
        7,
        "2024-05-02",
        ["nursing"],
        title="Nursing work in hospitals and a chores app",
        summary="Nursing work in hospitals changes with AI.",
        signals=[Signal("Household chores app shares tasks", "lists to app", "2027", "convenience")],
    )
    store.put_items([(chores, "hash-chores", chores.id, None)])
    sync_index(store, parts["searcher"].index, lambda: parts["embedder"])
    briefing = build_briefing(QUESTION, **parts, today=TODAY)
    assert briefing.evidence_count == 4  # the item is on the question; its one signal is not
    assert all("chores" not in s.signal for s in briefing.signals)


@pytest.mark.parametrize("question", ["", "  \n "])
def test_an_empty_question_is_a_usage_error(parts, question) -> None:
    with pytest.raises(UsageError, match="question is empty"):
        build_briefing(question, **parts)


def test_occupations_attach_only_above_the_floor_and_only_when_asked(parts) -> None:
    assert build_briefing(QUESTION, **parts, today=TODAY).occupations == []
    nurse = {"isco": "2221", "label": "Nursing professionals", "score": 0.9}
    nurse["most_exposed_tasks"] = [{"task": "Write up patient notes."}]
    porter = {"isco": "9629", "label": "Porters", "score": 0.2}
    midwife = {"isco": "2222", "label": "Midwifery professionals", "score": 0.7}  # 0.78 of the first: offered
    answer = {"occupations": [nurse], "alternatives": [midwife, porter], "missing_datasets": ["onet"]}
    calls = []

    def matcher(text: str, k: int) -> dict:
        calls.append((text, k))
        return answer

    briefing = build_briefing(QUESTION, **parts, occupations=matcher, today=TODAY)
    assert calls == [(QUESTION, 1)]  # the best one with its figures; the close others by name only
    assert [o["label"] for o in briefing.occupations] == ["Nursing professionals"]
    assert briefing.alternatives == [midwife]  # the porter scores under 0.7 of the first: not a likely "you"
    assert briefing.missing_datasets == ["onet"]
    assert any('"Write up patient notes"' in prompt for prompt in briefing.prompts)
    # Under the floor the matcher is not sure enough to name anyone, unless the person chose the group.
    answer["occupations"] = [porter]
    assert build_briefing(QUESTION, **parts, occupations=matcher, today=TODAY).occupations == []
    chosen = build_briefing(QUESTION, **parts, occupations=matcher, chosen_occupation="9629", today=TODAY)
    assert [o["label"] for o in chosen.occupations] == ["Porters"]
    assert not chosen.occupation_unsure  # the person said it is theirs


def test_a_loose_first_match_is_said_to_be_unsure_and_the_others_offered_plainly(parts) -> None:
    # Session 12's reviewers asked to be told when the match is weak: under 0.6, one first match in four was wrong
    # on the development descriptions and questions; above it, two in 67.
    from shadowmatch_kb.brief.compose import SURE_MATCH
    from shadowmatch_kb.brief.render import to_html, to_markdown

    waiter = {"isco": "5131", "label": "Waiters", "score": SURE_MATCH - 0.01, "exposure": []}
    counter = {"isco": "5246", "label": "Food service counter attendants", "score": SURE_MATCH - 0.02}
    answer = {"occupations": [waiter], "alternatives": [counter], "missing_datasets": []}
    briefing = build_briefing(QUESTION, **parts, occupations=lambda text, k: answer, today=TODAY)
    assert briefing.occupation_unsure and briefing.to_dict("")["occupation_unsure"] is True
    said = "Is this your job? Your words could also fit"
    assert f"*{said} Food service counter attendants.*" in to_markdown(briefing)
    assert said in to_html(briefing) and "Is this you?" not in to_markdown(briefing)
    waiter["score"] = SURE_MATCH
    sure = build_briefing(QUESTION, **parts, occupations=lambda text, k: answer, today=TODAY)
    assert not sure.occupation_unsure and "*Is this you? If not, the closest others are" in to_markdown(sure)
    waiter["score"], answer["alternatives"] = SURE_MATCH - 0.01, []
    alone = to_markdown(build_briefing(QUESTION, **parts, occupations=lambda text, k: answer, today=TODAY))
    assert "*Your words do not point clearly to one occupation, so this may not be yours.*" in alone


def test_a_question_the_store_holds_nothing_on_says_so_plainly(parts) -> None:
    briefing = build_briefing("How will AI change commercial fishing boats?", **parts, today=TODAY)
    assert briefing.sectors == ["farming, forestry and fishing"]
    assert briefing.coverage == "The knowledge base holds nothing yet on the farming, forestry and fishing sector."
    assert briefing.notice and "smkb" not in briefing.notice  # written for the mentor, not the analyst
    assert briefing.sources == [] and briefing.signals == [] and briefing.overview == []


def test_without_an_index_the_sector_still_finds_items_by_their_words(parts) -> None:
    words_only = Searcher(parts["store"], None, None)
    briefing = build_briefing(QUESTION, **{**parts, "searcher": words_only}, today=TODAY)
    assert briefing.notices == [NO_INDEX_NOTICE]
    assert briefing.evidence_count == 3 and TRUCKS.id not in [s.id for s in briefing.sources]
    assert build_briefing(QUESTION, **parts, today=TODAY).notices == []


def test_the_occupation_names_the_sector_before_the_questions_words(parts) -> None:
    def matcher(isco: str, label: str):
        return lambda text, k: {"occupations": [{"isco": isco, "label": label, "score": 0.9}], "missing_datasets": []}

    # The words point at hospitals; a designer works in media and the arts, an office clerk anywhere.
    nurse = build_briefing(QUESTION, **parts, occupations=matcher("2221", "Nursing professionals"), today=TODAY)
    assert nurse.sectors == [HEALTH]
    designer = build_briefing(QUESTION, **parts, occupations=matcher("2166", "Graphic designers"), today=TODAY)
    assert designer.sectors == ["IT, telecoms and media", "arts, entertainment and recreation"]
    clerk = build_briefing(QUESTION, **parts, occupations=matcher("4110", "General office clerks"), today=TODAY)
    assert clerk.sectors == [HEALTH]  # work spread over many sectors: the question's words decide


def test_coverage_says_which_items_name_the_job_and_which_are_of_its_sector() -> None:
    from shadowmatch_kb.brief.compose import _coverage
    from shadowmatch_kb.brief.model import Briefing, Source
    from shadowmatch_kb.brief.retrieve import Evidence, Retrieval

    def evidence(n: int, tier: str, in_sector: bool) -> Evidence:
        return Evidence(f"{n:032x}", 0.5, 0.4, 0.4, in_sector, tier, "2024-01-01")

    def coverage(
        found: list[Evidence], of_sector: int, naming: frozenset[str] = frozenset(), lacks: bool = False
    ) -> str:
        briefing = Briefing("I'm a plumber", None, ["construction"], len(found))
        briefing.occupations = [{"isco": "7126", "label": "Plumbers and pipe fitters"}]
        briefing.title = "plumber"
        briefing.sources = [Source(n + 1, e.item_id, "t", None, None) for n, e in enumerate(found)]
        lacked = ["plumber"] if lacks else []
        return _coverage(Retrieval(["construction"], found, 10, [], of_sector), briefing, ("plumber", naming), lacked)

    assert (
        coverage([], 0)
        == "The knowledge base holds nothing yet on plumbers and pipe fitters or the construction sector."
    )
    # Items of the sector exist but none is close to the work: that is said, not that the sector is absent.
    assert coverage([], 2) == (
        "The knowledge base holds nothing yet on plumbers and pipe fitters, and none of its items on the "
        "construction sector is close to the work you describe."
    )
    # An item close in meaning to the occupation is not said to be on the work: 40 % of such claims were right on
    # the development questions. That it names the job is a fact the reader can check.
    close = evidence(1, "occupation", True)
    assert coverage([close], 1) == "This briefing rests on 1 item about the construction sector."
    assert coverage([close], 1, {close.item_id}) == "This briefing rests on 1 item that names plumbers."
    two = [close, evidence(2, "occupation", False)]
    assert coverage(two, 1, {close.item_id, two[1].item_id}) == "This briefing rests on 2 items that name plumbers."
    assert coverage([evidence(1, "sector", True), evidence(2, "wider", False)], 3, lacks=True) == (
        "No item in the knowledge base names plumbers. This briefing rests on 1 item about the construction sector "
        "and 1 item closest to the work you describe."
    )
    assert coverage([evidence(2, "occupation", False)], 0, lacks=True) == (
        "No item in the knowledge base names plumbers or is mainly about the construction sector. This briefing "
        "rests on 1 item closest to the work you describe."
    )


def test_coverage_names_the_sectors_its_items_are_about_and_sets_sector_names_apart() -> None:
    # Session 19's reviewer read "1 item about the law, accounting and professional services and IT, telecoms and
    # media sectors" for a translator's one item, tagged only with the first: names that hold "and" and commas.
    from shadowmatch_kb.brief.compose import _coverage
    from shadowmatch_kb.brief.model import Briefing, Source
    from shadowmatch_kb.brief.render import to_markdown
    from shadowmatch_kb.brief.retrieve import Evidence, Retrieval

    law, media = "law, accounting and professional services", "IT, telecoms and media"
    briefing = Briefing("I translate medical leaflets", None, [law, media], 1)
    legal = Evidence("a" * 32, 0.5, 0.4, 0.4, True, "sector", "2024-01-01", sure_sectors=(law,))
    briefing.sources = [Source(1, legal.item_id, "t", None, None)]
    said = _coverage(Retrieval([law, media], [legal], 10, [], 1), briefing)
    assert said == f"This briefing rests on 1 item about the {law} sector."
    both = Evidence("b" * 32, 0.5, 0.4, 0.4, True, "sector", "2024-01-01", sure_sectors=(media, law))
    briefing.sources.append(Source(2, both.item_id, "t", None, None))
    said = _coverage(Retrieval([law, media], [legal, both], 10, [], 2), briefing)
    assert said == f"This briefing rests on 2 items about the {law} sector and the {media} sector."
    assert f"*Sectors: {law}; {media}.*" in to_markdown(briefing)
    briefing.sectors = [law]
    assert f"*Sector: {law}.*" in to_markdown(briefing)


def test_a_thin_briefing_lets_the_items_own_sentences_speak_without_a_plain_lead(tmp_path, resolver) -> None:
    store = make_store(NURSING[0])
    embedder = WordsEmbedder()
    index = FlatIndex(tmp_path / "flat", embedder.model_name, embedder.dimension)
    sync_index(store, index, lambda: embedder)
    searcher = Searcher(store, index, lambda: embedder)
    briefing = build_briefing(
        QUESTION, searcher=searcher, store=store, embedder=embedder, resolver=resolver, today=TODAY
    )
    store.close()
    assert briefing.evidence_count == 1 and briefing.notice  # thin: fewer than three items
    assert briefing.signals and briefing.overview  # its signals are still listed, each cited
    assert all(claim.is_quote for claim in briefing.overview)  # but none is announced as "the change closest"


def test_a_briefing_is_thin_by_the_items_it_cites_not_those_it_found() -> None:
    from shadowmatch_kb.brief.compose import _notice
    from shadowmatch_kb.brief.model import Briefing, Source
    from shadowmatch_kb.brief.retrieve import Evidence, Retrieval

    found = [Evidence(f"{n:032x}", 0.5, 0.4, 0.4, True, "sector", "2024-01-01") for n in (1, 2, 3)]
    briefing = Briefing("q", None, [HEALTH], 3)
    retrieval = Retrieval([HEALTH], found, 3)
    briefing.sources = [Source(n + 1, e.item_id, "t", None, None) for n, e in enumerate(found)]
    assert _notice(retrieval, briefing) is None
    briefing.sources = briefing.sources[:2]  # the third had nothing on the question to quote
    assert _notice(retrieval, briefing) == "Treat what follows as a starting point."


def test_a_job_the_ilo_rates_low_is_not_asked_which_parts_ai_could_do(parts) -> None:
    from shadowmatch_kb.brief.render import to_html, to_markdown

    def matcher(grade: str):
        plumber = {"isco": "7126", "label": "Plumbers and pipe fitters", "score": 0.9}
        grading = {"dataset": "ilo_genai_2025", "measure": "exposure gradient", "value": grade}
        plumber["exposure"] = [grading | {"attribution": "ILO", "plain": f"{grade}.", "percentile": None}]
        plumber["most_exposed_tasks"] = [{"task": "Testing installed pipes with a pressure gauge."}]
        return lambda text, k: {"occupations": [plumber], "missing_datasets": []}

    low = build_briefing(QUESTION, **parts, occupations=matcher("Not Exposed"), today=TODAY)
    assert any("Could a chatbot help with any part of it?" in p for p in low.prompts)
    assert "Even the tasks the ILO rates most open to generative AI in this job are rated low" in to_markdown(low)
    assert "Even the tasks the ILO rates most open" in to_html(low)
    exposed = build_briefing(QUESTION, **parts, occupations=matcher("Exposed: Gradient 3"), today=TODAY)
    assert any("Which parts could AI help with?" in p for p in exposed.prompts)
    assert "the ILO rates these most open to generative AI" in to_markdown(exposed)


def test_an_item_no_signal_states_has_its_say_in_the_overview() -> None:
    embedder = WordsEmbedder()
    targets = embedder.embed_batch(["nurses write patient notes on the ward"])
    stated = item(1, "2024-01-01", [], summary="Nurses write patient notes with ambient scribes on the ward today.")
    also_close = item(
        2, "2024-01-01", [], summary="Ward nurses write patient notes faster when software drafts them first."
    )
    unstated = item(3, "2024-01-01", [], summary="Hospital nurses say patient notes take a third of every shift.")
    evidence = [stated, also_close, unstated]
    # When the signals state every item, the two closest sentences win the two places.
    every = {i.id for i in evidence}
    assert [c.sources for c in overview(evidence, targets, embedder, 2, stated=every)] == [[stated.id], [also_close.id]]
    # Items that no chosen signal states come first, so every item the briefing cites has its say ...
    picked = overview(evidence, targets, embedder, 2, stated={stated.id})
    assert [c.sources for c in picked] == [[also_close.id], [unstated.id]]
    assert [c.text for c in picked] == [also_close.summary, unstated.summary]
    # ... even past the count asked for, up to what fits on the page.
    assert len(overview(evidence, targets, embedder, 2)) == 3


def test_a_question_about_machines_opens_with_what_the_cited_sources_report_of_them(parts) -> None:
    question = "I drive a lorry on the motorway for freight firms. Will driverless lorries put me out of work?"
    briefing = build_briefing(question, **parts, today=TODAY)
    number = briefing.number_of(TRUCKS.id)
    assert briefing.notice  # little evidence: the items are the closest the knowledge base holds
    assert briefing.in_short == (
        f"On robots and machines, the closest items below report: “Driverless lorries on motorways” (drivers to "
        f"remote supervisors) [{number}]."
    )
    assert build_briefing(QUESTION, **parts, today=TODAY).in_short is None  # no figures, no machines asked of
    # A kind of machine asked about that no cited item's words speak of is said so; the lorries' item does speak of
    # driverless lorries, so only the drones are.
    drones = build_briefing(
        question.replace("driverless lorries", "drones or driverless lorries"), **parts, today=TODAY
    )
    assert drones.in_short is not None and drones.in_short.endswith(
        f"[{drones.number_of(TRUCKS.id)}]. None of the sources below speaks of drones."
    )


def test_a_claim_of_automation_is_shown_with_its_sources_own_qualification(parts) -> None:
    # The qualification shares no word with the question, so only its claim brings it in (see brief/balance.py).
    store = parts["store"]
    claim = Signal("Nursing work in hospitals automated", "nurses chart by hand to AI charting", "2027", "cost")
    answer = Signal("Complement more likely than replace", "fear of lost jobs to redesigned jobs", "2030", "law")
    forecast = item(
        8,
        "2024-05-03",
        ["nursing"],
        title="Forecast: AI will change nursing work in hospitals",
        summary="A forecast says AI will automate nursing work in hospitals.",
        signals=[claim, answer],
    )
    store.put_items([(forecast, "hash-forecast", forecast.id, None)])
    sync_index(store, parts["searcher"].index, lambda: parts["embedder"])
    shown = [s.signal for s in build_briefing(QUESTION, **parts, today=TODAY).signals]
    assert claim.signal in shown and shown[shown.index(claim.signal) + 1] == answer.signal
