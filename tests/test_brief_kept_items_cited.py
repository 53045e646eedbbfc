"""Every item retrieval keeps as likely on the person's work or sector is cited, with its best sentence even when
none of its sentences is close to how the person put their question, and its best signal when that is at least
loosely on it; items that only stand in still need to be close to be shown.

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
    item,
    parts,
    resolver,
)
from test_search_unit import WordsEmbedder

from shadowmatch_kb.brief import compose
from shadowmatch_kb.brief.compose import KEPT_ITEM_SIGNAL_FLOOR, SIGNAL_FLOOR
from shadowmatch_kb.brief.overview import OVERVIEW_FLOOR, overview
from shadowmatch_kb.brief.retrieve import Evidence, retrieve
from shadowmatch_kb.model import Signal, row_text

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
    assert briefing.signals == []  # its one row is nowhere near nursing, kept or not
    if standing_in:  # nor is its sentence: nothing of it is shown
        assert briefing.sources == [] and briefing.overview == []
    else:  # kept as likely of the person's sector: its best sentence is shown, cited
        assert [s.id for s in briefing.sources] == [TRUCKS.id]
        assert [claim.text for claim in briefing.overview] == [TRUCKS.summary]


def test_a_kept_item_gives_its_best_row_if_loosely_on_the_question(parts, monkeypatch) -> None:  # noqa: F811
    store, embedder = parts["store"], parts["embedder"]
    loose = Signal("Hospitals buy lorries", "vans to lorries")
    far = Signal("Household chores app shares tasks", "lists to app")
    kept = item(8, "2024-05-01", ["nursing"], summary="Hospital supplies.", signals=[loose, far])
    store.put_items([(kept, "hash-kept", kept.id, None)])
    targets = embedder.embed_batch(["nursing work in hospitals"])
    closeness = (embedder.embed_batch([row_text(loose), row_text(far)]) @ targets.T).ravel()
    assert KEPT_ITEM_SIGNAL_FLOOR <= closeness[0] < SIGNAL_FLOOR and closeness[1] < KEPT_ITEM_SIGNAL_FLOOR
    assert compose._signals(store, [kept], embedder, targets, {}) == []
    shown = compose._signals(store, [kept], embedder, targets, {}, must_show={kept.id})
    assert [s.signal for s in shown] == [loose.signal]

    def only_kept(standing_in: bool):
        def retrieval(*args, **kwargs):
            found = retrieve(*args, **kwargs)
            found.evidence = [Evidence(kept.id, 0.5, 0.2, 0.0, True, "sector", "2024-05-01", relevance=0.5)]
            found.standing_in = standing_in
            return found

        return retrieval

    for standing_in, expected in ((False, [loose.signal]), (True, [])):
        monkeypatch.setattr(compose, "retrieve", only_kept(standing_in))
        briefing = compose.build_briefing("nursing work in hospitals", **parts, today=TODAY)
        assert [s.signal for s in briefing.signals] == expected
