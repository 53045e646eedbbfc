"""The typer application: global options and the registration of every command group."""

from __future__ import annotations

from typing import Annotated

import typer

from shadowmatch_kb import __version__
from shadowmatch_kb.cli import admin, brief, crawl, enrich, items, occupations, query, sectors, serve, sources, trends
from shadowmatch_kb.cli.output import GlobalOptions

app = typer.Typer(
    name="smkb",
    help=(
        "shadowmatch_kb: an offline knowledge base and signal tracker on how AI changes work.\n\n"
        "Works on one knowledge base: --kb DIR (or a postgresql:// URL), else $SMKB_KB, else the current directory. "
        "corpus/ holds the record; indexes/ holds derived data that `smkb reindex` rebuilds."
    ),
    no_args_is_help=True,
    # Plain help text: drawing it with rich costs ~0.15 s of start-up on every `--help`.
    rich_markup_mode=None,
    # typer's `--install-completion` / `--show-completion` on the root only; shellingham (for detecting the
    # shell) is imported by typer either way, so this adds no import to `smkb --help`.
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"smkb {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    kb: Annotated[
        str | None,
        typer.Option(
            "--kb",
            help="KB directory, or a postgresql:// URL for one shared in Postgres (default: $SMKB_KB, else the "
            "current directory).",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Embedding model: a sentence-transformers name or path (default: the one that built the "
            "index, else the bundled all-MiniLM-L6-v2). Also $SMKB_MODEL.",
        ),
    ] = None,
    index: Annotated[
        str | None,
        typer.Option("--index", help="Vector index: flat (exact, local; default) or chroma. Also $SMKB_INDEX."),
    ] = None,
    chroma_url: Annotated[
        str | None,
        typer.Option("--chroma-url", help="Use a Chroma server, e.g. http://127.0.0.1:8000. Also $SMKB_CHROMA_URL."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Global options."""
    ctx.obj = GlobalOptions(kb=kb, model=model, index=index, chroma_url=chroma_url, debug=debug)


items.register(app)
crawl.register(app)
enrich.register(app)
query.register(app)
brief.register(app)
serve.register(app)
admin.register(app)
trends.register(app)
sectors.register(app)
app.add_typer(sources.app, name="sources")
app.add_typer(occupations.app, name="occupations")
