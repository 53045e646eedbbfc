"""``smkb sources``: the crawl registry in corpus/sources.toml (add, list, remove, starter)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import typer

from shadowmatch_kb.cli.items import JsonOption, KbOption
from shadowmatch_kb.cli.output import fail, open_kb, print_json, reporting_errors, stderr, stdout

if TYPE_CHECKING:
    from shadowmatch_kb.kb import Source

# Spelled out here rather than imported, so `smkb --help` need not load the registry code;
# tests/test_sources.py checks that they match shadowmatch_kb.crawl.sources.KINDS.
Kind = Literal["feed", "sitemap", "site"]

app = typer.Typer(
    name="sources",
    help=(
        "The crawl registry: the feeds, sitemaps and sites that `smkb crawl` follows.\n\n"
        "Kept in corpus/sources.toml, a file you may also edit by hand."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A unique name: lower-case letters, digits, '-' and '_'.")],
    url: Annotated[str, typer.Argument(help="The feed, the sitemap, or the page a site crawl starts from.")],
    kind: Annotated[
        Kind,
        typer.Option(
            "--kind",
            help="feed (RSS, Atom, JSON Feed), sitemap (urlset, index, news, .gz) or site (follow links).",
        ),
    ] = "feed",
    allow_private: Annotated[
        bool, typer.Option("--allow-private", help="Let this source reach private, loopback or link-local addresses.")
    ] = False,
    max_depth: Annotated[
        int | None,
        typer.Option("--max-depth", min=0, help="Site only: how many links away from URL to follow (default 2)."),
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="Take only URLs matching this regular expression (repeatable)."),
    ] = None,
    deny: Annotated[
        list[str] | None,
        typer.Option("--deny", help="Never take URLs matching this regular expression (repeatable)."),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Tag every item crawled from this source (repeatable).")
    ] = None,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Register a source to crawl; a KB directory without corpus/ gets one.

    allow and deny patterns are searched for in every URL the source leads to (feed entries,
    sitemap entries, links of a site); the source's own URL is always fetched.
    """
    if max_depth is not None and kind != "site":
        fail("--max-depth applies to --kind site only", code=2)
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        options = {"max_depth": max_depth} if max_depth is not None else {}
        source = kb.add_source(
            name, url, kind, allow_private=allow_private, allow=allow or [], deny=deny or [], tags=tag or [], **options
        )
        if as_json:
            print_json({"source": source.to_dict()})
        else:
            stdout().print(f"added {source.kind} {source.name}  {source.url}", markup=False)


def _options(source: Source) -> str:
    parts = []
    if source.allow_private:
        parts.append("private allowed")
    if source.kind == "site":
        parts.append(f"depth {source.max_depth}")
        parts.append("same site" if source.same_site else "any site")
    if source.allow:
        parts.append(f"{len(source.allow)} allow")
    if source.deny:
        parts.append(f"{len(source.deny)} deny")
    if source.tags:
        parts.append("tags: " + ", ".join(source.tags))
    return "; ".join(parts)


@app.command("list")
def list_sources(ctx: typer.Context, as_json: JsonOption = False, kb_dir: KbOption = None) -> None:
    """List the registered sources, in the order of corpus/sources.toml."""
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        path = kb.sources_path
        found = kb.sources()
        if as_json:
            print_json({"sources": [source.to_dict() for source in found]})
            return
        from rich.table import Table
        from rich.text import Text

        table = Table("name", "kind", "url", "options", box=None, pad_edge=False)
        for source in found:
            # Text, not markup: a URL or a tag may hold square brackets.
            table.add_row(Text(source.name), Text(source.kind), Text(source.url), Text(_options(source)))
        stdout().print(table)
        stderr().print(f"{len(found)} source(s) in {path}", markup=False)


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The name of a registered source.")],
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Unregister a source; items already crawled from it stay in the knowledge base."""
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        removed = kb.remove_source(name)
        if as_json:
            print_json({"removed": removed.to_dict()})
        else:
            stdout().print(f"removed {removed.kind} {removed.name}  {removed.url}", markup=False)


@app.command("starter")
def starter(ctx: typer.Context, as_json: JsonOption = False, kb_dir: KbOption = None) -> None:
    """Register the shipped starter sources on AI and work (ILO, OECD, ...) that are not registered yet.

    A starter source is skipped when its name is taken or its URL is registered under another
    name; running it again adds nothing.
    """
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        added, skipped = kb.add_starter_sources()
        if as_json:
            print_json(
                {
                    "added": [source.to_dict() for source in added],
                    "skipped": [{"name": s.name, "url": s.url, "reason": reason} for s, reason in skipped],
                }
            )
            return
        console = stdout()
        for source in added:
            console.print(f"added    {source.name:26} {source.url}", markup=False)
        for source, reason in skipped:
            console.print(f"skipped  {source.name:26} ({reason})", markup=False)
        stderr().print(f"{len(added)} added, {len(skipped)} skipped", markup=False)
