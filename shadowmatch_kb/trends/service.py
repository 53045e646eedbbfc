"""The tracker over a knowledge base: series of signal clusters, themes and sectors, and emerging signals.

``build_trends`` works on dated items and their Signals rows, which the knowledge base reads for it (the
backtest and the tests feed it directly).

Signals rows are grouped at ``TREND_COSINE``, looser than the 0.8 at which ``cluster_rows`` merges
paraphrases: at 0.8 almost no signal is ever stated twice (in the backtest no cluster of the real posts
was restated within 12 months), so nothing could be seen to rise. At 0.65 the clusters are topics
("rules for AI at work", "generative AI adoption", "AI in art") and about 6 % of them hold several
posts; at 0.6 catch-all clusters appear ("AI's impact on ..." of every kind). See
``scripts/eval_trends.py`` for the figures.
"""

from __future__ import annotations

import datetime
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.model import SignalRow
from shadowmatch_kb.signal_clusters import SignalCluster, cluster_rows
from shadowmatch_kb.store.timeline import DatedItem
from shadowmatch_kb.trends.emerging import EmergenceParams, emergence_scores, flag_emerging
from shadowmatch_kb.trends.periods import check_by
from shadowmatch_kb.trends.series import (
    MIN_ITEMS,
    MIN_QUARTERS,
    Series,
    Timeline,
    annotate,
    growth,
    growth_explained,
    rank,
    rising_summary,
)

if TYPE_CHECKING:
    from shadowmatch_kb.text.themes import ThemeVocabulary

__all__ = [
    "TREND_COSINE",
    "EmergingSignal",
    "TrendsReport",
    "build_trends",
    "dated_up_to_today",
    "count_sectors",
    "split_future",
]

TREND_COSINE = 0.65
TOP_SERIES = 10


@dataclass
class EmergingSignal:
    """A new signal cluster the method marks as emerging."""

    label: str
    change: str
    score: float
    support: int
    first_seen: str | None
    last_seen: str | None
    item_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        """As in the trends JSON's ``emerging`` list."""
        return dict(self.__dict__)


@dataclass
class TrendsReport:
    """What ``smkb trends`` shows: aligned series, the emerging signals, and how they were found."""

    by: str
    periods: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    emerging: list[EmergingSignal] = field(default_factory=list)
    params: EmergenceParams = field(default_factory=EmergenceParams)
    notices: list[str] = field(default_factory=list)
    period_totals: list[int] = field(default_factory=list)  # independent items dated in each period
    month_median: float = 0.0  # the median of independent items per month, which picks month or quarter
    period_choice: str = ""  # why the series are counted per month or per quarter, in words

    def to_dict(self) -> dict[str, Any]:
        """The SPEC.md trends document, with the periods, emerging signals and method added."""
        return {
            "by": self.by,
            "period_choice": self.period_choice,
            "periods": self.periods,
            "period_totals": self.period_totals,
            "series": [s.to_dict(self.periods) for s in self.series],
            "rising": [rising_summary(s, self.periods, self.period_totals, self.by) for s in self.series if s.rising],
            "growth_explained": growth_explained(self.by),
            "min_support": {"items": MIN_ITEMS, "quarters": MIN_QUARTERS},
            "emerging": [e.to_dict() for e in self.emerging],
            "method": {**self.params.to_dict(), "cluster_cosine": TREND_COSINE},
            "notices": self.notices,
        }


def split_future(items: Sequence[DatedItem], today: str) -> tuple[list[DatedItem], list[str]]:
    """The items the tracker can count (a published date between 1990 and ``today``), and a notice for each kind
    it cannot: undated items, and dates after today or before 1990 (a typo such as 2029, a number read as a year).
    """
    kept, notices = countable([None if d.undated else d.date for d in items], today)
    return [items[n] for n in kept], notices


def countable(published: Sequence[str | None], today: str) -> tuple[list[int], list[str]]:
    """The positions of the dates the tracker counts, and the notices on the others (see ``split_future``)."""
    from shadowmatch_kb.text.dates import date_doubt

    items_on = Counter(published)  # each distinct date is judged once: 100k items fall on a few thousand days
    undated = items_on.pop(None, 0)
    doubt_of = {date: date_doubt(date, today) for date in items_on if date is not None}
    kept = [n for n, date in enumerate(published) if date is not None and doubt_of[date] is None]
    doubted: dict[str, list[str]] = {}
    for date, doubt in doubt_of.items():  # in the order first met
        if doubt:
            doubted.setdefault(doubt, []).append(date)
    notices = []
    if undated:
        notices.append(f"{undated} undated item(s) not counted in any period (their sources give no date)")
    for doubt, dates in doubted.items():
        shown = max(dates) if doubt == "after today" else min(dates)
        left_out = sum(items_on[date] for date in dates)
        notices.append(f"{left_out} item(s) dated {doubt} (e.g. {shown}) left out of the counts; correct their dates")
    return kept, notices


def dated_up_to_today(
    items: Sequence[DatedItem], rows: Sequence[SignalRow], today: str | None = None
) -> tuple[list[DatedItem], list[SignalRow], list[str]]:
    """The items the tracker counts and their rows, and the notices on those it leaves out (``split_future``)."""
    kept, notices = split_future(items, today or _today())
    kept_ids = {d.item_id for d in kept}
    return kept, [r for r in rows if r.item_id in kept_ids], notices


def build_trends(
    items: Sequence[DatedItem],
    rows: Sequence[SignalRow],
    embedder: Embedder | None,
    *,
    by: str = "month",
    top: int = TOP_SERIES,
    today: str | None = None,
    params: EmergenceParams | None = None,
    clusters: list[SignalCluster] | None = None,
    themes: ThemeVocabulary | None = None,
    until: str | None = None,
    everyone: Sequence[DatedItem] | None = None,
) -> TrendsReport:
    """Series per period and emerging signals from dated items and their rows (``embedder`` groups the rows, unless
    ``clusters`` already holds them); themes are counted by their names in ``themes`` (default: the shipped ones);
    the periods run to ``until`` (the newest date of the whole record, for a filtered view) when it is later, and
    shares are of ``everyone``'s items per period (the whole record, for a filtered view; default ``items``)."""
    report = TrendsReport(by=check_by(by), params=params or EmergenceParams())
    kept, rows, report.notices = dated_up_to_today(items, rows, today)
    if not kept:
        report.notices.append(
            "no dated items to count: ingest some items first, or widen the sector or theme asked for"
        )
        return report
    timeline = Timeline(kept, by, until=until)
    report.periods = timeline.periods
    months = Timeline(kept, "month", until=until)
    whole = kept if everyone is None else split_future(everyone, today or _today())[0]
    all_ids = [d.item_id for d in whole]
    overall = Timeline(whole, by, until=until)
    per_period = dict(zip(overall.periods, overall.counts(all_ids), strict=True))
    report.period_totals = [per_period.get(p, 0) for p in report.periods]
    report.month_median = float(statistics.median(Timeline(whole, "month", until=until).counts(all_ids)))
    if clusters is None and rows and embedder is not None:  # else the caller grouped the kept rows already
        clusters = cluster_rows(list(rows), embedder, threshold=TREND_COSINE)
    if rows and clusters is not None:
        _add_signal_series(report, clusters, months, timeline, top)
    for kind in ("theme", "sector"):
        for label, ids in _facet_items(kept, kind, themes).items():
            counts = timeline.counts(ids)
            report.series.append(Series(label, kind, counts, growth(counts, by), ids))
    for s in report.series:
        annotate(s, report.periods, report.period_totals, by)
        s.item_months = months.independent(s.item_ids)
    report.series = _top_per_kind(report.series, top)
    return report


def _add_signal_series(
    report: TrendsReport, clusters: list[SignalCluster], months: Timeline, timeline: Timeline, top: int
) -> None:
    # Emergence is judged on months whatever the display period, so --by does not change which signals emerge.
    histories = [months.counts(c.item_ids) for c in clusters]
    scores = emergence_scores(histories, report.params)
    flagged = flag_emerging(scores, [c.support for c in clusters], report.params)
    for i in flagged:
        cluster = clusters[i]
        report.emerging.append(
            EmergingSignal(
                cluster.representative.signal.signal,
                cluster.representative.signal.change,
                float(scores[i] or 0.0),
                cluster.support,
                cluster.first_seen,
                cluster.last_seen,
                cluster.item_ids,
            )
        )
    # The most supported clusters, and every emerging one even when it is still small.
    shown = list(dict.fromkeys([*range(min(top, len(clusters))), *flagged]))
    for i in shown:
        counts = timeline.counts(clusters[i].item_ids)
        label = clusters[i].representative.signal.signal
        report.series.append(Series(label, "signal", counts, growth(counts, report.by), clusters[i].item_ids))
        report.series[-1].emerging = i in flagged


def _facet_items(items: Sequence[DatedItem], kind: str, themes: ThemeVocabulary | None = None) -> dict[str, list[str]]:
    """Items per theme or sector, the spellings of one label merged ("AI", "ai") under its commonest one.

    Themes are counted by their canonical names (``themes``, a ``text.themes.ThemeVocabulary``; by default the
    shipped merges): "AI" and "artificial intelligence" are one series, and uninformative themes ("technology")
    are left out, as they stay on items but name the whole corpus, not a signal. Sectors are counted per ISIC
    section, by its name only (as the record stores them): the home page, the tracker and a briefing name the
    same sectors.
    """
    from shadowmatch_kb.text.sectors import SectorVocabulary
    from shadowmatch_kb.text.themes import ThemeVocabulary, theme_key

    vocabulary = SectorVocabulary.load() if kind == "sector" else None
    names: ThemeVocabulary = themes or ThemeVocabulary.load()
    by_key: dict[str, list[str]] = defaultdict(list)
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for d in items:
        if vocabulary is None:
            values = [t for t in names.canonical_list(d.themes) if not names.is_uninformative(t)]
        else:
            values = vocabulary.place(d.sectors).names
        for value in dict.fromkeys(values):
            key = theme_key(value) if vocabulary is None else " ".join(value.lower().split())
            if key:
                by_key[key].append(d.item_id)
                spellings[key][value.strip()] += 1
    return {spellings[key].most_common(1)[0][0]: list(dict.fromkeys(ids)) for key, ids in by_key.items()}


def _top_per_kind(series: list[Series], top: int) -> list[Series]:
    """Signals as chosen (top and emerging); the ``top`` themes and sectors; only series with the minimum
    support (and emerging signals), rising ones first (``series.rank``)."""
    return rank(series, top)


def _today() -> str:
    return datetime.date.today().isoformat()


def count_sectors(items: Sequence[DatedItem]) -> dict[str, int]:
    """Items per ISIC section by its name, copies left out, most first (as ``smkb stats`` counts them)."""
    from shadowmatch_kb.text.sectors import SectorVocabulary

    vocabulary = SectorVocabulary.load()
    counts: Counter[str] = Counter()
    for dated in items:
        if not dated.duplicate_of:
            counts.update(vocabulary.place(dated.sectors).names)
    return dict(sorted(counts.items(), key=lambda entry: (-entry[1], entry[0])))
