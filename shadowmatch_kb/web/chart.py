"""The tracker page's charts and lists: inline SVG drawn on the server, no script, readable in print.

Small multiples: one small bar chart per series, each on its own scale (a theme in 40 items and a signal
in 4 are both readable), the first and last period named at the two ends so labels never overlap. A
rising series has the recent window (the periods its growth is measured on) in orange; the words beside
it say the same, so colour is never the only mark. Sparklines for the "rising since" list.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shadowmatch_kb.errors import NotFoundError
from shadowmatch_kb.model import ItemFilter

if TYPE_CHECKING:
    from shadowmatch_kb.kb import KnowledgeBase, TrendsReport

__all__ = ["RISING", "panel_svg", "sparkline_svg", "tracker_view"]

# Okabe-Ito colours, apart for colour-blind readers and in grey.
RISING, EARLIER, PLAIN = "#D55E00", "#0072B2", "#8a8a8a"
WIDTH, HEIGHT = 240, 96
LEFT, RIGHT, TOP, BOTTOM = 22, 6, 8, 18


def panel_svg(periods: Sequence[str], counts: Sequence[int], label: str, *, recent_from: int | None = None) -> str:
    """One small bar chart of ``counts`` over ``periods``; bars from index ``recent_from`` on drawn as rising."""
    peak = max([1, *counts])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(counts))
    bar = max(1.0, slot * 0.8)

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / peak

    description = f"{label}: independent items per period, {periods[0]} to {periods[-1]}, at most {peak}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{html.escape(description)}" class="panel">',
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}" class="axis"/>',
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(peak):.1f}" y2="{y(peak):.1f}" class="grid"/>',
        f'<text x="{LEFT - 4}" y="{y(0) + 3:.1f}" text-anchor="end" class="tick">0</text>',
        f'<text x="{LEFT - 4}" y="{y(peak) + 3:.1f}" text-anchor="end" class="tick">{peak}</text>',
    ]
    for i, count in enumerate(counts):
        if count <= 0:
            continue
        colour = PLAIN if recent_from is None else (RISING if i >= recent_from else EARLIER)
        parts.append(
            f'<rect x="{LEFT + i * slot + (slot - bar) / 2:.1f}" y="{y(count):.1f}" width="{bar:.1f}" '
            f'height="{y(0) - y(count):.1f}" fill="{colour}"><title>{html.escape(periods[i])}: {count}</title></rect>'
        )
    if periods:
        # The two ends only: period labels of a few dozen months never fit side by side in 240 pixels.
        parts.append(
            f'<text x="{LEFT}" y="{HEIGHT - 4}" class="tick">{html.escape(periods[0])}</text>'
            f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" text-anchor="end" class="tick">'
            f"{html.escape(periods[-1])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def sparkline_svg(counts: Sequence[int], *, recent_from: int | None = None) -> str:
    """A word-sized bar line of ``counts`` (for the list of rising series); decorative, the sentence says it."""
    peak = max([1, *counts])
    slot = 4
    width, height = max(1, len(counts)) * slot, 16
    bars = "".join(
        f'<rect x="{i * slot}" y="{height - max(1.0, height * c / peak):.1f}" width="{slot - 1}" '
        f'height="{max(1.0, height * c / peak):.1f}" '
        f'fill="{RISING if recent_from is not None and i >= recent_from else (PLAIN if c else "#e3e3e3")}"/>'
        for i, c in enumerate(counts)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-hidden="true" class="sparkline">{bars}</svg>'
    )


RISING_ITEMS_LINKED = 6  # items linked under each rising series; the JSON twin lists them all
THEME_CHOICES_FROM = 3  # themes in fewer items than this are left out of the select list (not a trend anyway)


def tracker_view(kb: KnowledgeBase, report: TrendsReport, where: ItemFilter | None) -> dict[str, Any]:
    """Everything the tracker page shows: the report, its panels, the rising list with its items, the choices."""
    from shadowmatch_kb.trends.plot import PANELS_PER_KIND, counted_reach

    document = report.to_dict()
    window = {s.label: len(report.periods) - report.periods.index(r["since"]) for s, r in _rising(report, document)}
    kinds = []
    for kind, title in (("signal", "Signal clusters"), ("theme", "Themes"), ("sector", "Sectors")):
        shown = [(s, e) for s, e in zip(report.series, document["series"], strict=True) if s.kind == kind]
        panels = [
            {"series": s, "entry": e, "svg": panel_svg(report.periods, s.counts, s.label, recent_from=_from(s, window))}
            for s, e in shown[:PANELS_PER_KIND]
        ]
        if panels:
            kinds.append({"kind": kind, "title": title, "panels": panels, "more": len(shown) - len(panels)})
    rising = []
    for s, r in _rising(report, document):
        ids = r["item_ids"][:RISING_ITEMS_LINKED]
        items = [{"id": i, "title": _title(kb, i)} for i in ids]
        svg = sparkline_svg(s.counts, recent_from=_from(s, window))
        rising.append({"entry": r, "items": items, "more": len(r["item_ids"]) - len(ids), "sparkline": svg})
    return {
        "report": report,
        "document": document,
        "reach": counted_reach(report),
        "kinds": kinds,
        "rising": rising,
        "sectors": _sector_choices(kb, where.sector if where else None),
        "themes": _theme_choices(kb, where.theme if where else None),
    }


def _rising(report: TrendsReport, document: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    return list(zip([s for s in report.series if s.rising], document["rising"], strict=True))


def _from(series: Any, window: dict[str, int]) -> int | None:
    return len(series.counts) - window[series.label] if series.rising and series.label in window else None


def _title(kb: KnowledgeBase, item_id: str) -> str:
    try:
        return kb.get(item_id).title or item_id
    except NotFoundError:
        return item_id


def _sector_choices(kb: KnowledgeBase, asked: str | None) -> list[tuple[str, str]]:
    """(value, shown) for the sector select list: every section of the vocabulary, the one asked for selected."""
    names = kb.sector_vocabulary().names()
    choices = [(name, name) for name in names]
    if asked:
        known = kb.sector_vocabulary().normalise(asked)
        if known is None or known not in names:
            choices.insert(0, (asked, asked))
    return choices


def _theme_choices(kb: KnowledgeBase, asked: str | None) -> list[tuple[str, str]]:
    """(value, shown) for the theme select list: the record's themes in enough items to trend, A to Z."""
    counts = kb.store.facet_counts("themes") if kb.exists else {}
    choices = sorted(
        ((theme, f"{theme} ({n})") for theme, n in counts.items() if n >= THEME_CHOICES_FROM),
        key=lambda choice: choice[0].lower(),
    )
    if asked and asked.lower() not in {value.lower() for value, _ in choices}:
        choices.insert(0, (asked, asked))
    return choices
