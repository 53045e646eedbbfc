"""Commands of the signal tracker: trends and digest."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from shadowmatch_kb.cli.items import JsonOption, KbOption, SectorOption, ThemeOption
from shadowmatch_kb.cli.output import fail, open_kb, print_json, reporting_errors, stderr, stdout

if TYPE_CHECKING:
    from shadowmatch_kb.kb import TrendsReport


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("trends")(trends)
    app.command("digest")(digest)


def trends(
    ctx: typer.Context,
    sector: SectorOption = None,
    theme: ThemeOption = None,
    by: Annotated[str, typer.Option("--by", help="Count per month (YYYY-MM) or per quarter (YYYY-Qn).")] = "month",
    top: Annotated[
        int, typer.Option("--top", min=1, max=100, help="How many signal clusters, themes and sectors to show.")
    ] = 10,
    plot: Annotated[
        str | None, typer.Option("--plot", metavar="FILE.png", help="Also draw the series as a line chart PNG.")
    ] = None,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Signal clusters, themes and sectors counted per period, their growth, and emerging signals.

    A count is the number of independent items dated in the period (published date, else import date);
    a near-duplicate counts once, as its original. Items dated after today are left out, with a warning.

    Growth = (mean count per period in the recent window + 0.5) / (mean count per period before it + 0.5);
    the recent window is the last 6 months or 2 quarters (at most half the periods). 1.0 is steady,
    above 1 rising, below 1 fading.

    Emerging signals (marked ▲) are new signal clusters (first stated in the last 12 months, by at least
    two items) whose support is furthest above what clusters of the same age usually have.
    """
    from shadowmatch_kb.errors import UsageError
    from shadowmatch_kb.model import ItemFilter

    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        try:
            report = kb.trends(where=ItemFilter(sector=sector, theme=theme), by=by, top=top)
        except UsageError as exc:  # a period kind or a sector the tracker does not know
            fail(str(exc), code=2)
        if plot:
            from shadowmatch_kb.trends.plot import write_chart

            try:
                written = write_chart(report, plot)
            except UsageError as exc:
                fail(str(exc), code=1)
            stderr().print(f"chart written to {written}", markup=False)
        if as_json:
            print_json(report.to_dict())
        else:
            _print_table(report)


def _print_table(report: TrendsReport) -> None:
    from rich.table import Table

    from shadowmatch_kb.trends.plot import sparkline

    console = stdout()
    if not report.series:
        console.print("no dated items to count yet: ingest some items first", markup=False)
        return
    # The sparkline shows the latest periods that fit beside the other columns (all of them on a wide terminal).
    shown = max(12, min(len(report.periods), console.width - 62))
    first, last = report.periods[-shown:][0], report.periods[-1]
    table = Table(title=f"Independent items per {report.by}, {first} … {last}", title_justify="left")
    table.add_column("kind", no_wrap=True)
    table.add_column("label", overflow="fold", ratio=1)
    table.add_column(f"{first} … {last}", no_wrap=True)
    table.add_column("items", justify="right", no_wrap=True)
    table.add_column("growth", justify="right", no_wrap=True)
    for s in report.series:
        label = f"▲ {s.label}" if s.emerging else s.label
        table.add_row(s.kind, label, sparkline(s.counts[-shown:]), str(s.total), f"{s.growth:.2f}")
    console.print(table)
    if report.emerging:
        console.print("Emerging signals (support against what clusters of the same age usually have):", markup=False)
        for e in report.emerging:
            console.print(
                f"  ▲ {e.label}: {e.change} ({e.support} items since {e.first_seen}, score {e.score:.2f})", markup=False
            )


def digest(
    ctx: typer.Context,
    since: Annotated[str, typer.Option("--since", help="The date to start from: YYYY-MM-DD (or YYYY-MM, YYYY).")],
    fmt: Annotated[
        str, typer.Option("--format", help="md (rendered in a terminal, plain Markdown otherwise) or json.")
    ] = "md",
    kb_dir: KbOption = None,
) -> None:
    """New items and newly rising signals since a date.

    Items are dated by their published date, else the day they were imported, and listed newest first
    with their most supported signals; copies of earlier items are left out. A signal is rising when it
    was first stated since the date by two or more items (new), or stated before and again since (growing).
    """
    from shadowmatch_kb.text.dates import parse_iso_date

    if fmt not in ("md", "json"):
        fail(f"--format must be md or json, not {fmt!r}", code=2)
    start = parse_iso_date(since.strip())
    if start is None:
        fail(f"--since {since!r} is not a date; use YYYY-MM-DD", code=2)
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        found = kb.digest(since=start)
        if fmt == "json":
            print_json(found.to_dict())
        elif sys.stdout.isatty():
            from rich.markdown import Markdown

            stdout().print(Markdown(found.to_markdown()))
        else:
            sys.stdout.write(found.to_markdown())
