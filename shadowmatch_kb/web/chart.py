"""A line chart of the tracker's series as inline SVG: drawn on the server, no script, readable in print.

Each series gets a colour from a palette safe for colour-blind readers and a dash pattern, so the lines
stay apart in black and white too; the legend is an HTML list beside the chart (see trends.html).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

__all__ = ["PALETTE", "line_chart_svg"]

# Okabe-Ito colours.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 4", "1 2")
WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 24, 42


def line_chart_svg(periods: Sequence[str], series: Sequence[Any], title: str) -> str:
    """An SVG document for ``series`` (objects with ``label`` and ``counts``) over ``periods``."""
    peak = max([1, *(max(s.counts, default=0) for s in series)])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(periods) - 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / peak

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{html.escape(title)}: items per period" class="chart">',
        f'<text x="{LEFT}" y="14" class="chart-title">{html.escape(title)}</text>',
    ]
    for tick in sorted({0, peak // 2, peak}):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" class="tick">{tick}</text>'
        )
    every = max(1, len(periods) // 8)
    for i, period in enumerate(periods):
        if i % every == 0 or i == len(periods) - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" class="tick">'
                f"{html.escape(period)}</text>"
            )
    for n, s in enumerate(series):
        points = " ".join(f"{x(i):.1f},{y(c):.1f}" for i, c in enumerate(s.counts))
        dash = f' stroke-dasharray="{DASHES[n % len(DASHES)]}"' if DASHES[n % len(DASHES)] else ""
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{PALETTE[n % len(PALETTE)]}" stroke-width="2"{dash}>'
            f"<title>{html.escape(s.label)}</title></polyline>"
        )
    parts.append("</svg>")
    return "".join(parts)
