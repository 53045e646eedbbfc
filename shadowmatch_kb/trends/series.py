"""Counts per period of independent items, their share of the period's items, and the growth of a series.

A series counts *items*, not rows or mentions: an item counts once in the period of its date, and a
near-duplicate (``duplicate_of`` set) counts as its original, once, in the original's period (a
syndicated copy is no new evidence that a change is spreading). Its *share* in a period is that count
over all the independent items dated in the period (after ``--sector``/``--theme``), so a period that
simply holds more items does not read as a rise.

Growth compares the recent window with everything before it::

    growth = (mean count per period in the recent window + 0.5) / (mean count per period before it + 0.5)

The recent window is the last 6 months (or 2 quarters), at most half of the periods. The 0.5 added to
both means keeps a series that goes from nothing to one item from reading as infinite growth: a steady
series is 1.0, one that went from 0 to 1 item per period is 3.0, and one that stopped is below 1. With
fewer than two periods there is nothing to compare and growth is 1.0.

Minimum support: a series is a trend only when it holds at least ``MIN_ITEMS`` (3) independent items
dated in at least ``MIN_QUARTERS`` (2) different quarters, whatever the display period, so one item, or
a burst of copies in one week, is never drawn as a trend (quarters, so that the rule gives the same
answer per month and per quarter). A series is *rising* when it is a trend, its growth is at least
``RISING_GROWTH`` (1.5), at least ``RISING_RECENT_ITEMS`` (2) of its items fall in the recent window,
and its share of the recent window's items is above its share before it (more items overall is no rise).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shadowmatch_kb.store.timeline import DatedItem
from shadowmatch_kb.trends.periods import period_of, period_range

__all__ = [
    "GROWTH_SMOOTHING",
    "MIN_ITEMS",
    "MIN_QUARTERS",
    "RECENT_PERIODS",
    "RISING_GROWTH",
    "RISING_RECENT_ITEMS",
    "Series",
    "Timeline",
    "annotate",
    "growth",
    "growth_explained",
    "growth_in_words",
    "rank",
    "recent_window",
    "rising_summary",
    "to_quarters",
]

RECENT_PERIODS = {"month": 6, "quarter": 2}
GROWTH_SMOOTHING = 0.5
MIN_ITEMS = 3
MIN_QUARTERS = 2
RISING_GROWTH = 1.5
RISING_RECENT_ITEMS = 2
_KIND_ORDER = {"signal": 0, "theme": 1, "sector": 2}


@dataclass
class Series:
    """One line of the tracker: a signal cluster, a theme or a sector, counted per period."""

    label: str
    kind: str  # "signal", "theme" or "sector"
    counts: list[int]
    growth: float
    item_ids: list[str] = field(default_factory=list)
    emerging: bool = False
    shares: list[float] = field(default_factory=list)  # count / the period's independent items
    supported: bool = True  # enough items in enough quarters to be a trend (module docstring)
    rising: bool = False
    # The month each independent item counts in (copies left out), so any window can name its items.
    item_months: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Independent items over all periods."""
        return sum(self.counts)

    def to_dict(self, periods: Sequence[str]) -> dict[str, Any]:
        """The SPEC.md shape of a series, with each point's share, the items it counts and its flags."""
        shares = self.shares or [0.0] * len(self.counts)
        return {
            "label": self.label,
            "kind": self.kind,
            "points": [
                {"period": p, "count": c, "share": s} for p, c, s in zip(periods, self.counts, shares, strict=True)
            ],
            "growth": self.growth,
            "growth_in_words": growth_in_words(self.growth, self.rising),
            "total": self.total,
            "rising": self.rising,
            "emerging": self.emerging,
            "item_ids": self.item_ids,
        }

    def newest_items(self, since: str | None = None) -> list[str]:
        """Independent items newest first, only those dated in or after period ``since`` when given."""
        found = sorted(self.item_months.items(), key=lambda entry: (entry[1], entry[0]), reverse=True)
        if since is None:
            return [i for i, _ in found]
        by = "quarter" if "Q" in since else "month"
        return [i for i, month in found if period_of(month, by) >= since]


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

    def independent(self, item_ids: Iterable[str]) -> dict[str, str]:
        """One item per independent source among ``item_ids`` (the original when present), with its period."""
        chosen: dict[str, str] = {}  # source -> the item that stands for it
        for i in item_ids:
            key = self._source.get(i)
            if key is not None and (key not in chosen or i == key):
                chosen[key] = i
        return {i: self._period[key] for key, i in chosen.items()}


def growth(counts: Sequence[int], by: str) -> float:
    """Smoothed ratio of the recent window's mean count per period to the earlier periods' (module docstring)."""
    if len(counts) < 2:
        return 1.0
    window = recent_window(len(counts), by)
    recent, earlier = counts[-window:], counts[:-window]
    ratio = (sum(recent) / len(recent) + GROWTH_SMOOTHING) / (sum(earlier) / len(earlier) + GROWTH_SMOOTHING)
    return round(ratio, 4)


def recent_window(periods: int, by: str) -> int:
    """How many of the last periods growth counts as recent (0 when there are too few to compare)."""
    return min(RECENT_PERIODS[by], periods // 2)


def annotate(series: Series, periods: Sequence[str], totals: Sequence[int], by: str) -> Series:
    """Set the shares, growth, support and rising flag of ``series`` from its counts and the periods' totals."""
    series.shares = [round(c / t, 4) if t else 0.0 for c, t in zip(series.counts, totals, strict=True)]
    series.growth = growth(series.counts, by)
    quarters = {
        period_of(p, "quarter") if "Q" not in p else p for p, c in zip(periods, series.counts, strict=True) if c
    }
    series.supported = series.total >= MIN_ITEMS and len(quarters) >= MIN_QUARTERS
    window = recent_window(len(periods), by)
    series.rising = False
    if window and series.supported and series.growth >= RISING_GROWTH:
        recent, earlier = sum(series.counts[-window:]), sum(series.counts[:-window])
        recent_share = recent / max(1, sum(totals[-window:]))
        earlier_share = earlier / max(1, sum(totals[:-window]))
        series.rising = recent >= RISING_RECENT_ITEMS and recent_share > earlier_share
    return series


def rank(series: Iterable[Series], top: int) -> list[Series]:
    """Trends only (and emerging signals), rising first, then by items; at most ``top`` themes and sectors."""
    ranked = sorted(series, key=lambda s: (_KIND_ORDER[s.kind], not s.rising, -s.total, s.label.lower()))
    kept: list[Series] = []
    per_kind: dict[str, int] = {}
    for s in ranked:
        if not (s.supported or s.emerging):
            continue
        if s.kind == "signal" or per_kind.get(s.kind, 0) < top:
            kept.append(s)
            per_kind[s.kind] = per_kind.get(s.kind, 0) + 1
    return kept


def to_quarters(months: Sequence[str], counts: Sequence[int]) -> tuple[list[str], list[int]]:
    """Monthly counts summed per quarter (an item falls in one month, so in one quarter)."""
    if not months:
        return [], []
    quarters = period_range(period_of(months[0], "quarter"), period_of(months[-1], "quarter"), "quarter")
    index = {q: n for n, q in enumerate(quarters)}
    summed = [0] * len(quarters)
    for month, count in zip(months, counts, strict=True):
        summed[index[period_of(month, "quarter")]] += count
    return quarters, summed


def growth_in_words(value: float, rising: bool = False) -> str:
    """Growth said for a person, briefly: rising (only a series marked so), up, a little up, steady, a little down
    or fading, and the ratio."""
    if value >= RISING_GROWTH:
        return f"rising ({value:.2f}×)" if rising else f"up ({value:.2f}×)"
    if value >= 1.15:
        return f"a little up ({value:.2f}×)"
    if value > 0.87:
        return "steady"
    if value > 2 / 3:
        return f"a little down ({value:.2f}×)"
    return f"fading ({value:.2f}×)"


def growth_explained(by: str) -> str:
    """What the growth figure means, for the table and the page."""
    window = f"{RECENT_PERIODS[by]} {by}s"
    return (
        f"Growth compares the items per {by} in the last {window} with the {by}s before: 1.0 is steady, "
        f"2.0 twice as many, 0.5 half as many (0.5 is added to both sides so one item is not read as a leap)."
    )


def rising_summary(series: Series, periods: Sequence[str], totals: Sequence[int], by: str) -> dict[str, Any]:
    """A rising series in words: since when, from how many items a period to how many, and the items since."""
    window = max(1, recent_window(len(periods), by))
    since = periods[-window]
    recent, earlier = series.counts[-window:], series.counts[:-window]
    before = sum(earlier) / max(1, len(earlier))
    now = sum(recent) / len(recent)
    share_before = sum(earlier) / max(1, sum(totals[:-window]))
    share_now = sum(recent) / max(1, sum(totals[-window:]))
    subject = {"signal": "Signal", "theme": "Items on", "sector": "Items in"}[series.kind]
    sentence = (
        f"{subject} “{series.label}” rose from {_rate(before, by)} to {_rate(now, by)} since {since} "
        f"(from {share_before:.0%} to {share_now:.0%} of all the items of those {by}s)."
    )
    return {
        "label": series.label,
        "kind": series.kind,
        "since": since,
        "per_period_before": round(before, 2),
        "per_period_since": round(now, 2),
        "share_before": round(share_before, 4),
        "share_since": round(share_now, 4),
        "sentence": sentence,
        "item_ids": series.newest_items(since),
    }


def _rate(per_period: float, by: str) -> str:
    if per_period == 0:
        return "none"
    if per_period < 1:
        return f"about one item every {round(1 / per_period)} {by}s"
    shown = f"{per_period:.1f}".removesuffix(".0")
    return f"about {shown} item" + ("" if shown == "1" else "s") + f" a {by}"
