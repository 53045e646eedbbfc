"""``smkb sectors``: the sector vocabulary of a knowledge base, each section with its aliases."""

from __future__ import annotations

import typer

from shadowmatch_kb.cli.items import JsonOption, KbOption
from shadowmatch_kb.cli.output import open_kb, print_json, reporting_errors, stdout

# Aliases shown per section in the table; --json gives them all.
_SHOWN_ALIASES = 8


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("sectors")(sectors)


def sectors(ctx: typer.Context, as_json: JsonOption = False, kb_dir: KbOption = None) -> None:
    """The sectors items are filed under: ISIC Rev.4 sections, each with its name and aliases.

    Every --sector option, the web page's sector fields and `smkb tag --sector` take a section's name,
    its ISIC letter or any of its aliases, and items store the name. Analysts add aliases of their own
    to corpus/sector_aliases.toml, one a line: "creative work" = "R" (a section's name or letter).
    """
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        found = kb.sector_vocabulary().describe()
        path = kb.sector_aliases_path
        if as_json:
            print_json({"sectors": found, "aliases_file": str(path)})
            return
        console = stdout()
        for section in found:
            aliases, more = section["aliases"][:_SHOWN_ALIASES], len(section["aliases"]) - _SHOWN_ALIASES
            shown = ", ".join(aliases) + (f" (+{more} more)" if more > 0 else "")
            console.print(f"{section['code']}  {section['name']}", markup=False)
            console.print(f"   aliases: {shown}", markup=False)
            if section["analyst_aliases"]:
                console.print(f"   analysts' aliases: {', '.join(section['analyst_aliases'])}", markup=False)
        console.print(f"analysts' aliases: {path}" + ("" if path.exists() else " (none yet)"), markup=False)
