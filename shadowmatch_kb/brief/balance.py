"""A source's own qualification kept beside the claim it qualifies.

An item's Signals table can say both "Nearly half of legal tasks automatable" and "Complement more likely than
replace". Shown alone, the first reads as the item's verdict; session 18's reviewer called a paralegal's briefing
misleading by omission for that reason. When a briefing shows a row about automation or replacement, and the same
item has a row saying the change is more likely to complement or redesign the work, that row is shown right after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from shadowmatch_kb.model import row_text
from shadowmatch_kb.signal_clusters import SignalCluster

__all__ = ["qualifies", "threatens", "with_qualifications"]

# A row about work done by machines or jobs going ...
_THREATENS = re.compile(
    r"\b(?:automat\w*|replac\w*|displac\w*|eliminat\w*|redundan\w*|disappear\w*|shrink\w*|job loss\w*|fewer|"
    r"lose|loses|losing|lost|take over|takes over|taking over)\b",
    re.I,
)
# ... and one saying the change is more likely to complement the work than to replace it. Narrow on purpose: "an
# AI-assisted service" or "AI-augmented consulting" says how work is done, not that jobs stay; on the evaluation's
# knowledge base these words pair rows in three items, two of them the conclusions of a Goldman Sachs forecast and of
# the ILO's index.
_QUALIFIES = re.compile(
    r"\b(?:complement\w*|augmentation|redesign\w*|new (?:jobs|roles)|"
    r"(?:rather|more likely) than (?:replac\w*|automat\w*|job loss\w*)|not (?:replac\w*|automat\w*))\b",
    re.I,
)


def threatens(cluster: SignalCluster) -> bool:
    """Whether a signal speaks of automation or jobs going, and says nothing of complementing the work."""
    text = row_text(cluster.representative.signal)
    return bool(_THREATENS.search(text)) and not _QUALIFIES.search(text)


def qualifies(cluster: SignalCluster) -> bool:
    """Whether a signal says the change is more likely to complement or redesign the work than to replace it."""
    return bool(_QUALIFIES.search(row_text(cluster.representative.signal)))


def with_qualifications(
    chosen: list[SignalCluster],
    clusters: list[SignalCluster],
    relevance: Callable[[SignalCluster], float],
    *,
    limit: int,
) -> list[SignalCluster]:
    """``chosen`` (in the order shown) with, right after each signal that ``threatens``, the signal of one of its
    items that ``qualifies`` it, from ``clusters`` (the one most on the question, by ``relevance``, if several). At
    most ``limit`` signals: the last of the others give way.

    The qualification answers the claim, not the question, so it is not held to the question's floor: "Complement
    more likely than replace" is 0.13 from a paralegal's words, "Nearly half of legal tasks automatable" 0.38."""
    shown = list(chosen)
    kept: set[int] = set()  # the claims answered and their answers: none gives way to another's answer
    for claim in chosen:
        if claim not in shown or not threatens(claim):  # given way to an earlier one's answer, or no claim
            continue
        answers = [c for c in clusters if qualifies(c) and set(c.item_ids) & set(claim.item_ids)]
        answered = [c for c in answers if c in shown]
        if answered:
            kept.update(id(c) for c in (claim, *answered))
        if answered or not answers:
            continue
        answer = max(answers, key=relevance)
        if len(shown) >= limit:
            others = [c for c in reversed(shown) if id(c) not in kept and c is not claim]
            if not others:
                continue
            shown.remove(others[0])
        shown.insert(shown.index(claim) + 1, answer)
        kept.update((id(claim), id(answer)))
    return shown
