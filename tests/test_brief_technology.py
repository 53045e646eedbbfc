"""A briefing rests only on items that name a technology: one about older workers or family carers, however close
its subject to a care worker's day, is no evidence on how AI changes that work.

Session 13's blind mentor reviews quoted such items as the worst lines of a home care worker's briefing ("Embracing
Older Workers", "Supporting Working Caregivers"); session 12's quoted "career cushioning" for a train guard.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import require_shared
from test_brief_unit import (  # noqa: F401  (resolver is a fixture)
    HEALTH,
    TODAY,
    RankedSearcher,
    cosine_for,
    evidence_ids,
    item,
    make_store,
    reading,
    resolver,
)

from shadowmatch_kb.brief.retrieve import FALLBACK_FLOOR, FALLBACK_ITEMS, WITHOUT_OCCUPATION, retrieve
from shadowmatch_kb.kb import KnowledgeBase
from shadowmatch_kb.model import Signal
from shadowmatch_kb.text.technology import speaks_of_technology


@pytest.mark.parametrize(
    ("text", "names_one"),
    [
        ("Short-staffed hotels turn to robots and kiosks", True),
        ("AI scribes draft visit notes", True),
        ("Cashiers move to the self-checkouts", True),
        ("The text discusses the digitisation of payroll", True),
        ("A GPT-4 model drafted the letters", True),
        ("Embracing Older Workers: Strategies for a Changing Workforce", False),
        ("Supporting Working Caregivers: Insights from a 2022 survey", False),
        ("Staff maintain the aisles and said it was fair", False),  # "ai" inside words, "said": no AI
        ("Career cushioning: workers quietly line up a plan B", False),
    ],
)
def test_what_counts_as_naming_a_technology(text: str, names_one: bool) -> None:
    assert speaks_of_technology(text) is names_one


def test_an_item_naming_no_technology_is_not_cited_however_close(resolver) -> None:  # noqa: F811
    carers = item(1, "2024-01-01", ["nursing"], title="Family carers juggle work and care", summary="A survey.")
    rota = item(2, "2024-01-01", ["nursing"], title="Care rotas", summary="Agencies plan visits with software.")
    row = Signal("Visits planned by an app", "from paper rotas to phones")
    checks = item(3, "2024-01-01", ["nursing"], title="Care checks", summary="Carers log visits.", signals=[row])
    floor = WITHOUT_OCCUPATION.cite_floor
    cosines = {carers.id: cosine_for(floor + 0.3), rota.id: cosine_for(floor + 0.1), checks.id: cosine_for(floor)}
    store = make_store(carers, rota, checks)
    found = retrieve(RankedSearcher(store, cosines), reading([HEALTH]), resolver.vocabulary, today=TODAY)
    assert evidence_ids(found) == [rota.id, checks.id]  # a Signals row that names one counts too
    # Standing in, the closest items that name a technology stand in, not the closest of all.
    unlikely = {
        carers.id: cosine_for(floor - 0.02, in_sector=True),
        rota.id: cosine_for(FALLBACK_FLOOR + 0.01, in_sector=True),
    }
    found = retrieve(RankedSearcher(store, unlikely), reading([HEALTH]), resolver.vocabulary, today=TODAY)
    assert evidence_ids(found) == [rota.id] and found.standing_in and FALLBACK_ITEMS >= 1
    # Nothing that names one: nothing stands in, and the briefing says it holds nothing.
    only_carers = RankedSearcher(make_store(carers), {carers.id: cosine_for(floor + 0.3)})
    found = retrieve(only_carers, reading([HEALTH]), resolver.vocabulary, today=TODAY)
    assert found.evidence == [] and not found.standing_in


POSTS = {
    "older workers": "73f1352a504ec78d7c92fa6f9b7c6922.md",  # no technology named
    "working caregivers": "34cf7c763893dffcb76337fc3dbf3a8a.md",  # no technology named
    "AI in systems of care": "58f70468586e816cc19aaf2bfbbf8f5b.md",
}
CARE_WORKER = (
    "I visit elderly people in their own homes as a care worker, helping them wash, dress and take their tablets. "
    "What difference will AI make to care work?"
)


@pytest.mark.slow
def test_real_posts_a_care_worker_is_not_shown_items_that_name_no_technology(tmp_path, seed_onnx) -> None:
    posts = require_shared("signals_posts")
    for name in POSTS.values():
        shutil.copy(posts / name, tmp_path / name)
    kb_dir = tmp_path / "kb"
    seed_onnx(kb_dir)
    kb = KnowledgeBase.open(kb_dir)
    ids = {key: r.id for key, r in zip(POSTS, kb.ingest([str(tmp_path / n) for n in POSTS.values()]), strict=True)}
    for key in ("older workers", "working caregivers"):
        stored = kb.get(str(ids[key]))
        rows = [f"{r.signal} {r.change} {r.horizon} {r.driving_force}" for r in stored.signals]
        assert not speaks_of_technology(stored.title, stored.summary, *rows)
    briefing = kb.brief(CARE_WORKER)
    kb.close()
    cited = {s.id for s in briefing.sources}
    assert cited == {ids["AI in systems of care"]}
