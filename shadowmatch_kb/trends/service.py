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
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.model import SignalRow
from shadowmatch_kb.signal_clusters import SignalCluster, cluster_rows
from shadowmatch_kb.store.timeline import DatedItem
from shadowmatch_kb.trends.emerging import EmergenceParams, emergence_scores, flag_emerging
from shadowmatch_kb.trends.periods import check_by
from shadowmatch_kb.trends.series import Series, Timeline, growth

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
_KIND_ORDER = {"signal": 0, "theme": 1, "sector": 2}


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

    def to_dict(self) -> dict[str, Any]:
        """The SPEC.md trends document, with the periods, emerging signals and method added."""
        return {
            "by": self.by,
            "periods": self.periods,
            "series": [s.to_dict(self.periods) for s in self.series],
            "emerging": [e.to_dict() for e in self.emerging],
            "method": {**self.params.to_dict(), "cluster_cosine": TREND_COSINE},
            "notices": self.notices,
        }


def split_future(items: Sequence[DatedItem], today: str) -> tuple[list[DatedItem], list[str]]:
    """The items dated up to ``today``, and a notice when some were dated later (a typo such as 2029)."""
    kept = [d for d in items if d.date <= today]
    future = [d for d in items if d.date > today]
    if not future:
        return kept, []
    latest = max(d.date for d in future)
    return kept, [
        f"{len(future)} item(s) dated after today (latest {latest}) left out of the counts; correct their dates"
    ]


def dated_up_to_today(
    items: Sequence[DatedItem], rows: Sequence[SignalRow], today: str | None = None
) -> tuple[list[DatedItem], list[SignalRow], list[str]]:
    """The items dated up to today and their rows, and the notice on those dated in the future."""
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
) -> TrendsReport:
    """Series per period and emerging signals from dated items and their rows (``embedder`` groups the rows)."""
    report = TrendsReport(by=check_by(by), params=params or EmergenceParams())
    kept, rows, report.notices = dated_up_to_today(items, rows, today)
    if not kept:
        report.notices.append("no dated items to count: ingest some items first (or widen --sector/--theme)")
        return report
    timeline = Timeline(kept, by)
    report.periods = timeline.periods
    if rows and embedder is not None:
        _add_signal_series(report, cluster_rows(list(rows), embedder, threshold=TREND_COSINE), kept, timeline, top)
    for kind in ("theme", "sector"):
        for label, ids in _facet_items(kept, kind).items():
            counts = timeline.counts(ids)
            report.series.append(Series(label, kind, counts, growth(counts, by), ids))
    report.series = _top_per_kind(report.series, top)
    return report


def _add_signal_series(
    report: TrendsReport, clusters: list[SignalCluster], kept: Sequence[DatedItem], timeline: Timeline, top: int
) -> None:
    # Emergence is judged on months whatever the display period, so --by does not change which signals emerge.
    months = Timeline(kept, "month")
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


def _facet_items(items: Sequence[DatedItem], kind: str) -> dict[str, list[str]]:
    """Items per theme or sector, the spellings of one label merged ("AI", "ai") under its commonest one.

    Sectors are counted per ISIC section, by its name only (as the record stores them): the home page, the
    tracker and a briefing name the same sectors.
    """
    from shadowmatch_kb.text.sectors import SectorVocabulary

    vocabulary = SectorVocabulary.load() if kind == "sector" else None
    by_key: dict[str, list[str]] = defaultdict(list)
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for d in items:
        values = d.themes if vocabulary is None else vocabulary.place(d.sectors).names
        for value in dict.fromkeys(values):
            key = " ".join(value.lower().split())
            if key:
                by_key[key].append(d.item_id)
                spellings[key][value.strip()] += 1
    return {spellings[key].most_common(1)[0][0]: list(dict.fromkeys(ids)) for key, ids in by_key.items()}


def _top_per_kind(series: list[Series], top: int) -> list[Series]:
    """Signals as chosen (top and emerging); the ``top`` themes and sectors by items counted."""
    ranked = sorted(series, key=lambda s: (_KIND_ORDER[s.kind], -s.total, s.label.lower()))
    kept: list[Series] = []
    per_kind: Counter[str] = Counter()
    for s in ranked:
        if s.kind == "signal" or per_kind[s.kind] < top:
            kept.append(s)
            per_kind[s.kind] += 1
    return kept


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
