"""The citation gate: what a briefing may say is what its items say, each claim with its source.

Every overview sentence and every signal must cite at least one item that is in the knowledge base and
among the evidence; a claim that cites none is dropped, never written. Only cited items are listed as
sources, numbered in the order of ``items`` (the evidence, most relevant first), so source 1 is the item
most about the question. A link is
shown only when it is the item's own URL and an http(s) one, so hostile text cannot smuggle in a link; a date
only when it can be right (not after today, not before 1990), since a mentor reads it as when the news is from.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence

from shadowmatch_kb.brief.model import Briefing, Cited, Source
from shadowmatch_kb.formats.inert import safe_url
from shadowmatch_kb.model import Item
from shadowmatch_kb.text.dates import address_date, date_doubt, parse_iso_date

__all__ = ["ABOUT_SECTORS", "apply_citation_gate", "safe_url"]

# The sectors a source is said to be about: an item is mostly about one, sometimes two; more only lengthen the line.
ABOUT_SECTORS = 2


def apply_citation_gate(
    briefing: Briefing,
    items: Mapping[str, Item],
    today: datetime.date | None = None,
    about: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """Drop every uncited claim of ``briefing`` in place, number its sources; returns what was dropped.

    ``about``: the sectors each source is said to be about, when not all of the item's (those enrichment was sure
    of: a source line naming a sector the coverage line says no item is mainly about reads as a contradiction)."""
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
    signals = []
    for signal in briefing.signals:
        signal.sources = [i for i in dict.fromkeys(signal.sources) if i in items]
        if signal.sources and signal.signal.strip():
            signals.append(signal)
        else:
            dropped.append(signal.signal)
    briefing.signals = signals

    cited = {i for claim in briefing.overview for i in claim.sources}
    cited |= {i for signal in briefing.signals for i in signal.sources}
    order = [(item_id, item) for item_id, item in items.items() if item_id in cited]
    day = (today or datetime.date.today()).isoformat()
    briefing.sources = [
        Source(
            number,
            item_id,
            item.title,
            safe_url(item.url),
            _shown_date(item, day, briefing.since),
            list((about or {}).get(item_id, item.sectors))[:ABOUT_SECTORS],
        )
        for number, (item_id, item) in enumerate(order, start=1)
    ]
    return dropped


def _shown_date(item: Item, today: str, since: str | None = None) -> str | None:
    """The item's date as the briefing shows it: None (shown as undated) when it cannot be right; the date in the
    article's own address when that is earlier (a digest dated 2024 linking a CNN article of 2023-01-28, or an essay of
    2005, was shown as of 2024: session 19's review), as a day or a month, unless it is before ``since``: a briefing
    of items published since a date, chosen by the items' own dates, shows none from before it."""
    published = item.published if date_doubt(item.published, today) is None else None
    written = address_date(item.url)
    # Compared at the address's own precision: "2005-01" is before "2024-07-28"; none before ``since`` is shown.
    if written is None or date_doubt(parse_iso_date(written), today) or (since and written < since[: len(written)]):
        return published
    return written if published is None or written < published[: len(written)] else published
