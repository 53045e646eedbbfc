"""``smkb enrich``: compute summary, keywords, themes, sectors and a grounded Signals table."""

from __future__ import annotations

from typing import Annotated

import typer

from shadowmatch_kb.cli.items import JsonOption, KbOption
from shadowmatch_kb.cli.output import RichProgress, fail, open_kb, print_json, reporting_errors, stdout


def register(app: typer.Typer) -> None:
    """Add this module's command to the app."""
    app.command("enrich")(enrich)


def enrich(
    ctx: typer.Context,
    ids: Annotated[list[str] | None, typer.Argument(help="Items to recompute (default: new ones).")] = None,
    all_items: Annotated[bool, typer.Option("--all", help="Recompute every item.")] = False,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Compute the summary, keywords, themes, sectors and Signals rows of items, offline.

    Every Signals row quotes the sentence of the item that supports it. Imported Signals posts keep
    their own fields (only missing ones are computed); analysts' tags and corrections are never
    overwritten. `smkb ingest` and `smkb crawl` enrich new items themselves; run this after changing
    the model or to recompute (ID..., or --all). Set SMKB_LLM_URL (and SMKB_LLM_MODEL,
    SMKB_LLM_API_KEY) to use an OpenAI-compatible language model instead; any failure falls back to
    the offline methods with a warning.
    """
    if ids and all_items:
        fail("give item ids or --all, not both", code=2)
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        results = kb.enrich(ids or [], all_items=all_items, progress=RichProgress(enabled=not as_json))
        if as_json:
            print_json({"items": [r.to_dict() for r in results]})
        else:
            console = stdout()
            done = sum(r.status == "enriched" for r in results)
            console.print(f"{done} item(s) enriched" + ("" if results else " (nothing to do)"))
            for result in results:
                if result.status == "failed":
                    console.print(f"failed  {result.id}: {result.error}", markup=False)
        if any(r.status == "failed" for r in results):
            raise typer.Exit(1)
