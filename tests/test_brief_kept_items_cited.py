"""Every item retrieval keeps as likely on the person's work or sector is cited, even when none of its sentences or
rows is close to how the person put their question; items that only stand in still need to be close to be shown.

Session 11's reading: a home-insurance claims handler's briefing found the Bank of England's survey of UK financial
firms (likely of their sector), then showed nothing of it, because no sentence reached the overview's floor of
closeness, and told the mentor that nothing the knowledge base held on their sector was close to their work.
"""

from __future__ import annotations

import pytest
from test_brief_overview import TARGET, _item
from test_brief_unit import (  # noqa: F401  (parts and resolver are fixtures)
    QUESTION,
    TODAY,
    TRUCKS,
    parts,
    resolver,
)
from test_search_unit import WordsEmbedder

from shadowmatch_kb.brief import compose
from shadowmatch_kb.brief.overview import OVERVIEW_FLOOR, overview
from shadowmatch_kb.brief.retrieve import Evidence, retrieve

FAR = "Three in four financial firms now run machine learning in their daily operations."
FARTHER = "Regulators asked banks about their models."


def test_a_kept_item_gives_its_best_sentence_though_none_reaches_the_floor() -> None:
    embedder = WordsEmbedder()
    targets = embedder.embed_batch([TARGET])
    far = _item(1, f"{FARTHER} {FAR}")
    assert (embedder.embed_batch([FAR, FARTHER]) @ targets.T).max() < OVERVIEW_FLOOR
    assert overview([far], targets, embedder, 3) == []
    chosen = overview([far], targets, embedder, 3, must_cite={far.id})
    assert len(chosen) == 1 and chosen[0].sources == [far.id] and chosen[0].text in (FAR, FARTHER)
    # Only the kept item is let through: another far item stays out, and a close one is chosen as before.
    close = _item(2, "Ward nurses write patient notes with new drafting software every shift.")
    other = _item(3, FAR)
    cited = [c.sources[0] for c in overview([far, close, other], targets, embedder, 3, must_cite={far.id})]
    assert sorted(cited) == [far.id, close.id]


@pytest.mark.parametrize("standing_in", [False, True])
def test_a_briefing_cites_every_item_it_keeps_but_not_far_stand_ins(parts, monkeypatch, standing_in) -> None:  # noqa: F811
    def lorries_only(*args, **kwargs):
        found = retrieve(*args, **kwargs)
        found.evidence = [Evidence(TRUCKS.id, 0.5, 0.0, 0.0, True, "sector", "2024-01-01", relevance=0.5)]
        found.standing_in = standing_in
        return found

    monkeypatch.setattr(compose, "retrieve", lorries_only)
    briefing = compose.build_briefing(QUESTION, **parts, today=TODAY)  # a nurse's question; the item is on lorries
    assert briefing.signals == []  # its one row is nowhere near nursing
    if standing_in:
        assert briefing.sources == [] and briefing.overview == []
    else:
        assert [s.id for s in briefing.sources] == [TRUCKS.id]
        assert [claim.text for claim in briefing.overview] == [TRUCKS.summary]
