"""The items a briefing rests on: those most likely about the person's work, their sector, or close to it.

A question is read as a person means it (``Reading``): what they do (the question without its framing,
``search.focus``), the occupation it names and the sectors that occupation works in. Every item either
ranking finds gets five signals:

* how close its meaning (its own vector: title and summary) is to what the person does;
* how close it is to the occupation's names (ISCO group and the ESCO label that matched);
* how close it is to the occupation's work (the mean of ESCO's descriptions and the ILO's tasks of its group);
* whether it is of the person's sector (a sector enrichment was sure of);
* whether it holds the person's own words (BM25 over every content word, OR-ed);

and a logistic model (``RelevanceModel``, fitted on the development half of ``scripts/eval_brief_set.json`` by
``scripts/fit_brief_relevance.py``) turns them into the chance that the item is on the person's work or
sector. Items are cited above the model's floor, most likely first (a small recency factor parts
near-equals); when none reaches it, the closest couple stand in and the briefing says how little it holds.
The occupation and the sector are signals, never gates. Each item's tier (about the occupation, of its
sector, or the wider picture) only says which of these the briefing found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from shadowmatch_kb.fetch.safety import page_address
from shadowmatch_kb.model import ItemFilter
from shadowmatch_kb.search.searcher import NO_INDEX_NOTICE, Searcher
from shadowmatch_kb.store.timeline import DatedItem, dated_items

if TYPE_CHECKING:
    from shadowmatch_kb.text.sectors import SectorVocabulary

__all__ = [
    "MIN_EVIDENCE",
    "TIERS",
    "WITHOUT_OCCUPATION",
    "WITH_OCCUPATION",
    "Evidence",
    "Reading",
    "RelevanceModel",
    "Retrieval",
    "retrieve",
    "score_candidates",
]

DEPTH = 200  # hits read from each ranking
MIN_EVIDENCE = 3  # fewer items about the occupation or the sector than this: the evidence is thin
TIERS = ("occupation", "sector", "wider")
# An item is said to be about the occupation when its meaning is this close to the occupation's names (for the
# briefing's wording: whether it cites items on the occupation, its sector or the wider picture).
OCCUPATION_FLOOR = 0.35
# ... or when its meaning is this close to what the person does. On the development half, of the items cited then 10 of
# 25 are graded about the occupation or its tasks (7 of 16 by the names alone), and 3 such items are not said to be
# close (6 by the names alone). Session 15's reviewers read "No item ... is close to the work of freight handlers" as
# false above Amazon's warehouse storage system cited for an order picker (cosine 0.50 with what they said, 0.34
# with "Freight handlers").
CLOSE_TO_WORK = 0.45
# Items cited when the estimated chance that they are on the person's work reaches the model's floor; when none
# does, the best FALLBACK_ITEMS reaching FALLBACK_FLOOR stand in (the briefing then says how little it holds).
FALLBACK_FLOOR = 0.1
FALLBACK_ITEMS = 2
# ... or when its meaning is this close to what the person does, whatever its sector: a call-centre worker whose
# occupation names no sector still hears of the chatbots taking customer chats in a bank.
WIDER_FLOOR = 0.35
# A sector that enrichment computed counts when it was surer than this (items computed at 0.8 or more were about the
# sector 97 % of the time on the labelled items of the earlier evaluation, 0.6-0.8 72 %). Exactly 0.6 is the most
# that meaning alone gives, without a word of the sector (``enrich.sectors``): a resemblance, as Bain's essay on older
# workers read as healthcare (development half: cited sources of grade >= 1 0.741 -> 0.776, search 0.829 -> 0.832).
SECTOR_CONFIDENCE_FLOOR = 0.6
# The signal of the person's own words: first place in the keyword ranking 0.5, tenth about 0.15.
KEYWORD_WEIGHT = 0.5
# Recency parts near-equals only: a fresh item weighs at most 5 % more; the bonus halves every two years.
RECENCY_WEIGHT = 0.05
RECENCY_HALF_LIFE_YEARS = 2.0


@dataclass(frozen=True)
class RelevanceModel:
    """The estimated chance that an item is on a person's work or sector: a logistic model of four signals,
    and the chance at which an item is cited."""

    intercept: float
    similarity: float  # cosine with what the person does
    occupation_similarity: float  # cosine with the occupation's names
    in_sector: float  # of the occupation's (else the question's) sector
    keyword: float  # the person's own words in the item (0..KEYWORD_WEIGHT)
    occupation_work: float  # cosine with what the occupation's work is
    cite_floor: float

    def chance(
        self, similarity: float, near_occupation: float, in_sector: bool, words: float, near_work: float = 0.0
    ) -> float:
        """The estimated chance for one item's signals."""
        z = self.intercept + self.similarity * similarity + self.occupation_similarity * near_occupation
        z += self.in_sector * in_sector + self.keyword * words + self.occupation_work * near_work
        return 1.0 / (1.0 + math.exp(-z))


# Fitted on the development half of scripts/eval_brief_set.json by `python scripts/fit_brief_relevance.py` (the
# test half was never used), once with the occupation datasets and once without. Floors from the same run,
# holding out one question at a time: with an occupation, 64 items kept at 0.3 were relevant 66 % of the time, 47
# at 0.4 72 %, 36 at 0.45 81 % (but four questions then kept none though a relevant item existed; one at 0.4); without,
# 54 % at 0.2, 65 % at 0.3 and 81 % at 0.4 (six questions left with none). Without the occupation's figures the items
# are all a briefing has, so it keeps more of them. The closeness to the occupation's work (session 18) moved the
# evaluation's test half: search nDCG@10 0.677 to 0.699, signals on the person's work 0.833 to 0.865, cited sources
# the same 42 at 0.786; on the development half 6 more items were cited, 0.786 relevant to 0.75 (signals 0.831 to
# 0.814).
WITH_OCCUPATION = RelevanceModel(-6.94, 3.63, 2.62, 2.99, 2.7, 3.15, cite_floor=0.4)
WITHOUT_OCCUPATION = RelevanceModel(-5.97, 5.0, 0.0, 2.93, 3.46, 0.0, cite_floor=0.2)


@dataclass(frozen=True)
class Reading:
    """A question as the person means it: what they do, their occupation (if named) and their sectors."""

    focus: str  # the question without its framing
    terms: list[str]  # its content words
    sectors: list[str] = field(default_factory=list)  # friendly section names
    occupation: str | None = None  # the occupation's names, as one text for the model
    work: np.ndarray | None = field(default=None, compare=False, repr=False)  # the occupation's work, as a vector


@dataclass(frozen=True)
class Evidence:
    """One item a briefing may cite, with why it was chosen."""

    item_id: str
    score: float
    similarity: float  # cosine of the item with what the person does (0.0 when only words found it)
    occupation_similarity: float
    in_sector: bool
    tier: str  # one of TIERS: close to the occupation, else of its sector, else the wider picture
    date: str
    keyword: float = 0.0  # what the person's own words add (0 when no word of theirs is in the item)
    relevance: float = 0.0  # estimated chance the item is on the person's work or sector
    sure_sectors: tuple[str, ...] = ()  # the item's sectors enrichment was sure of (what a source says it is about)
    work_similarity: float = 0.0  # cosine of the item with the occupation's work (0.0 when that did not find it)


@dataclass
class Retrieval:
    """The evidence for one question, best first, what each tier found, and what to tell the operator."""

    sectors: list[str]
    evidence: list[Evidence]
    candidates: int
    notices: list[str] = field(default_factory=list)
    of_sector: int = 0  # items found of the person's sector, cited or not (else: whether the knowledge base tags any)
    standing_in: bool = False  # no item reached the floor: the evidence is the closest few, not items on the work

    def count(self, tier: str) -> int:
        """How many evidence items are of one tier."""
        return sum(e.tier == tier for e in self.evidence)

    @property
    def thin(self) -> bool:
        """Too little about the occupation and the sector to say much."""
        return self.count("occupation") + self.count("sector") < MIN_EVIDENCE


def retrieve(
    searcher: Searcher,
    reading: Reading,
    vocabulary: SectorVocabulary,
    *,
    since: str | None = None,
    limit: int = 6,
    today: date | None = None,
) -> Retrieval:
    """Up to ``limit`` items for ``reading``, most likely on the person's work first: those whose estimated
    relevance reaches the model's ``cite_floor``; when none does, the ``FALLBACK_ITEMS`` closest that reach
    ``FALLBACK_FLOOR`` (the briefing then says it holds little on this work)."""
    candidates, notices, count = score_candidates(searcher, reading, vocabulary, since=since, today=today)
    standing_in = False
    if notices:  # no index: words alone cannot tell an item's subject, the sector can
        found = [e for e in candidates if e.in_sector]
    else:
        found = [e for e in candidates if e.relevance >= _model(reading).cite_floor]
        if not found:  # the closest few, by the model or by meaning alone (a worker no sector names)
            found = [e for e in candidates if e.relevance >= FALLBACK_FLOOR or e.similarity >= WIDER_FLOOR]
            found, standing_in = found[:FALLBACK_ITEMS], bool(found)
    of_sector = sum(e.in_sector for e in candidates)
    if not of_sector:  # none found that enrichment was sure of; one the knowledge base tags with the sector at all
        # is not "nothing": session 18's reviewer read "No item ... is mainly about the business support services
        # sector" beside a study of support agents tagged with it (at 0.53)
        of_sector = int(any(searcher.store.filtered_ids(ItemFilter(sector=s), limit=1) for s in reading.sectors))
    evidence = _one_per_page(searcher, found, limit)
    return Retrieval(reading.sectors, evidence, count, notices, of_sector, standing_in)


def _one_per_page(searcher: Searcher, found: list[Evidence], limit: int) -> list[Evidence]:
    """The first ``limit`` of ``found``, one item per web page: an article imported twice (from two feeds, or once
    with tracking parameters in its address) is one source, not two, and the likelier copy stands for it."""
    rows = searcher.store.brief_rows([e.item_id for e in found[: 2 * limit]])
    kept: list[Evidence] = []
    pages: set[str] = set()
    for evidence in found:
        row = rows.get(evidence.item_id)
        page = page_address(row["url"]) if row is not None else None
        if page in pages:
            continue
        if page is not None:
            pages.add(page)
        kept.append(evidence)
        if len(kept) == limit:
            break
    return kept


def score_candidates(
    searcher: Searcher,
    reading: Reading,
    vocabulary: SectorVocabulary,
    *,
    since: str | None = None,
    today: date | None = None,
) -> tuple[list[Evidence], list[str], int]:
    """Every item either ranking finds for ``reading`` with its signals and estimated relevance, most likely
    first; the notices to pass on; how many hits were read (``scripts/fit_brief_relevance.py`` fits on these)."""
    texts = [reading.focus] + ([reading.occupation] if reading.occupation else [])
    meaning = searcher.meaning(texts, DEPTH)
    if reading.occupation and reading.work is not None:  # third, after the focus and the occupation's names
        meaning.append(searcher.near(reading.work, DEPTH))
    keyword = [item_id for item_id, _ in searcher.store.any_term_search(reading.terms, limit=DEPTH)]
    notices = [NO_INDEX_NOTICE] if searcher.index is None and searcher.store.count() else []
    candidates = list(dict.fromkeys([*keyword, *(i for scores in meaning for i in scores)]))
    facets = _facets(searcher, candidates)

    focus: dict[str, float] = {}
    occupation: dict[str, float] = {}
    work: dict[str, float] = {}
    keyword_bonus: dict[str, float] = {}
    for scores, into in zip(meaning, (focus, occupation, work), strict=False):
        for item_id, score in scores.items():
            target = _original(item_id, facets, since)
            if target is not None and score > into.get(target, -2.0):
                into[target] = score  # an original takes its closest copy's similarity
    for rank, item_id in enumerate(keyword):
        target = _original(item_id, facets, since)
        if target is not None and target not in keyword_bonus:
            keyword_bonus[target] = KEYWORD_WEIGHT / (1.0 + math.log1p(rank))

    today = today or date.today()
    model = _model(reading)
    found: list[Evidence] = []
    for item_id in {*focus, *occupation, *work, *keyword_bonus}:
        item = facets[item_id]
        similarity, near_occupation = focus.get(item_id, 0.0), occupation.get(item_id, 0.0)
        words, near_work = keyword_bonus.get(item_id, 0.0), work.get(item_id, 0.0)
        sure = _sure_sectors(item)
        in_sector = _in_sector(sure, reading.sectors, vocabulary)
        relevance = model.chance(similarity, near_occupation, in_sector, words, near_work)
        # Close to what the person does is close to their occupation's work when they have one and the item is likely
        # on it (an item only standing in for a question nothing is about is never close).
        likely = reading.occupation is not None and relevance >= model.cite_floor
        close = near_occupation >= OCCUPATION_FLOOR or (likely and similarity >= CLOSE_TO_WORK)
        tier = "occupation" if close else "sector" if in_sector else "wider"
        score = relevance * _recency(item.date, today)
        found.append(
            Evidence(
                item_id,
                score,
                similarity,
                near_occupation,
                in_sector,
                tier,
                item.date,
                words,
                relevance,
                sure,
                near_work,
            )
        )
    found.sort(key=lambda e: (-e.score, e.item_id))
    return found, notices, len(candidates)


def _model(reading: Reading) -> RelevanceModel:
    return WITH_OCCUPATION if reading.occupation else WITHOUT_OCCUPATION


def _facets(searcher: Searcher, candidates: list[str]) -> dict[str, DatedItem]:
    facets = {d.item_id: d for d in dated_items(searcher.store, item_ids=candidates)}
    originals = {d.duplicate_of for d in facets.values() if d.duplicate_of and d.duplicate_of not in facets}
    facets.update({d.item_id: d for d in dated_items(searcher.store, item_ids=originals)})
    return facets


def _original(item_id: str, facets: dict[str, DatedItem], since: str | None) -> str | None:
    """The item a hit stands for (a copy stands for its original); None when it is gone or too old."""
    found = facets.get(item_id)
    if found is None:
        return None
    target = found.duplicate_of if found.duplicate_of in facets else item_id
    if since and facets[target].date < since:
        return None
    return target


def _sure_sectors(item: DatedItem) -> tuple[str, ...]:
    """The item's sectors enrichment was sure of (one it states itself or an analyst set is sure)."""
    return tuple(label for label in item.sectors if item.sector_confidence(label) > SECTOR_CONFIDENCE_FLOOR)


def _in_sector(sure: tuple[str, ...], sectors: list[str], vocabulary: SectorVocabulary) -> bool:
    return any(vocabulary.normalise(label) in sectors for label in sure)


def _recency(day: str, today: date) -> float:
    try:
        age_years = max(0.0, (today - date.fromisoformat(day[:10])).days / 365.25)
    except ValueError:
        return 1.0
    return 1.0 + RECENCY_WEIGHT * math.pow(0.5, age_years / RECENCY_HALF_LIFE_YEARS)
