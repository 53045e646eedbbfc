"""``smkb brief``: the mentor's briefing, as markdown, a printable HTML page or JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from shadowmatch_kb.cli.items import KbOption, SinceOption, check_date
from shadowmatch_kb.cli.output import fail, open_kb, reporting_errors, stdout

FORMATS = ("md", "html", "json")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("brief")(brief)


def brief(
    ctx: typer.Context,
    question: Annotated[
        str,
        typer.Argument(help="The mentor's question in their own words, e.g. 'I'm a nurse, how will AI change my job?'"),
    ],
    since: SinceOption = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="md (rendered in a terminal, plain markdown otherwise), html (one self-contained printable page) "
            "or json (SPEC.md: question, sector, occupations, signals, sources, markdown).",
        ),
    ] = "md",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file instead of stdout.", dir_okay=False)
    ] = None,
    occupation: Annotated[
        str | None,
        typer.Option(
            "--occupation",
            help="The asker's occupation, when the one the briefing found is not theirs: their job title in a few "
            "words ('plumber', 'care worker in a care home'), or an ISCO-08 unit group's four digits from the "
            "briefing's 'Is this you?' line or from `smkb occupations match`.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
    kb_dir: KbOption = None,
) -> None:
    """A one-page briefing on how the asker's work is changing.

    Reads the question as the person means it: what they do (the framing "how will AI change my job" left
    aside), their occupation (ISCO-08, with the close alternatives) and their sector. Finds the items most
    about the occupation first, then its sector, then the wider picture, and says which it found; merges their
    Signals rows into distinct signals, those closest to the person's work first; and writes an overview of
    the items' own sentences (each with the item it comes from), the occupation's exposure figures in plain
    words (when `smkb occupations import` has run), prompts for the shadow day and the sources. Every
    overview sentence and every signal cites an item of the knowledge base; a claim without one is dropped.
    """
    if as_json and output_format not in ("md", "json"):
        fail(f"--json and --format {output_format} ask for two formats: give one of them", code=2)
    output_format = "json" if as_json else output_format
    if output_format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}", code=2)
    since = check_date(since)
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        from shadowmatch_kb.brief.render import to_html, to_markdown

        briefing = kb.brief(question, since=since, occupation=occupation)
        markdown = to_markdown(briefing)
        if output_format == "json":
            import json

            text = json.dumps(briefing.to_dict(markdown), ensure_ascii=False, indent=2) + "\n"
        elif output_format == "html":
            text = to_html(briefing)
        else:
            text = markdown
        if output is not None:
            _write(output, text)
            sys.stderr.write(f"wrote {output}\n")
        elif output_format == "md" and sys.stdout.isatty():
            from rich.markdown import Markdown

            stdout().print(Markdown(markdown))
        else:
            sys.stdout.write(text)


def _write(path: Path, text: str) -> None:
    """Write through a temporary file, so an interrupted write never leaves half a briefing."""
    import os

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        fail(f"cannot write {path}: {exc.strerror or exc}")
