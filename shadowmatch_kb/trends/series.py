"""Counts per period of independent items, and the growth of a series.

A series counts *items*, not rows or mentions: an item counts once in the period of its date, and a
near-duplicate (``duplicate_of`` set) counts as its original, once, in the original's period (a
syndicated copy is no new evidence that a change is spreading).

Growth compares the recent window with everything before it::

    growth = (mean count per period in the recent window + 0.5) / (mean count per period before it + 0.5)

The recent window is the last 6 months (or 2 quarters), at most half of the periods. The 0.5 added to
both means keeps a series that goes from nothing to one item from reading as infinite growth: a steady
series is 1.0, one that went from 0 to 1 item per period is 3.0, and one that stopped is below 1. With
fewer than two periods there is nothing to compare and growth is 1.0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shadowmatch_kb.store.timeline import DatedItem
from shadowmatch_kb.trends.periods import period_of, period_range

__all__ = ["GROWTH_SMOOTHING", "RECENT_PERIODS", "Series", "Timeline", "growth"]

RECENT_PERIODS = {"month": 6, "quarter": 2}
GROWTH_SMOOTHING = 0.5


@dataclass
class Series:
    """One line of the tracker: a signal cluster, a theme or a sector, counted per period."""

    label: str
    kind: str  # "signal", "theme" or "sector"
    counts: list[int]
    growth: float
    item_ids: list[str] = field(default_factory=list)
    emerging: bool = False

    @property
    def total(self) -> int:
        """Independent items over all periods."""
        return sum(self.counts)

    def to_dict(self, periods: Sequence[str]) -> dict[str, Any]:
        """The SPEC.md shape of a series, with the items it counts and its emerging flag."""
        return {
            "label": self.label,
            "kind": self.kind,
            "points": [{"period": p, "count": c} for p, c in zip(periods, self.counts, strict=True)],
            "growth": self.growth,
            "total": self.total,
            "emerging": self.emerging,
            "item_ids": self.item_ids,
        }


class Timeline:
    """The periods spanned by a set of dated items, and where each independent item falls in them."""

    def __init__(self, items: Sequence[DatedItem], by: str, *, until: str | None = None) -> None:
        """``until`` (a date) extends the periods to the one it falls in, past the last item's."""
        self.by = by
        dates = {d.item_id: d.date for d in items}
        self._source: dict[str, str] = {}
        source_date: dict[str, str] = {}
        for d in items:
            key = d.duplicate_of or d.item_id
            self._source[d.item_id] = key
            # A copy counts on its original's date; when the original is not among the items
            # (filtered out, or dated in the future), on the earliest copy's date.
            date = dates.get(key, d.date)
            source_date[key] = min(date, source_date.get(key, date))
        self._period = {key: period_of(date, by) for key, date in source_date.items()}
        used = sorted(self._period.values()) + ([period_of(until, by)] if until else [])
        used.sort()
        self.periods: list[str] = period_range(used[0], used[-1], by) if used else []
        self._index = {p: i for i, p in enumerate(self.periods)}

    def source(self, item_id: str) -> str | None:
        """The item that counts for ``item_id`` (its original when it is a copy); None when not on the timeline."""
        return self._source.get(item_id)

    def period(self, item_id: str) -> str | None:
        """The period ``item_id`` counts in."""
        key = self._source.get(item_id)
        return None if key is None else self._period[key]

    def counts(self, item_ids: Iterable[str]) -> list[int]:
        """Independent items among ``item_ids`` per period (copies count once, as their original)."""
        found = [0] * len(self.periods)
        for key in {self._source[i] for i in item_ids if i in self._source}:
            found[self._index[self._period[key]]] += 1
        return found


def growth(counts: Sequence[int], by: str) -> float:
    """Smoothed ratio of the recent window's mean count per period to the earlier periods' (module docstring)."""
    if len(counts) < 2:
        return 1.0
    window = min(RECENT_PERIODS[by], len(counts) // 2)
    recent, earlier = counts[-window:], counts[:-window]
    ratio = (sum(recent) / len(recent) + GROWTH_SMOOTHING) / (sum(earlier) / len(earlier) + GROWTH_SMOOTHING)
    return round(ratio, 4)
