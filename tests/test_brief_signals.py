"""Which of the evidence's Signals rows lead a briefing: between two equally on the question, the one that states
its change with both ends ("from typing to voice software") leads one that names no change ("adoption of ...").

Session 8's blind mentor review quoted "Change: Adoption of AI in education" as the worst line of a teacher's
briefing: a signal that says what changes from what to what tells a mentor more.
"""

from __future__ import annotations

from test_search_unit import WordsEmbedder

from shadowmatch_kb.brief.compose import _signals
from shadowmatch_kb.model import Item, Signal
from shadowmatch_kb.store.sqlite import SqliteStore

# Both rows are as close to the question (cosine 0.596 with the fake embedder): only the change's form differs.
VAGUE = Signal("Ward nurses dictate patient notes", "adoption of voice software in hospitals")
BOTH_ENDS = Signal("Nurses on wards dictate patient notes", "from typing to voice software in hospitals")


def test_a_change_with_both_ends_leads_an_equally_close_one_without() -> None:
    embedder = WordsEmbedder()
    targets = embedder.embed_batch(["nurses write patient notes on the ward"])
    rows = [float(embedder.embed_batch([f"{s.signal}: {s.change}"])[0] @ targets[0]) for s in (VAGUE, BOTH_ENDS)]
    assert abs(rows[0] - rows[1]) < 1e-6
    notes = Item("a" * 32, "Hospitals try voice notes", published="2025-01-01", signals=[VAGUE, BOTH_ENDS])
    store = SqliteStore(":memory:")
    store.put_items([(notes, "hash-a", notes.id, None)])
    chosen = _signals(store, [notes], embedder, targets, {notes.id: 0.9})
    assert [s.change for s in chosen] == [BOTH_ENDS.change, VAGUE.change]
    store.close()


def test_a_horizon_that_restates_its_column_reads_once() -> None:
    from shadowmatch_kb.brief.render import _horizon

    # Under the heading "In 10 years:", "In a decade, ..." said it twice (session 9's review).
    for lead in (
        "In 10 years, ",
        "Within ten years: ",
        "In a decade, ",
        "Over the next decade, ",
        "in the next 10 years ",
    ):
        assert _horizon(f"{lead}most notes are dictated") == "most notes are dictated"
    assert _horizon("By 2030 most notes are dictated") == "By 2030 most notes are dictated"
    assert _horizon("Decades of paper notes end") == "Decades of paper notes end"
