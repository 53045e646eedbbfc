"""Commands that look after the knowledge base: reindex, stats, doctor, migrate."""

from __future__ import annotations

from typing import Annotated

import typer

from shadowmatch_kb.cli.items import JsonOption, KbOption
from shadowmatch_kb.cli.output import RichProgress, open_kb, print_json, reporting_errors, stderr, stdout


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("reindex")(reindex)
    app.command("stats")(stats)
    app.command("doctor")(doctor)
    app.command("migrate")(migrate)


def reindex(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Rebuild with this embedding model instead of the current one."),
    ] = None,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Rebuild the derived indexes (vectors, full text, ONNX export) from corpus/."""
    kb = open_kb(ctx, kb_dir, model=model)
    with reporting_errors(ctx, kb):
        if not kb.exists:
            kb.store  # noqa: B018 - raises the clear "no knowledge base" error
        report = kb.reindex(progress=RichProgress())
        if as_json:
            print_json(report)
        else:
            stderr().print(
                f"indexed {report['items']} item(s), {report['chunks']} chunk(s) with {report['model']} "
                f"({report['index']} index) in {report['seconds']} s",
                markup=False,
            )


def stats(ctx: typer.Context, as_json: JsonOption = False, kb_dir: KbOption = None) -> None:
    """Counts: items, duplicates, tags, sectors, themes, and the state of the index."""
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        counts = kb.stats()
        if as_json:
            print_json(counts)
            return
        console = stdout()
        console.print(f"knowledge base  {counts['kb']}", markup=False)
        console.print(
            f"items           {counts['items']} ({counts['unique_items']} unique, {counts['duplicates']} duplicates)"
        )
        console.print(f"published       {counts['oldest'] or '-'} to {counts['newest'] or '-'}")
        dates = counts["dates"]
        if any(dates.values()):
            console.print(
                f"not counted     {dates['undated']} undated, {dates['after_today']} dated after today, "
                f"{dates['before_1990']} before 1990 (the tracker leaves these out; `smkb doctor` lists the dates)",
                markup=False,
            )
        console.print(f"tags            {counts['tags']} on {counts['tagged_items']} item(s)")
        index = counts["index"]
        if index.get("built"):
            console.print(
                f"index           {index['kind']}, {index['model']}, {index['items']} items, "
                f"{index['chunks']} chunks, {index['pending']} pending",
                markup=False,
            )
        else:
            console.print("index           not built (run smkb reindex)")
        for facet in ("sectors", "themes"):
            top = list(counts[facet].items())[:12]
            if top:
                console.print(f"{facet:15} " + ", ".join(f"{k} ({v})" for k, v in top), markup=False)


def doctor(ctx: typer.Context, as_json: JsonOption = False, kb_dir: KbOption = None) -> None:
    """Check the record and the index for consistency; exits 1 when a problem is found."""
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        report = kb.doctor()
        if as_json:
            print_json({"ok": not report.problems, "problems": report.problems, "notes": report.notes})
        else:
            console = stdout()
            for problem in report.problems:
                console.print(f"problem: {problem}", markup=False)
            for note in report.notes:
                console.print(f"note: {note}", markup=False)
            if not report.problems:
                console.print("ok: the record and the index are consistent")
        if report.problems:
            raise typer.Exit(1)


def migrate(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="DIR|URL",
            help="The knowledge base to copy into: a folder, or a postgresql:// URL (its tables are made if need be).",
        ),
    ],
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Copy this knowledge base (--kb) into another, losslessly: a folder into Postgres, or back.

    Every item's record (fields, dates, tags, analysts' edits, raw input), the occupation datasets, the crawl
    frontier and the files people edit (sources, sector aliases, smkb.toml) are copied; the target then builds
    its own vectors and full text. It can be run again: items already copied are left as they are.
    """
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        kb.store  # noqa: B018 - a source that holds no knowledge base is the clear "no knowledge base" error
        report = kb.migrate_to(to, progress=RichProgress())
        if as_json:
            print_json(report)
        else:
            items, index = report["items"], report["index"]
            vectors = f"vectors of {index['copied']} item(s) copied, " if "copied" in index else ""
            stderr().print(
                f"copied {report['from']} into {report['to']}: {items['added']} item(s) added, {items['updated']}"
                f" updated, {items['unchanged']} unchanged; {report['occupation_labels']} occupation label(s),"
                f" {report['crawl_urls']} frontier URL(s); {vectors}{index['items']} item(s) embedded",
                markup=False,
            )
