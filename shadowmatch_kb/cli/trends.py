"""Commands of the signal tracker: trends and digest."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from shadowmatch_kb.cli.items import JsonOption, KbOption, SectorOption, ThemeOption
from shadowmatch_kb.cli.output import fail, open_kb, print_json, reporting_errors, stderr, stdout

if TYPE_CHECKING:
    from shadowmatch_kb.kb import KnowledgeBase, TrendsReport


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("trends")(trends)
    app.command("digest")(digest)


def trends(
    ctx: typer.Context,
    sector: SectorOption = None,
    theme: ThemeOption = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Count per month (YYYY-MM) or per quarter (YYYY-Qn); by default per quarter when a month "
            "holds a median of fewer than 10 items, else per month.",
        ),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", min=1, max=100, help="How many signal clusters, themes and sectors to show.")
    ] = 10,
    plot: Annotated[
        str | None,
        typer.Option("--plot", metavar="FILE.png", help="Also draw the series as small multiples in a PNG."),
    ] = None,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Signal clusters, themes and sectors counted per period, their share and growth, and what is rising.

    A count is the number of independent items published in the period (undated items and dates after
    today are left out, with a warning); a near-duplicate counts once, as its original. The share is
    that count over all the period's items. A series is shown only with at least 3 items in at least 2
    quarters, so one item is never a trend.

    Growth = (mean count per period in the recent window + 0.5) / (mean count per period before it + 0.5);
    the recent window is the last 6 months or 2 quarters (at most half the periods). 1.0 is steady,
    2.0 twice as many, 0.5 half. Rising (▲): growth of 1.5 or more, 2 or more items in the recent window,
    and a larger share of the period's items than before.

    Emerging signals (★) are new signal clusters (first stated in the last 12 months, by at least
    two items) whose support is furthest above what clusters of the same age usually have.
    """
    from shadowmatch_kb.errors import UsageError
    from shadowmatch_kb.model import ItemFilter
    from shadowmatch_kb.trends.plot import choose_period

    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        try:
            report = kb.trends(where=ItemFilter(sector=sector, theme=theme), by=by or "month", top=top)
        except UsageError as exc:  # a period kind or a sector the tracker does not know
            fail(str(exc), code=2)
        report = choose_period(report, by)
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
            _print_table(report, _titles(kb, report))


RISING_ITEMS_SHOWN = 5  # items named under each rising series; `--json` lists them all


def _titles(kb: KnowledgeBase, report: TrendsReport) -> dict[str, str]:
    """The titles of the items named under the rising series."""
    from shadowmatch_kb.errors import NotFoundError

    wanted = {i for r in report.to_dict()["rising"] for i in r["item_ids"][:RISING_ITEMS_SHOWN]}
    titles: dict[str, str] = {}
    for item_id in sorted(wanted):
        try:
            titles[item_id] = kb.get(item_id).title
        except NotFoundError:
            titles[item_id] = ""
    return titles


def _print_table(report: TrendsReport, titles: dict[str, str]) -> None:
    from rich.table import Table

    from shadowmatch_kb.trends.plot import sparkline

    console = stdout()
    if not report.periods:
        console.print("no dated items to count yet: ingest some items first", markup=False)
        return
    if not report.series:
        console.print("no trends to show yet: no series has 3 items in 2 quarters (ingest more items)", markup=False)
        return
    # The sparkline shows the latest periods that fit beside the other columns (all of them on a wide terminal).
    shown = max(8, min(len(report.periods), console.width - 96))
    first, last = report.periods[-shown:][0], report.periods[-1]
    title = f"Independent items {report.period_choice or 'per ' + report.by}; {first} … {last}"
    # No outer edge and short headers: on an 80-column terminal the label keeps about 20 columns and wraps
    # between words instead of breaking them ("productivi / ty gains").
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("kind", no_wrap=True)
    table.add_column("label", overflow="fold", ratio=1, min_width=16)
    table.add_column(f"{report.by}s", no_wrap=True)
    table.add_column("items", justify="right", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    table.add_column("growth", no_wrap=True)
    document = report.to_dict()
    for s, entry in zip(report.series, document["series"], strict=True):
        mark = ("▲ " if s.rising else "") + ("★ " if s.emerging else "")
        share = f"{s.shares[-1]:.0%}" if s.shares else ""
        table.add_row(
            s.kind, mark + s.label, sparkline(s.counts[-shown:]), str(s.total), share, entry["growth_in_words"]
        )
    console.print(table)
    console.print(
        f"Items: in all {report.by}s. Share: of all the items dated in {last}. {document['growth_explained']}",
        markup=False,
    )
    from shadowmatch_kb.trends.plot import marks_explained

    console.print(marks_explained(report), markup=False)
    rising = document["rising"]
    since = min((r["since"] for r in rising), default=report.periods[-1])
    console.print(f"\nRising since {since}:" if rising else "\nNothing is rising: no series has grown", markup=False)
    for r, s in zip(rising, [s for s in report.series if s.rising], strict=True):
        console.print(f"  ▲ {r['sentence']}  {sparkline(s.counts)}", markup=False)
        for item_id in r["item_ids"][:RISING_ITEMS_SHOWN]:
            console.print(f"      {item_id}  {titles.get(item_id, '')}", markup=False)
        if len(r["item_ids"]) > RISING_ITEMS_SHOWN:
            more = len(r["item_ids"]) - RISING_ITEMS_SHOWN
            console.print(f"      … and {more} more (--json lists them)", markup=False)
    if report.emerging:
        console.print("\nEmerging signals (support against what clusters of the same age usually have):", markup=False)
        for e in report.emerging:
            console.print(
                f"  ★ {e.label}: {e.change} ({e.support} items since {e.first_seen}, score {e.score:.2f})", markup=False
            )
    else:
        console.print(f"\n{_no_emerging(report)}", markup=False)


def _no_emerging(report: TrendsReport) -> str:
    months = report.params.max_age_months
    return (
        f"No emerging signals: no signal cluster first stated in the last {months} months of the record has "
        f"been stated by {report.params.min_support} or more items yet."
    )


def digest(
    ctx: typer.Context,
    since: Annotated[str, typer.Option("--since", help="The date to start from: YYYY-MM-DD (or YYYY-MM, YYYY).")],
    fmt: Annotated[
        str, typer.Option("--format", help="md (rendered in a terminal, plain Markdown otherwise) or json.")
    ] = "md",
    imported: Annotated[
        bool,
        typer.Option(
            "--imported", help="List the items imported since the date (undated ones too), not those published since."
        ),
    ] = False,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """New items and newly rising signals since a date.

    Items are taken by their published date and listed newest first with their most supported signals;
    undated items, and dates after today or before 1990, are not "new" (--imported lists what was imported
    since the date instead, undated items included). Copies of earlier items are left out. A signal is rising
    when two or more items published since the date state it: new when first stated since then, growing when
    stated before too.
    """
    from shadowmatch_kb.text.dates import parse_iso_date

    if fmt not in ("md", "json"):
        fail(f"--format must be md or json, not {fmt!r}", code=2)
    start = parse_iso_date(since.strip())
    if start is None:
        fail(f"--since {since!r} is not a date; use YYYY-MM-DD", code=2)
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        found = kb.digest(since=start, by="imported" if imported else "published")
        if fmt == "json" or as_json:
            print_json(found.to_dict())
        elif sys.stdout.isatty():
            from rich.markdown import Markdown

            stdout().print(Markdown(found.to_markdown()))
        else:
            sys.stdout.write(found.to_markdown())
