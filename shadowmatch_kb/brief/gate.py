"""The citation gate: what a briefing may say is what its items say, each claim with its source.

Every overview sentence, every skills sentence and every signal must cite at least one item that is in
the knowledge base and among the evidence; a claim that cites none is dropped, never written. Sources
are then numbered in the order the briefing first cites them, and only cited items are listed. A link is
shown only when it is the item's own URL and an http(s) one, so hostile text cannot smuggle in a link.
"""

from __future__ import annotations

from collections.abc import Mapping

from shadowmatch_kb.brief.model import Briefing, Cited, Source
from shadowmatch_kb.formats.inert import safe_url
from shadowmatch_kb.model import Item

__all__ = ["apply_citation_gate", "safe_url"]


def apply_citation_gate(briefing: Briefing, items: Mapping[str, Item]) -> list[str]:
    """Drop every uncited claim of ``briefing`` in place, number its sources; returns what was dropped."""
    dropped: list[str] = []

    def keep(claims: list[Cited]) -> list[Cited]:
        kept = []
        for claim in claims:
            claim.sources = [i for i in dict.fromkeys(claim.sources) if i in items]
            if claim.sources and claim.text.strip():
                kept.append(claim)
            else:
                dropped.append(claim.text)
        return kept

    briefing.overview = keep(briefing.overview)
    briefing.growing = keep(briefing.growing)
    briefing.shrinking = keep(briefing.shrinking)
    signals = []
    for signal in briefing.signals:
        signal.sources = [i for i in dict.fromkeys(signal.sources) if i in items]
        if signal.sources and signal.signal.strip():
            signals.append(signal)
        else:
            dropped.append(signal.signal)
    briefing.signals = signals

    order: list[str] = []
    for claim in briefing.overview:
        order.extend(claim.sources)
    for signal in briefing.signals:
        order.extend(signal.sources)
    for claim in [*briefing.growing, *briefing.shrinking]:
        order.extend(claim.sources)
    briefing.sources = [
        Source(number, item_id, items[item_id].title, safe_url(items[item_id].url), items[item_id].published)
        for number, item_id in enumerate(dict.fromkeys(order), start=1)
    ]
    return dropped
