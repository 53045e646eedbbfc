"""The tracker counted on columns: the same report as ``service.build_trends``, without a Python object per item.

``build_trends`` walks a ``DatedItem`` and a ``SignalRow`` per row, and a ``Series`` per cluster; at 100k items
of distinct rows that is tens of thousands of clusters and seconds of Python. Here the items are columns
(``store.timeline.tracker_columns``), the cluster of every row comes as arrays from the kept grouping
(``ClusterIndex.assignments``), and the independent items per cluster and month are one matrix built by numpy, on
which emergence is judged. Only the clusters shown (the most supported and the emerging ones) become ``Series``
with their rows read, and only the theme and sector series kept by ``rank`` get their item lists. The rules are
those of ``build_trends`` and ``series.Timeline``: a copy counts once, as its original, on the original's date
(or the earliest copy's when the original is not counted); undated items and implausible dates are left out
with a notice (``split_future``); ``tests/test_trends_fast.py`` compares the two reports.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.model import SignalRow, row_text
from shadowmatch_kb.store.timeline import TrackerColumns
from shadowmatch_kb.trends.emerging import EmergenceParams, emergence_from_statements, flag_emerging
from shadowmatch_kb.trends.periods import check_by, period_of, period_range
from shadowmatch_kb.trends.series import Series, annotate, growth, rank
from shadowmatch_kb.trends.service import EmergingSignal, TrendsReport

if TYPE_CHECKING:
    from shadowmatch_kb.text.themes import ThemeVocabulary
    from shadowmatch_kb.trends.cluster_index import ClusterIndex, RowsOf

__all__ = ["columnar_trends"]


@dataclass
class _Counted:
    """The items counted (positions into the columns, oldest first) and where each counts in time."""

    by: str  # the display period
    ids: list[str]  # of the items counted
    source: np.ndarray  # per item: its independent source (a number), copies sharing their original's
    is_original: np.ndarray  # per item: whether it is its source's original
    days: np.ndarray  # per item: its published date as a number, YYYYMMDD
    source_month: np.ndarray  # per source: its month, as a number from the first month (0)
    months: list[str]  # the month axis
    periods: list[str]  # the display axis
    source_period: np.ndarray  # per source: its display period

    def counts(self, positions: np.ndarray) -> list[int]:
        """Independent items among ``positions`` per display period."""
        found = np.bincount(self.source_period[_distinct(self.source[positions])], minlength=len(self.periods))
        return [int(x) for x in found]

    def independent(self, positions: np.ndarray) -> dict[str, str]:
        """One item per source among ``positions`` (the original when present) with its month (``Timeline``)."""
        sources = self.source[positions]
        first = np.unique(sources, return_index=True)[1]
        chosen = dict(zip(sources[first].tolist(), positions[first].tolist(), strict=True))
        originals = positions[self.is_original[positions]]
        chosen.update(zip(self.source[originals].tolist(), originals.tolist(), strict=True))
        return {self.ids[p]: self.months[int(self.source_month[s])] for s, p in chosen.items()}


def columnar_trends(
    columns: TrackerColumns,
    view: np.ndarray | None,
    grouping: ClusterIndex | None,
    rows_of: RowsOf,
    embedder: Callable[[], Embedder],
    *,
    by: str = "month",
    top: int = 10,
    today: str | None = None,
    params: EmergenceParams | None = None,
    themes: ThemeVocabulary | None = None,
) -> TrendsReport:
    """``build_trends`` over the items of ``columns`` in ``view`` (a mask; None: all), their rows grouped by
    ``grouping`` (synced with every item); ``rows_of`` reads the rows of the few clusters shown."""
    from shadowmatch_kb.trends.service import countable

    report = TrendsReport(by=check_by(by), params=params or EmergenceParams())
    today = today or datetime.date.today().isoformat()
    # Every view runs to the newest date the whole record counts: a filtered view's last item is not "now".
    everywhere, _ = countable(columns.published, today)
    until = max((cast(str, columns.published[n]) for n in everywhere), default=None)
    chosen = range(len(columns.ids)) if view is None else np.flatnonzero(view).tolist()
    found_in_view, report.notices = countable([columns.published[n] for n in chosen], today)
    kept = [chosen[n] for n in found_in_view]
    if not kept:
        report.notices.append(
            "no dated items to count: ingest some items first, or widen the sector or theme asked for"
        )
        return report
    counted = _count(columns, kept, report.by, until)
    report.periods = counted.periods
    # Shares are of every item the record counts in a period, also in a filtered view: a sector's series is then
    # judged as in the whole tracker (within its own view it would always be 100 %).
    whole = counted if len(kept) == len(everywhere) else _count(columns, everywhere, report.by, until)
    per_period = dict(zip(whole.periods, whole.counts(np.arange(len(everywhere))), strict=True))
    report.period_totals = [per_period.get(p, 0) for p in report.periods]
    report.month_median = float(np.median(np.bincount(whole.source_month, minlength=len(whole.months))))
    found = _signal_series(report, counted, grouping, rows_of, embedder, top) if grouping is not None else []
    found += _facet_series(columns, kept, counted, themes)
    report.series = [series for series, _ in found]
    for s in report.series:
        annotate(s, report.periods, report.period_totals, report.by)
    report.series = rank(report.series, top)
    members = {id(series): positions for series, positions in found}
    for s in report.series:  # only the series shown get their item lists
        positions = members[id(s)]
        s.item_ids = s.item_ids or [counted.ids[p] for p in positions.tolist()]
        s.item_months = counted.independent(positions)
    return report


def _count(columns: TrackerColumns, kept: list[int], by: str, until: str | None) -> _Counted:
    """Sources, their months and periods for the kept items, the periods running to ``until`` (as
    ``series.Timeline``)."""
    ids = [columns.ids[n] for n in kept]
    dates = [cast(str, columns.published[n]) for n in kept]
    as_number = {d: _day_number(d) for d in set(dates)}  # a few thousand distinct days among 100k items
    days = np.asarray([as_number[d] for d in dates], dtype=np.int64)
    keys = [columns.duplicate_of[n] or item_id for n, item_id in zip(kept, ids, strict=True)]
    number: dict[str, int] = {}
    source = np.asarray([number.setdefault(key, len(number)) for key in keys], dtype=np.int64)
    is_original = np.asarray([key == item_id for key, item_id in zip(keys, ids, strict=True)], dtype=bool)
    # A source counts on its original's date when the original is counted, else on its earliest copy's.
    source_days = np.full(len(number), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(source_days, source, days)
    source_days[source[is_original]] = days[is_original]
    absolute = source_days // 10000 * 12 + source_days // 100 % 100 - 1
    first, last = int(absolute.min()), int(absolute.max())
    if until is not None:
        last = max(last, int(until[:4]) * 12 + int(until[5:7]) - 1)
    months = period_range(_month(first), _month(last), "month")
    if by == "month":
        periods, source_period = months, absolute - first
    else:
        periods = period_range(period_of(_month(first), "quarter"), period_of(_month(last), "quarter"), "quarter")
        source_period = absolute // 3 - first // 3
    return _Counted(by, ids, source, is_original, days, absolute - first, months, periods, source_period)


def _day_number(date: str) -> int:
    """YYYY-MM-DD as the number YYYYMMDD (a month or a year alone on its first day), which sorts as the date."""
    year, month, day = ([*date[:10].split("-"), "1", "1"])[:3]
    return int(year) * 10000 + int(month) * 100 + int(day)


def _month(absolute: int) -> str:
    return f"{absolute // 12:04d}-{absolute % 12 + 1:02d}"


def _signal_series(
    report: TrendsReport,
    counted: _Counted,
    grouping: ClusterIndex,
    rows_of: RowsOf,
    embedder: Callable[[], Embedder],
    top: int,
) -> list[tuple[Series, np.ndarray]]:
    """Emergence judged on every cluster's monthly matrix; the top and emerging clusters become series."""
    owners, numbers, clusters = grouping.assignments(counted.ids)
    if not len(owners):
        return []
    seen = np.zeros(int(clusters.max()) + 1, dtype=bool)
    seen[clusters] = True
    present, local = np.flatnonzero(seen), (np.cumsum(seen) - 1)[clusters]  # np.unique's, without sorting rows
    sources = counted.source[owners]
    span = int(sources.max()) + 1  # one number per (cluster, source) pair
    pairs = _distinct(local * span + sources)
    pair_cluster, pair_source = pairs // span, pairs % span
    pair_month = counted.source_month[pair_source]
    support = np.bincount(pair_cluster, minlength=len(present))
    day = counted.days[owners]
    last_seen = np.full(len(present), -1, dtype=np.int64)
    first_seen = np.full(len(present), 1 << 40, dtype=np.int64)
    np.maximum.at(last_seen, local, day)
    np.minimum.at(first_seen, local, day)
    # As ClusterIndex.clusters sorts them: most supported, then latest, then the order they were born in.
    order = np.lexsort((np.arange(len(present)), -last_seen, -support))
    by_present = emergence_from_statements(pair_cluster, pair_month, len(present), len(counted.months), report.params)
    scores = [by_present[i] for i in order.tolist()]
    supports = support[order].tolist()
    flagged = flag_emerging(scores, supports, report.params)
    shown = list(dict.fromkeys([*range(min(top, len(order))), *flagged]))
    by_cluster = np.argsort(local, kind="stable")  # rows grouped by cluster, each group oldest first
    bounds = np.searchsorted(local[by_cluster], np.arange(len(present) + 1))
    chosen = {i: by_cluster[bounds[order[i]] : bounds[order[i] + 1]] for i in shown}
    read = rows_of(list(dict.fromkeys(counted.ids[o] for rows in chosen.values() for o in owners[rows].tolist())))
    labels = _representatives(chosen, owners, numbers, present[order], counted, grouping, read, embedder)
    found: list[tuple[Series, np.ndarray]] = []
    for i in shown:
        positions = _distinct(owners[chosen[i]])
        item_ids = [counted.ids[p] for p in positions.tolist()]
        label = labels[i]
        if i in flagged:
            report.emerging.append(
                EmergingSignal(
                    label.signal.signal,
                    label.signal.change,
                    float(scores[i] or 0.0),
                    int(supports[i]),
                    _date(int(first_seen[order[i]])),
                    _date(int(last_seen[order[i]])),
                    item_ids,
                )
            )
        counts = counted.counts(positions)
        found.append((Series(label.signal.signal, "signal", counts, growth(counts, report.by), item_ids), positions))
        found[-1][0].emerging = i in flagged
    return found


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of whole numbers by one sort (numpy's own is several times slower on 400k rows)."""
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def _date(day: int) -> str:
    return f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"


def _representatives(
    chosen: dict[int, np.ndarray],
    owners: np.ndarray,
    numbers: np.ndarray,
    cluster_numbers: np.ndarray,
    counted: _Counted,
    grouping: ClusterIndex,
    read: dict[str, list[SignalRow]],
    embedder: Callable[[], Embedder],
) -> dict[int, SignalRow]:
    """The row that words each shown cluster: the grouping's when it is counted, else the counted row closest to
    the cluster's centre (as ``ClusterIndex.clusters`` chooses)."""
    from shadowmatch_kb.trends.centres import embed_new, stand_in

    found: dict[int, SignalRow] = {}
    missing: dict[int, list[SignalRow]] = {}
    for i, rows in chosen.items():
        members = [(counted.ids[o], n) for o, n in zip(owners[rows].tolist(), numbers[rows].tolist(), strict=True)]
        texts = [read[item_id][n] for item_id, n in members]
        best = grouping.representative(int(cluster_numbers[i]))
        if best in members or len(members) == 1:
            found[i] = texts[members.index(best)] if best in members else texts[0]
        else:
            missing[i] = texts
    if missing:
        vectors: dict[str, np.ndarray] = {}
        embed_new(embedder(), [row_text(row.signal) for texts in missing.values() for row in texts], vectors)
        for i, texts in missing.items():
            found[i] = stand_in(texts, grouping.centre(int(cluster_numbers[i])), vectors)
    return found


def _facet_series(
    columns: TrackerColumns, kept: list[int], counted: _Counted, themes: ThemeVocabulary | None
) -> list[tuple[Series, np.ndarray]]:
    """Theme and sector series (as ``service._facet_items``), each with the positions of its items."""
    from shadowmatch_kb.text.sectors import SectorVocabulary
    from shadowmatch_kb.text.themes import ThemeVocabulary, theme_key

    names: ThemeVocabulary = themes or ThemeVocabulary.load()
    sectors = SectorVocabulary.load()
    position = np.full(len(columns.ids), -1, dtype=np.int64)
    position[kept] = np.arange(len(kept))
    found: list[tuple[Series, np.ndarray]] = []
    for kind, field in (("theme", "themes"), ("sector", "sectors")):
        column = columns.facets.get(field)
        if column is None or not len(column.items):
            continue
        # Each distinct value is named once: (its name, its key), None when it is not counted.
        meaning = [_theme(v, names, theme_key) if kind == "theme" else _sector(v, sectors) for v in column.values]
        spelled = {pair: n for n, pair in enumerate(dict.fromkeys(m for m in meaning if m))}
        keys = {key: n for n, key in enumerate(dict.fromkeys(key for _, key in spelled))}
        spelling_of = np.asarray([spelled[m] if m else -1 for m in meaning], dtype=np.int64)
        items, spellings = position[column.items], spelling_of[column.codes]
        counted_pair = (items >= 0) & (spellings >= 0)
        if not counted_pair.any():
            continue
        items, spellings = items[counted_pair], spellings[counted_pair]
        key_of = np.asarray([keys[key] for _, key in spelled], dtype=np.int64)
        # One entry per item and key (themes) or name (sectors), the first in the item's list (canonical_list).
        distinct = key_of[spellings] if kind == "theme" else spellings
        first = np.sort(np.unique(items * (len(spelled) + 1) + distinct, return_index=True)[1])
        items, spellings = items[first], spellings[first]
        labels = _commonest(spellings, key_of, list(spelled))
        item_keys = key_of[spellings]
        order = np.lexsort((items, item_keys))
        bounds = np.searchsorted(item_keys[order], np.arange(len(keys) + 1))
        met, first_met = np.unique(item_keys, return_index=True)
        for k in met[np.argsort(first_met)].tolist():  # keys in the order first met, as a dict keeps them
            positions = _distinct(items[order[bounds[k] : bounds[k + 1]]])
            counts = counted.counts(positions)
            found.append((Series(labels[k], kind, counts, growth(counts, counted.by)), positions))
    return found


def _theme(value: str, names: ThemeVocabulary, theme_key: Callable[[str], str]) -> tuple[str, str] | None:
    name = names.canonical(value)
    if not name or names.is_uninformative(name):
        return None
    return name.strip(), theme_key(name)


def _sector(value: str, sectors: Any) -> tuple[str, str] | None:
    text = " ".join(value.split())
    name = sectors.normalise(text) if text else None
    return (name.strip(), " ".join(name.lower().split())) if name else None


def _commonest(spellings: np.ndarray, key_of: np.ndarray, spelled: Sequence[tuple[str, str]]) -> dict[int, str]:
    """Per key, its commonest spelling (the first met among equals, as ``Counter.most_common``)."""
    unique, first, count = np.unique(spellings, return_index=True, return_counts=True)
    best: dict[int, tuple[int, int, str]] = {}
    for s, f, c in zip(unique.tolist(), first.tolist(), count.tolist(), strict=True):
        k = int(key_of[s])
        if k not in best or (-c, f) < best[k][:2]:
            best[k] = (-c, f, spelled[s][0])
    return {k: label for k, (_, _, label) in best.items()}
