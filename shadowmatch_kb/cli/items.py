"""Commands that bring items in, show them and change them: ingest, list, show, tag, export."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from shadowmatch_kb.cli.output import (
    RichProgress,
    fail,
    open_kb,
    print_json,
    reporting_errors,
    stderr,
    stdout,
)

if TYPE_CHECKING:
    from shadowmatch_kb.model import ItemFilter

KbOption = Annotated[
    str | None, typer.Option("--kb", help="KB directory or postgresql:// URL (overrides the global --kb).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
SinceOption = Annotated[str | None, typer.Option("--since", help="Only items published on or after YYYY-MM-DD.")]
SectorOption = Annotated[
    str | None,
    typer.Option("--sector", help="Only items in this sector: its name, ISIC letter or an alias (see `smkb sectors`)."),
]
ThemeOption = Annotated[str | None, typer.Option("--theme", help="Only items with this theme.")]
TagOption = Annotated[str | None, typer.Option("--tag", help="Only items with this analyst tag.")]


def item_filter(sector: str | None, theme: str | None, tag: str | None, since: str | None) -> ItemFilter:
    """The filter of --sector/--theme/--tag/--since, with the date checked."""
    from shadowmatch_kb.model import ItemFilter

    return ItemFilter(sector=sector, theme=theme, tag=tag, since=check_date(since))


@contextmanager
def usage_errors() -> Iterator[None]:
    """End the command with exit 2 on a ``UsageError`` (an unknown sector, say), as a bad option does."""
    from shadowmatch_kb.errors import UsageError

    try:
        yield
    except UsageError as exc:
        fail(" ".join(str(exc).split()), code=2)


def check_date(value: str | None) -> str | None:
    """Accept YYYY-MM-DD (or YYYY-MM, YYYY); anything else is a usage error."""
    from shadowmatch_kb.text.dates import is_iso_date

    if value is None:
        return None
    if not is_iso_date(value):
        raise typer.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD")
    return value


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("ingest")(ingest)
    app.command("list")(list_items)
    app.command("show")(show)
    app.command("tag")(tag)
    app.command("export")(export)


def ingest(
    ctx: typer.Context,
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Files (.md Signals posts, .md, .html, .txt), folders (recursively), URLs, or a .jsonl export."
        ),
    ],
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Tag every imported item (repeatable).")] = None,
    allow_private: Annotated[
        bool, typer.Option("--allow-private", help="Let URLs reach private or loopback addresses.")
    ] = False,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Import files, folders and URLs; re-importing unchanged inputs does nothing.

    Each input is reported as added, updated, unchanged or failed (with a one-line reason); a file that
    is a variant of a post stored from another file (an older layout, an older date) is kept out and
    reported unchanged, with the reason. A .jsonl file written by `smkb export` restores its items
    exactly, reported one line of the file each (FILE:LINE).
    A folder's walk stays inside the folder: a link out of it is reported as failed, never read.
    The command exits 1 when any input failed, after importing all the others.
    """
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        results = kb.ingest(inputs, tags=tag or [], allow_private=allow_private, progress=RichProgress())
        if as_json:
            print_json({"items": [r.to_dict() for r in results]})
        else:
            console = stdout()
            for r in results:
                detail = f"  ({r.error})" if r.error else ""
                console.print(f"{r.status:9} {r.id or '-':32}  {r.input}{detail}", markup=False)
            counts = {s: sum(1 for r in results if r.status == s) for s in ("added", "updated", "unchanged", "failed")}
            stderr().print(", ".join(f"{n} {s}" for s, n in counts.items()), markup=False)
        if any(r.status == "failed" for r in results):
            raise typer.Exit(1)


def list_items(
    ctx: typer.Context,
    sector: SectorOption = None,
    theme: ThemeOption = None,
    tag: TagOption = None,
    since: SinceOption = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many items.")] = None,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """List items, newest first, optionally filtered."""
    where = item_filter(sector, theme, tag, since)
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        with usage_errors():
            found = kb.list_items(where, limit=limit)
        if as_json:
            keys = ("id", "title", "url", "published", "themes", "sectors", "tags")
            print_json({"items": [{k: getattr(i, k) for k in keys} for i in found]})
            return
        from rich.table import Table

        table = Table("id", "published", "title", "sectors", box=None, pad_edge=False)
        for item in found:
            table.add_row(item.id, item.published or "", item.title, ", ".join(item.sectors))
        stdout().print(table)
        stderr().print(f"{len(found)} item(s)")


def show(
    ctx: typer.Context,
    item_id: Annotated[str, typer.Argument(metavar="ID", help="The item's 32-hex-digit id.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="md (the Signals post format) or json.")] = "md",
    k: Annotated[int, typer.Option("-k", min=0, max=100, help="How many Closest items to compute.")] = 5,
    kb_dir: KbOption = None,
) -> None:
    """Show one item in the Signals post format (with Closest computed) or as JSON.

    The JSON also says how the computed fields were made under "enrichment": method, model, the
    language read, and the confidence (0 to 1) of each computed sector.
    """
    if fmt not in ("md", "json"):
        raise typer.BadParameter("use md or json", param_hint="--format")
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        if fmt == "json":
            print_json(kb.item_document(item_id, k=k))
        else:
            item = kb.get(item_id)
            closest = kb.closest(item.id, k=k) if k else []
            from shadowmatch_kb.formats.signals_post import render_signals_post

            sys.stdout.write(render_signals_post(item, [(c.id, c.title) for c in closest]))


def tag(
    ctx: typer.Context,
    item_id: Annotated[str, typer.Argument(metavar="ID", help="The item's id.")],
    add: Annotated[list[str] | None, typer.Option("--add", "-a", help="Add this tag (repeatable).")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", "-r", help="Remove this tag (repeatable).")] = None,
    sector: Annotated[
        list[str] | None,
        typer.Option(
            "--sector",
            help="Set the item's sectors to these (repeatable): a name, ISIC letter or alias of a section "
            "(see `smkb sectors`), stored as the section's name; an analyst edit.",
        ),
    ] = None,
    theme: Annotated[
        list[str] | None,
        typer.Option("--theme", help="Set the item's themes to these (repeatable); an analyst edit."),
    ] = None,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Add or remove analyst tags and correct an item's sectors or themes.

    Corrections are kept as analyst edits: re-imports and re-enrichment never overwrite them. A sector
    the vocabulary does not know is refused (exit 2) with the list of section names.
    """
    if not (add or remove or sector or theme):
        fail("nothing to do: give --add, --remove, --sector or --theme", code=2)
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        with usage_errors():
            item = kb.tag(item_id, add=add or [], remove=remove or [], sectors=sector, themes=theme)
        if as_json:
            keys = ("id", "title", "tags", "sectors", "themes")
            print_json({k: getattr(item, k) for k in keys})
        else:
            stdout().print(
                f"{item.id}  tags: {', '.join(item.tags) or '-'}  sectors: {', '.join(item.sectors) or '-'}"
                f"  themes: {', '.join(item.themes) or '-'}",
                markup=False,
            )


def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl (lossless), csv, or md (Signals posts).")] = "jsonl",
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="File to write (a folder for md); default: stdout."),
    ] = None,
    kb_dir: KbOption = None,
) -> None:
    """Export every item: jsonl keeps everything (tags, edits, raw inputs), csv and md are for reading."""
    if fmt not in ("jsonl", "csv", "md"):
        raise typer.BadParameter("use jsonl, csv or md", param_hint="--format")
    from pathlib import Path

    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        count = kb.export(fmt, path=Path(output)) if output else kb.export(fmt, handle=sys.stdout)
        if output:
            stderr().print(f"exported {count} item(s) to {output}", markup=False)
