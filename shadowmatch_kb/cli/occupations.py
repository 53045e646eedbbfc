"""``smkb occupations``: public research on occupations (import the datasets, match a person's words)."""

from __future__ import annotations

from typing import Annotated

import typer

from shadowmatch_kb.cli.items import JsonOption, KbOption
from shadowmatch_kb.cli.output import RichProgress, open_kb, print_json, reporting_errors, stderr, stdout

app = typer.Typer(
    name="occupations",
    help=(
        "Public research on occupations: ESCO's labels for ISCO-08 groups and what exposure studies say of them.\n\n"
        "Import the datasets as published (ESCO v1, the ILO generative-AI exposure index 2025, Nesta's automation "
        "risk and O*NET-ESCO crosswalk, GPTs are GPTs, Microsoft's AI applicability scores, O*NET), then match "
        "a question to the occupations it is about."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.command("import")
def import_command(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Dataset folders, as published (one per dataset).")],
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Import occupation datasets; each is recognised by its files, and a re-import replaces it.

    Every figure keeps its dataset's name, year, licence and attribution line. A folder that cannot be
    read fails alone with its reason (exit 1) and the others are still imported.
    """
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        results = kb.import_occupations(paths, progress=RichProgress(enabled=not as_json))
        if as_json:
            print_json({"datasets": [r.to_dict() for r in results]})
        else:
            for result in results:
                if result.status == "failed":
                    stdout().print(f"failed    {result.path}: {result.error}", markup=False)
                else:
                    counts = ", ".join(f"{n} {what}" for what, n in result.counts.items() if n)
                    stdout().print(f"imported  {result.dataset}: {counts}", markup=False)
        if any(r.status == "failed" for r in results):
            raise typer.Exit(1)


@app.command("match")
def match_command(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help='A job in your own words, e.g. "I answer phones in a call centre".')],
    k: Annotated[int, typer.Option("-k", min=1, max=20, help="How many ISCO-08 unit groups to show.")] = 5,
    as_json: JsonOption = False,
    kb_dir: KbOption = None,
) -> None:
    """Match a job described in plain words to ISCO-08 unit groups, with the imported exposure figures.

    Matching reads ESCO's preferred and alternative labels by their words and by their meaning (the
    bundled embedding model). Datasets not imported are listed, not an error.
    """
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        found = kb.match_occupations(text, k)
        if as_json:
            print_json(found)
            return
        if not found["occupations"]:
            stderr().print("no occupations imported yet: run `smkb occupations import` on the ESCO folder first")
        for occupation in found["occupations"]:
            stdout().print(
                f"{occupation['isco']}  {occupation['label']}  (score {occupation['score']:.2f};"
                f" matched \u201c{occupation['matched_label']}\u201d)",
                markup=False,
            )
            for figure in occupation["exposure"]:
                value = figure["value"]
                shown = f"{value:.3g}" if isinstance(value, float) else value
                stdout().print(f"      {figure['dataset']}: {figure['measure']} = {shown}", markup=False)
        if found["missing_datasets"]:
            stdout().print(f"not imported: {', '.join(found['missing_datasets'])}", markup=False)


@app.command("list")
def list_command(ctx: typer.Context, as_json: JsonOption = False, kb_dir: KbOption = None) -> None:
    """The imported occupation datasets: each one's year, licence and what it brought (figures, descriptions,
    tasks, crosswalk rows), and how many occupation labels the knowledge base holds (from ESCO)."""
    kb = open_kb(ctx, kb_dir)
    with reporting_errors(ctx, kb):
        overview = kb.occupation_datasets()
        if as_json:
            print_json(overview)
            return
        if not overview["datasets"]:
            stderr().print("no occupation datasets imported yet: `smkb occupations import FOLDER...` adds them")
        for dataset in overview["datasets"]:
            counts = ", ".join(f"{n} {what}" for what, n in dataset["counts"].items() if n) or "nothing"
            stdout().print(
                f"{dataset['key']:20} {dataset['year']}  {dataset['licence']}  {dataset['name']}: {counts}",
                markup=False,
            )
        if overview["labels"]:
            stdout().print(f"{overview['labels']} occupation labels", markup=False)
