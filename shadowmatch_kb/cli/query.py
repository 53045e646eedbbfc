"""Commands that find items: related and search."""

from __future__ import annotations

from typing import Annotated

import typer

from shadowmatch_kb.cli.items import (
    IdArgument,
    JsonOption,
    KbOption,
    SectorOption,
    SinceOption,
    TagOption,
    ThemeOption,
    item_filter,
    usage_errors,
)
from shadowmatch_kb.cli.output import open_kb, print_json, reporting_errors, stdout
from shadowmatch_kb.model import SearchResult

KOption = Annotated[int, typer.Option("-k", min=1, max=1000, help="How many results.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("related")(related)
    app.command("search")(search)


def _print_results(results: list[SearchResult], as_json: bool) -> None:
    if as_json:
        print_json({"results": [r.to_dict() for r in results]})
        return
    console = stdout()
    if not results:
        console.print("no results")
    # The table gives the rank alone: fused scores (0.016 against 0.015) say nothing a person can use; the
    # JSON keeps each result's "score" for scripts.
    for n, r in enumerate(results, start=1):
        console.print(f"{n:2}. {r.title}  [dim]{r.published or 'undated'}  {r.id}[/dim]")
        if r.snippet:
            console.print(f"    {r.snippet}", markup=False)


def related(
    ctx: typer.Context,
    item_id: IdArgument,
    k: KOption = 10,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """The items closest to one item, by the embedding index, closest first.

    The list shows each item's rank, title, date and id; --json adds each one's "score" (the index's similarity).
    """
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb), usage_errors():
        _print_results(kb.related(item_id, k=k), as_json)


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words or a question, e.g. 'nurses documentation AI'.")],
    k: KOption = 10,
    sector: SectorOption = None,
    theme: ThemeOption = None,
    tag: TagOption = None,
    since: SinceOption = None,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Hybrid search: keyword (BM25) and semantic rankings fused, with filters.

    A question in which a person speaks of their own work ("I sort out billing complaints on the phone") is read
    as a briefing reads it when the occupation datasets are imported: the items most likely about that work
    come first. The list shows the results in rank order with their dates and ids; --json adds each one's fused
    "score", which orders results but is no measure of relevance on its own.
    """
    where = item_filter(sector, theme, tag, since)
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb), usage_errors():
        _print_results(kb.search(query, k=k, where=where), as_json)
