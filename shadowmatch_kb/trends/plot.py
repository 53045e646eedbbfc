"""The tracker's series drawn for people: the period they are read in, small multiples (PNG), sparklines.

``choose_period`` picks months or quarters: per quarter by default when a month holds a median of fewer
than ``QUARTERS_BELOW`` (10) items, since months of one or two items only show noise; an explicit
``--by`` is honoured. ``write_chart`` draws one small panel per series, each on its own scale (a theme in
40 items and a signal in 4 are both readable), grouped by kind, rising series marked in colour and words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.trends.periods import period_of
from shadowmatch_kb.trends.series import (
    RECENT_PERIODS,
    RISING_GROWTH,
    RISING_RECENT_ITEMS,
    Series,
    annotate,
    growth_in_words,
    rank,
    recent_window,
    to_quarters,
)

if TYPE_CHECKING:
    from shadowmatch_kb.trends.service import TrendsReport

__all__ = ["QUARTERS_BELOW", "choose_period", "counted_reach", "marks_explained", "sparkline", "write_chart"]

_BARS = "▁▂▃▄▅▆▇█"
QUARTERS_BELOW = 10  # median items per month under which the tracker counts per quarter by default
PANELS_PER_KIND = 8  # more small panels than this and the eye stops comparing them
COLUMNS = 4
_TITLES = {"signal": "Signal clusters", "theme": "Themes", "sector": "Sectors"}
RISING_COLOUR, PLAIN_COLOUR, RECENT_COLOUR = "#D55E00", "#8a8a8a", "#0072B2"  # Okabe-Ito, readable in grey


def choose_period(report: TrendsReport, asked: str | None) -> TrendsReport:
    """``report`` (counted per month unless ``asked``) read per quarter when months are too thin, and why."""
    if asked or not report.periods:
        report.period_choice = f"per {report.by}, as asked" if asked else ""
        return report
    median = report.month_median
    held = "no items" if median == 0 else f"{median:g} item{'' if median == 1 else 's'} or fewer"
    if report.by != "month" or report.month_median >= QUARTERS_BELOW:
        report.period_choice = f"per {report.by}: half the months hold {report.month_median:g} items or more"
        return report
    quarters, totals = to_quarters(report.periods, report.period_totals)
    for s in report.series:
        s.counts = to_quarters(report.periods, s.counts)[1]
        annotate(s, quarters, totals, "quarter")
    report.by, report.periods, report.period_totals = "quarter", quarters, totals
    report.series = rank(report.series, len(report.series))  # rising ones first again; none cut
    report.period_choice = (
        f"per quarter: half the months hold {held}, too few to compare month by month (ask for months to see them)"
    )
    return report


def counted_reach(report: TrendsReport) -> str:
    """How far the counts reach: the record may stop well before today, and "rising since" is then not "now"."""
    import datetime

    if not report.periods:
        return ""
    last, now = report.periods[-1], period_of(datetime.date.today().isoformat(), report.by)
    reach = f"Counted up to {last}, the {report.by} of the newest dated item"
    return reach + (f"; nothing is dated in the {report.by}s since (today is in {now})." if last < now else ".")


def marks_explained(report: TrendsReport) -> str:
    """What ▲ and ★ mean, and how far the counts reach."""
    window = RECENT_PERIODS[report.by]
    return (
        f"▲ rising: growth {RISING_GROWTH:g}× or more, at least {RISING_RECENT_ITEMS} items in the last {window} "
        f"{report.by}s, and a larger share of the items than before. ★ emerging: see below. {counted_reach(report)}"
    )


def write_chart(report: TrendsReport, path: str | Path) -> Path:
    """Draw the report's series as small multiples into a PNG at ``path``; return the path."""
    # matplotlib is imported here only, so commands that draw nothing start fast.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    target = Path(path)
    groups = [(k, _shown(report.series, k)) for k in ("signal", "theme", "sector")]
    groups = [(k, shown) for k, shown in groups if shown]
    rows = [math.ceil(len(shown) / COLUMNS) for _, shown in groups] or [1]
    figure = plt.figure(figsize=(14, 1.0 + 2.3 * sum(rows) + 0.5 * len(rows)), layout="constrained")
    figure.suptitle(_headline(report), fontsize=12)
    if not groups:
        figure.text(0.5, 0.5, "No trends to chart yet: no series has the minimum support", ha="center")
    parts: list[Any] = list(figure.subfigures(len(rows), 1, height_ratios=rows, squeeze=False)[:, 0]) if groups else []
    for part, (kind, shown), height in zip(parts, groups, rows, strict=False):
        part.suptitle(_TITLES[kind], fontsize=11, x=0.01, ha="left", fontweight="bold")
        axes = part.subplots(height, COLUMNS, squeeze=False)
        for n, axis in enumerate(axes.flat):
            if n < len(shown):
                _panel(axis, shown[n], report)
            else:
                axis.set_axis_off()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(target, dpi=100, format="png")
    except OSError as exc:
        raise UsageError(f"cannot write the chart to {target}: {exc.strerror or exc}") from None
    finally:
        plt.close(figure)
    return target


def _shown(series: Sequence[Series], kind: str) -> list[Series]:
    return [s for s in series if s.kind == kind][:PANELS_PER_KIND]


def _headline(report: TrendsReport) -> str:
    span = f"{report.periods[0]} to {report.periods[-1]}" if report.periods else "no dated items"
    rising = sum(s.rising for s in report.series)
    return (
        f"Independent items per {report.by}, {span}: one panel per series, each on its own scale; "
        f"{rising} rising (▲: the recent window in orange, the periods before it in blue)"
    )


def _panel(axis: Any, s: Series, report: TrendsReport) -> None:
    from matplotlib.ticker import MaxNLocator

    x = list(range(len(s.counts)))
    window = recent_window(len(x), report.by) if s.rising else 0
    colours = [RISING_COLOUR if window and i >= len(x) - window else (RECENT_COLOUR if s.rising else PLAIN_COLOUR)
               for i in x]  # fmt: skip
    axis.bar(x, s.counts, color=colours, width=0.8)
    label = s.label if len(s.label) <= 38 else s.label[:37] + "…"
    title = ("▲ " if s.rising else "") + label
    axis.set_title(title, fontsize=8.5, loc="left", color=RISING_COLOUR if s.rising else "#222")
    note = f"{s.total} items · {growth_in_words(s.growth, s.rising)}"
    if s.shares:
        note += f" · {s.shares[-1]:.0%} of {report.periods[-1]}'s items"
    axis.text(0.01, 0.97, note, transform=axis.transAxes, fontsize=7, va="top", color="#444")
    axis.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=3))  # whole items, never half an item
    axis.set_ylim(0, max(s.counts, default=0) * 1.35 + 0.5)
    ticks, labels = _year_ticks(report.periods)
    axis.set_xticks(ticks, labels, fontsize=7)
    axis.tick_params(axis="y", labelsize=7)
    axis.set_xlim(-0.7, len(x) - 0.3)
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)
    if s.rising:
        for side in ("left", "bottom"):
            axis.spines[side].set_color(RISING_COLOUR)


def _year_ticks(periods: Sequence[str]) -> tuple[list[int], list[str]]:
    """A tick at the first period of each year, labelled with the year only, thinned so labels never touch."""
    starts = [i for i, p in enumerate(periods) if p.endswith(("-01", "-Q1"))]
    if not starts or starts[0] > len(periods) // 4:  # a first label only where it cannot crowd the next one
        starts.insert(0, 0)
    step = max(1, math.ceil(len(starts) / 5))
    shown = starts[::step]
    return shown, [periods[i][:4] for i in shown]


def sparkline(counts: Sequence[int]) -> str:
    """One block character per period: ▁ for none, ▂ to █ in proportion to the series' highest count."""
    top = max(counts, default=0)
    steps = len(_BARS) - 1
    return "".join(_BARS[0] if c <= 0 else _BARS[max(1, round(steps * c / top))] for c in counts)
