"""The tracker's series drawn for people: a line chart (PNG), one panel per kind of series, and sparklines."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.trends.service import TrendsReport

__all__ = ["sparkline", "write_chart"]

_BARS = "▁▂▃▄▅▆▇█"

LINES_PER_PANEL = 8  # more lines than this make a legend nobody can read
_TITLES = {"signal": "Signal clusters", "theme": "Themes", "sector": "Sectors"}


def write_chart(report: TrendsReport, path: str | Path) -> Path:
    """Draw the report's series (independent items per period) into a PNG at ``path``; return the path."""
    # matplotlib is imported here only, so commands that draw nothing start fast.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    target = Path(path)
    kinds = [k for k in ("signal", "theme", "sector") if any(s.kind == k for s in report.series)]
    figure, axes = plt.subplots(max(1, len(kinds)), 1, figsize=(11, 3.6 * max(1, len(kinds))), squeeze=False)
    x = list(range(len(report.periods)))
    for axis, kind in zip(axes[:, 0], kinds or ["signal"], strict=False):
        shown = [s for s in report.series if s.kind == kind][:LINES_PER_PANEL]
        for s in shown:
            label = (s.label if len(s.label) <= 48 else s.label[:47] + "…") + (" (emerging)" if s.emerging else "")
            axis.plot(x, s.counts, marker="o", markersize=3, linewidth=2.2 if s.emerging else 1.2,
                      linestyle="-" if s.emerging or kind != "signal" else "--", label=label)  # fmt: skip
        axis.set_title(_TITLES[kind] if shown else "No dated items to chart")
        axis.set_ylabel("independent items")
        if shown:
            axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        step = max(1, len(x) // 16)
        axis.set_xticks(x[::step], report.periods[::step], rotation=45, ha="right", fontsize=8)
        axis.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("quarter" if report.by == "quarter" else "month")
    figure.suptitle("shadowmatch_kb trends: items per " + report.by)
    figure.tight_layout()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(target, dpi=110, format="png")
    except OSError as exc:
        raise UsageError(f"cannot write the chart to {target}: {exc.strerror or exc}") from None
    finally:
        plt.close(figure)
    return target


def sparkline(counts: Sequence[int]) -> str:
    """One block character per period: ▁ for none, ▂ to █ in proportion to the series' highest count."""
    top = max(counts, default=0)
    steps = len(_BARS) - 1
    return "".join(_BARS[0] if c <= 0 else _BARS[max(1, round(steps * c / top))] for c in counts)
