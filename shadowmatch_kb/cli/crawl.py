"""``smkb crawl``: fetch what registered sources list, politely, and report per source and host."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shadowmatch_kb.cli.items import JsonOption, KbOption, check_date, usage_errors
from shadowmatch_kb.cli.output import RichProgress, open_kb, print_json, reporting_errors, stderr, stdout

if TYPE_CHECKING:
    from shadowmatch_kb.kb import CrawlEvent, CrawlReport

# Columns of the live display and the summary: what most users want to see per host and source.
_SHOWN = ("added", "updated", "unchanged", "duplicate", "listed", "skipped", "failed")


def register(app: typer.Typer) -> None:
    """Add this module's command to the app."""
    app.command("crawl")(crawl)


class LiveCrawlDisplay:
    """Draws the crawl as it goes: totals and a row per host, redrawn a few times a second on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.live_terminal = sys.stderr.isatty()
        self.per_host: dict[str, Counter[str]] = {}
        self.totals: Counter[str] = Counter()
        self.queued = 0
        self._live: Any = None
        self._last_line = 0.0

    def __enter__(self) -> LiveCrawlDisplay:
        if self.enabled and self.live_terminal:
            from rich.live import Live

            self._live = Live(self._render(), console=stderr(), refresh_per_second=4, transient=True)
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()

    def url_done(self, event: CrawlEvent, queued: int) -> None:
        """Count one URL and redraw."""
        self.per_host.setdefault(event.host, Counter())[event.outcome] += 1
        self.totals[event.outcome] += 1
        self.queued = queued
        if self._live is not None:
            self._live.update(self._render())
        elif self.enabled and time.monotonic() - self._last_line > 5:
            # No terminal to redraw (a log file, cron): a line every few seconds shows it is alive.
            self._last_line = time.monotonic()
            sys.stderr.write(f"crawl: {self._summary_line()}\n")

    def _summary_line(self) -> str:
        done = sum(self.totals.values())
        return (
            f"{done} done, {self.queued} queued, {self.totals['added'] + self.totals['updated']} stored, "
            f"{self.totals['unchanged']} unchanged, {self.totals['skipped']} skipped, {self.totals['failed']} failed"
        )

    def _render(self) -> Any:
        from rich.table import Table

        table = Table(title=f"Crawling: {self._summary_line()}", title_justify="left", box=None, pad_edge=False)
        table.add_column("host")
        for outcome in _SHOWN:
            table.add_column(outcome, justify="right")
        busiest = sorted(self.per_host.items(), key=lambda kv: -sum(kv[1].values()))[:12]
        for host, counts in busiest:
            table.add_row(host, *(str(counts[o] or "") for o in _SHOWN))
        return table


def _print_summary(report: CrawlReport) -> None:
    from rich.table import Table

    console = stdout()
    table = Table(title="Crawl summary", title_justify="left")
    table.add_column("source")
    for outcome in _SHOWN:
        table.add_column(outcome, justify="right")
    for name in report.sources:
        counts = report.per_source.get(name, Counter())
        table.add_row(name, *(str(counts[o]) for o in _SHOWN))
    table.add_row("total", *(str(report.counts[o]) for o in _SHOWN), style="bold")
    console.print(table)
    console.print(
        f"{report.fetches} fetches in {report.seconds:.1f} s; {report.remaining} URLs still queued"
        + (f" ({report.stopped})" if report.stopped else "")
    )
    for failure in report.failures[:20]:
        console.print(f"failed  {failure['url']}: {failure['reason']}", markup=False)
    if len(report.failures) > 20:
        console.print(f"... and {len(report.failures) - 20} more failures (see --json)")


def _set_by(default: str, key: str) -> str:
    """The help's note of what sets a crawl setting when its flag is not given."""
    return f"[default: {default}; smkb.toml [crawl] {key}; SMKB_CRAWL_{key.upper()}]"


def crawl(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Sources to crawl (default: every registered one).")] = None,
    max_pages: Annotated[
        int | None,
        typer.Option("--max-pages", min=1, help="Stop after this many requests; the rest stays queued for next time."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Skip entries listed or published before YYYY-MM-DD."),
    ] = None,
    # None: not given, so the environment, the KB's smkb.toml or the default decides (config.CrawlSettings).
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", min=1, max=64, help="Requests at once " + _set_by("8", "concurrency")),
    ] = None,
    per_host: Annotated[
        int | None,
        typer.Option("--per-host", min=1, max=8, help="Requests at once to one host " + _set_by("2", "per_host")),
    ] = None,
    delay: Annotated[
        float | None,
        typer.Option(
            "--delay",
            min=0.0,
            help="Seconds between requests to one host; robots.txt may ask more " + _set_by("1.0", "delay"),
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=1.0, help="Seconds before a request gives up " + _set_by("20.0", "timeout")),
    ] = None,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Crawl registered sources: new and changed articles are stored, the rest cost a 304.

    Obeys robots.txt (Disallow, Allow, Crawl-delay), spaces requests to each host, retries 429 and
    5xx answers after the wait the server asks for, and refuses private addresses unless the source
    allows them. An interrupted crawl (Ctrl-C, --max-pages) resumes where it stopped. Exits 1 when
    any URL failed, after crawling all the others.

    The KB's smkb.toml ([crawl] delay, concurrency, per_host, timeout, user_agent) and the variables
    SMKB_CRAWL_DELAY, SMKB_CRAWL_CONCURRENCY, SMKB_CRAWL_PER_HOST, SMKB_CRAWL_TIMEOUT and SMKB_USER_AGENT
    set what no flag gives; a variable beats the file.
    """
    since = check_date(since)
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        with usage_errors():  # a bad smkb.toml or variable: exit 2 before anything is fetched
            settings = kb.config.crawl_settings(
                {"concurrency": concurrency, "per_host": per_host, "delay": delay, "timeout": timeout}
            )
        options = kb.crawl_options(settings=settings, max_pages=max_pages, since=since)
        with LiveCrawlDisplay(enabled=not as_json) as display:
            report = kb.crawl(names or [], options=options, observer=display, progress=RichProgress())
        if as_json:
            print_json({**report.to_dict(), "settings": settings.to_dict()})
        else:
            _print_summary(report)
        for note in report.notes:
            sys.stderr.write(f"note: {note}\n")
        if report.stopped == "interrupted":
            raise typer.Exit(130)
        if report.failures:
            raise typer.Exit(1)
