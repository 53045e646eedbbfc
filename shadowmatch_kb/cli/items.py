"""Commands that bring items in, show them and change them: ingest, list, show, tag, export."""

from __future__ import annotations

import datetime
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
IdArgument = Annotated[
    str, typer.Argument(metavar="ID", help="The item's id, or a unique prefix of it (4 hex digits or more).")
]


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
    app.command("history")(history)
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
    ids_only: Annotated[bool, typer.Option("--ids", help="Print only the items' full ids, one a line.")] = False,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """List items, newest first, optionally filtered.

    The table always shows whole ids, however narrow the terminal; titles wrap instead. `--ids` prints the
    ids alone, for scripts (`smkb list --ids | xargs ...`).
    """
    where = item_filter(sector, theme, tag, since)
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        with usage_errors():
            found = kb.list_items(where, limit=limit)
        if as_json:
            keys = ("id", "title", "url", "published", "themes", "sectors", "tags")
            print_json({"items": [{k: getattr(i, k) for k in keys} for i in found]})
            return
        if ids_only:
            sys.stdout.write("".join(f"{item.id}\n" for item in found))
            return
        from rich.table import Table

        table = Table(box=None, pad_edge=False)
        # An id is what people copy into the next command: never cut or wrapped, whatever the width.
        table.add_column("id", no_wrap=True, min_width=32)
        table.add_column("published", no_wrap=True, min_width=10)
        table.add_column("title", overflow="fold", ratio=3)
        table.add_column("sectors", overflow="fold", ratio=1)
        today = datetime.date.today().isoformat()
        for item in found:
            title = item.title + (f"  (a copy of {item.duplicate_of[:12]})" if item.duplicate_of else "")
            table.add_row(item.id, _shown_date(item.published, today), title, ", ".join(item.sectors))
        stdout().print(table)
        stderr().print(f"{len(found)} item(s)")


def _shown_date(published: str | None, today: str) -> str:
    """A published date as the list shows it: marked when the tracker cannot count it."""
    from shadowmatch_kb.text.dates import date_doubt

    doubt = date_doubt(published, today)
    return "undated" if published is None else f"{published} ({doubt}?)" if doubt else published


def show(
    ctx: typer.Context,
    item_id: IdArgument,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md (the Signals post format) or json.")] = "md",
    k: Annotated[int, typer.Option("-k", min=0, max=100, help="How many Closest items to compute.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
    kb_dir: KbOption = None,
) -> None:
    """Show one item in the Signals post format (with Closest computed) or as JSON.

    The JSON also says how the computed fields were made under "enrichment": method, model, the
    language read, and the confidence (0 to 1) of each computed sector.
    """
    if fmt not in ("md", "json"):
        raise typer.BadParameter("use md or json", param_hint="--format")
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb), usage_errors():
        if fmt == "json" or as_json:
            print_json(kb.item_document(item_id, k=k))
        else:
            item = kb.get(item_id)
            closest = kb.closest(item.id, k=k) if k else []
            from shadowmatch_kb.formats.signals_post import render_signals_post

            sys.stdout.write(render_signals_post(item, [(c.id, c.title) for c in closest]))


def tag(
    ctx: typer.Context,
    item_id: IdArgument,
    add: Annotated[list[str] | None, typer.Option("--add", "-a", help="Add this tag (repeatable).")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", "-r", help="Remove this tag (repeatable).")] = None,
    add_sector: Annotated[
        list[str] | None,
        typer.Option(
            "--add-sector",
            help="Add this sector (repeatable): a name, ISIC letter or alias of a section (see `smkb sectors`).",
        ),
    ] = None,
    remove_sector: Annotated[
        list[str] | None, typer.Option("--remove-sector", help="Remove this sector (repeatable).")
    ] = None,
    add_theme: Annotated[list[str] | None, typer.Option("--add-theme", help="Add this theme (repeatable).")] = None,
    remove_theme: Annotated[
        list[str] | None, typer.Option("--remove-theme", help="Remove this theme (repeatable).")
    ] = None,
    sector: Annotated[
        list[str] | None,
        typer.Option(
            "--sector",
            help="Replace the item's whole list of sectors by these (repeatable); to add or remove one, use "
            "--add-sector / --remove-sector.",
        ),
    ] = None,
    theme: Annotated[
        list[str] | None,
        typer.Option(
            "--theme",
            help="Replace the item's whole list of themes by these (repeatable); to add or remove one, use "
            "--add-theme / --remove-theme.",
        ),
    ] = None,
    undo: Annotated[
        bool, typer.Option("--undo", help="Revert the item's last analyst edit (see `smkb history ID`).")
    ] = False,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Add or remove analyst tags, sectors and themes of an item, or undo its last edit.

    --add/--remove, --add-sector/--remove-sector and --add-theme/--remove-theme change the lists; --sector
    and --theme replace a whole list (given with --add-sector and the like, the list is replaced first, then
    changed). Sectors are stored as ISIC section names; one the vocabulary does not know is refused (exit 2)
    with the list of section names, before anything is written.

    Every change is one edit in the item's history (`smkb history ID`), and corrections of sectors and
    themes are kept as analyst edits: re-imports and re-enrichment never overwrite them. --undo reverts the
    last edit not yet undone (an undo is itself recorded); with nothing left to undo it exits 2.
    """
    from shadowmatch_kb.kb import ListChange

    sectors = ListChange(sector, add_sector or [], remove_sector or [])
    themes = ListChange(theme, add_theme or [], remove_theme or [])
    edits = any((add, remove, add_sector, remove_sector, add_theme, remove_theme, sector, theme))
    if undo and edits:
        fail("--undo reverts the last edit: give it alone, without other changes", code=2)
    if not (undo or edits):
        fail(
            "nothing to do: give --add, --remove, --add-sector, --remove-sector, --add-theme, --remove-theme, "
            "--sector, --theme or --undo",
            code=2,
        )
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        with usage_errors():
            if undo:
                item, reverted = kb.undo(item_id)
            else:
                changed = {"sectors": sectors, "themes": themes}
                given = {name: change for name, change in changed.items() if change != ListChange()}
                item, reverted = kb.tag(item_id, add=add or [], remove=remove or [], **given), []
        if as_json:
            keys = ("id", "title", "tags", "sectors", "themes")
            document = {k: getattr(item, k) for k in keys}
            if undo:
                document["undone"] = [entry.to_dict() for entry in reverted]
            print_json(document)
        else:
            if undo:
                stderr().print(f"undid change {reverted[0].undoes} of {item.id}", markup=False)
            stdout().print(
                f"{item.id}  tags: {', '.join(item.tags) or '-'}  sectors: {', '.join(item.sectors) or '-'}"
                f"  themes: {', '.join(item.themes) or '-'}",
                markup=False,
            )


def history(ctx: typer.Context, item_id: IdArgument, as_json: JsonOption = False, kb_dir: KbOption = None) -> None:
    """Every analyst edit of an item, oldest first: tags added and removed, sectors and themes set or changed,
    undos, each with its time (UTC).

    Edits made before the history was kept are shown from what the record knows: each sector or theme
    correction, and the tags with the time each was added. `smkb tag ID --undo` reverts the last edit.
    """
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb), usage_errors():
        item, entries = kb.history(item_id)
        if as_json:
            print_json({"id": item.id, "title": item.title, "history": [e.to_dict() for e in entries]})
            return
        console = stdout()
        console.print(f"{item.id}  {item.title}", markup=False)
        if not entries:
            console.print("no analyst edits")
        for entry in entries:
            what = ", ".join(entry.value) or "(none)"
            if entry.action == "undo":
                what = f"change {entry.undoes} undone: {entry.field} now {what}"
            note = "  (undone)" if entry.undone else ""
            console.print(
                f"{entry.edited_at}  #{entry.change_no:<3} {entry.field:8} {entry.action:7} {what}{note}", markup=False
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
