"""A source's own qualification shown beside the claim it qualifies (``brief/balance.py``).

Session 18's reviewer read a paralegal's briefing quoting "Nearly half of legal tasks automatable" from an item whose
next row says "Complement more likely than replace", left out: misleading by omission. The rows below are that item's
and the ILO item's, as the evaluation's knowledge base holds them.
"""

from __future__ import annotations

from shadowmatch_kb.brief.balance import qualifies, threatens, with_qualifications
from shadowmatch_kb.model import Signal, SignalRow
from shadowmatch_kb.signal_clusters import SignalCluster

LEGAL = "legal-forecast"
BANK = "bank-back-offices"


def _signal(item_id: str, signal: str, change: str) -> SignalCluster:
    row = SignalRow(item_id, Signal(signal, change), "2024-01-01")
    return SignalCluster(row, [row])


AUTOMATABLE = _signal(LEGAL, "Nearly half of legal tasks automatable", "from lawyers drafting to AI doing much of it")
COMPLEMENT = _signal(LEGAL, "Complement more likely than replace", "from fear of lost jobs to mostly redesigned jobs")
REVIEW = _signal(LEGAL, "Review and drafting work exposed", "from hours of manual review to AI-assisted review")
CLERICAL = _signal(BANK, "Clerical tasks top global exposure ranking", "from stable clerk jobs to task automation")
TRANSFORM = _signal(BANK, "Transformation more likely than replacement", "from fears of whole-job loss to redesign")
OTHERS = [_signal(f"other-{n}", f"Firms adopt tool {n}", "from paper to screens") for n in range(5)]


def _shown(chosen: list[SignalCluster], limit: int = 5) -> list[str]:
    clusters = [AUTOMATABLE, COMPLEMENT, REVIEW, CLERICAL, TRANSFORM, *OTHERS]
    closeness = {id(c): 0.5 - 0.01 * n for n, c in enumerate(clusters)}
    return [
        c.representative.signal.signal
        for c in with_qualifications(chosen, clusters, lambda c: closeness[id(c)], limit=limit)
    ]


def test_rows_that_claim_and_rows_that_qualify_are_told_apart() -> None:
    assert threatens(AUTOMATABLE) and threatens(CLERICAL)
    assert not threatens(COMPLEMENT) and not threatens(TRANSFORM)  # they speak of replacement only to qualify it
    assert qualifies(COMPLEMENT) and qualifies(TRANSFORM)
    assert not qualifies(REVIEW) and not qualifies(AUTOMATABLE)
    # "AI-assisted" or "AI-augmented" says how work is done, not that the job stays.
    assert not qualifies(_signal("x", "AI-augmented consulting", "from consultants to AI-assisted consultants"))


def test_the_qualification_follows_its_claim() -> None:
    assert _shown([AUTOMATABLE, OTHERS[0]]) == [
        "Nearly half of legal tasks automatable",
        "Complement more likely than replace",
        "Firms adopt tool 0",
    ]
    # Only the same item's qualification answers a claim: the bank's does not answer the legal forecast.
    assert _shown([CLERICAL]) == [
        "Clerical tasks top global exposure ranking",
        "Transformation more likely than replacement",
    ]
    assert _shown([REVIEW, OTHERS[0]]) == [
        "Review and drafting work exposed",
        "Firms adopt tool 0",
    ]  # no claim to answer
    assert _shown([COMPLEMENT, AUTOMATABLE]) == [
        "Complement more likely than replace",
        "Nearly half of legal tasks automatable",
    ]


def test_at_the_limit_the_last_other_signal_gives_way() -> None:
    full = [AUTOMATABLE, *OTHERS[:4]]
    assert _shown(full) == [
        "Nearly half of legal tasks automatable",
        "Complement more likely than replace",
        "Firms adopt tool 0",
        "Firms adopt tool 1",
        "Firms adopt tool 2",
    ]
    # Two claims, each answered, keep both answers at a limit of four.
    assert _shown([AUTOMATABLE, CLERICAL, OTHERS[0], OTHERS[1]], limit=4) == [
        "Nearly half of legal tasks automatable",
        "Complement more likely than replace",
        "Clerical tasks top global exposure ranking",
        "Transformation more likely than replacement",
    ]
    # Nothing can give way: the claim stands unanswered rather than dropping another claim's answer.
    assert _shown([AUTOMATABLE, COMPLEMENT, CLERICAL], limit=3) == [
        "Nearly half of legal tasks automatable",
        "Complement more likely than replace",
        "Clerical tasks top global exposure ranking",
    ]
