"""A briefing's signal cites the items whose own row says what its wording says, and counts only those as its
support; rows on the same theme that the grouping gathers with it are not cited for it.

Session 12's review: a junior doctor's briefing said "AI drafts replies to patient messages ... 2 independent
sources report it. [1][5]", and item [1], on ambient scribes, says only that AI drafts visit notes (its row joined
the cluster at cosine 0.83, the grouping's floor being 0.65).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_brief_unit import item, make_store

from shadowmatch_kb.brief import compose
from shadowmatch_kb.brief.compose import SAME_CLAIM
from shadowmatch_kb.kb import KnowledgeBase
from shadowmatch_kb.model import Signal, row_text
from shadowmatch_kb.signal_clusters import MERGE_COSINE, cluster_rows
from shadowmatch_kb.store.timeline import signal_rows

REPLIES = Signal("AI drafts replies to patient messages", "from doctors typing every reply to reviewing AI drafts")
NOTES = Signal("AI writes the first draft note", "from doctors typing notes after visits to reviewing AI drafts")
REPLIES_AGAIN = Signal("AI drafts answers to patients' messages", "from typing each reply to checking AI drafts")
QUESTION = "doctors answering patient messages"


class Angles:
    """Unit vectors at chosen cosines to one axis: the question, then each row's text at its own cosine to the
    replies' wording (so a test sits on either side of the grouping's floor and of SAME_CLAIM)."""

    model_name, dimension = "angles", 8

    def __init__(self, cosines: dict[str, float]) -> None:
        self.cosines = cosines

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            c = self.cosines.get(text, 0.0)
            vector = np.zeros(self.dimension, dtype=np.float32)
            vector[0] = c  # the rest of its length on an axis of its own, so two rows meet only through the first
            vector[1 + sorted(self.cosines).index(text) if text in self.cosines else -1] += np.sqrt(1.0 - c * c)
            rows.append(vector)
        return np.array(rows, dtype=np.float32)


@pytest.mark.parametrize(("notes_cosine", "cited_together"), [(0.83, False), (0.97, True)])
def test_a_signal_cites_only_the_items_whose_row_says_the_same(notes_cosine, cited_together) -> None:
    scribes = item(1, "2024-02-21", ["healthcare"], summary="Ambient scribes.", signals=[NOTES])
    replies = item(2, "2023-04-28", ["healthcare"], summary="Replies to patients.", signals=[REPLIES])
    store = make_store(scribes, replies)
    embedder = Angles({row_text(REPLIES): 1.0, row_text(NOTES): notes_cosine, QUESTION: 0.9})
    # The grouping gathers both rows either way ...
    clusters = cluster_rows(signal_rows(store, [scribes.id, replies.id]), embedder)
    assert len(clusters) == 1 and MERGE_COSINE <= notes_cosine
    targets = embedder.embed_batch([QUESTION])
    relevance = {scribes.id: 0.5, replies.id: 0.5}
    shown = compose._signals(store, [scribes, replies], embedder, targets, relevance)
    # ... but the briefing cites an item for the wording only when its own row says it (SAME_CLAIM); a row that
    # says something else is a signal of its own, citing its own item.
    assert (notes_cosine >= SAME_CLAIM) == cited_together
    if cited_together:
        (signal,) = shown
        assert sorted(signal.sources) == sorted([scribes.id, replies.id]) and signal.support == 2
    else:
        by_wording = {s.signal: (s.sources, s.support) for s in shown}
        assert by_wording == {REPLIES.signal: ([replies.id], 1), NOTES.signal: ([scribes.id], 1)}


@pytest.mark.slow
def test_the_bundled_model_keeps_draft_notes_and_draft_replies_apart(tmp_path, seed_onnx) -> None:
    seed_onnx(tmp_path)  # the demo KB's export of the bundled model
    kb = KnowledgeBase.open(tmp_path)
    texts = [row_text(REPLIES), row_text(NOTES), row_text(REPLIES_AGAIN)]
    vectors = kb.backends.signal_embedder().embed_batch(texts)
    kb.close()
    replies_notes, replies_again = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert MERGE_COSINE <= replies_notes < SAME_CLAIM  # one theme, two claims: grouped, not cited together
    assert replies_again >= SAME_CLAIM  # the same claim in other words is cited together


def test_an_item_gives_at_most_two_signals_however_many_rows_are_on_the_question() -> None:
    # Session 12's reviews: four rows of one essay on media businesses filled a copywriter's briefing, and a legal
    # secretary's ended with a law firm's revenue outside New York.
    rows = [Signal(f"Essay row {n}", f"from {n} to {n + 1}") for n in range(4)]
    other = Signal("Kiosks handle check-in", "from a clerk for every guest to self-service")
    essay = item(1, "2024-01-01", ["media"], summary="An essay.", signals=rows)
    study = item(2, "2024-01-01", ["hospitality"], summary="A study.", signals=[other])
    store = make_store(essay, study)
    cosines = {row_text(r): c for r, c in zip(rows, (0.9, 0.8, 0.7, 0.6), strict=True)} | {row_text(other): 0.5}
    embedder = Angles({QUESTION: 1.0, **cosines})
    targets = embedder.embed_batch([QUESTION])
    shown = compose._signals(store, [essay, study], embedder, targets, {essay.id: 0.5, study.id: 0.5})
    assert [s.signal for s in shown] == ["Essay row 0", "Essay row 1", other.signal]
    assert compose.SIGNALS_PER_ITEM == 2 and compose.MAX_SIGNALS >= 4  # the limit, not the page, keeps rows out
