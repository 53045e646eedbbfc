"""`smkb ingest` enriches what it imports; `smkb enrich` recomputes; imported posts and analysts keep theirs."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from conftest import DEMO, require_shared, smkb

from shadowmatch_kb.text.sentences import split_sentences

# A real article on AI and work from the Zyte benchmark would be ideal; these are real news pages.
ARTICLES = ("2f42ef1d", "bc13ff87", "291a8bf3")  # banking, WeWork layoffs, Apple in the enterprise


@pytest.fixture(scope="module")
def enriched_kb(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    folder = require_shared("extraction", "zyte", "html")
    work = tmp_path_factory.mktemp("enrich")
    pages = work / "pages"
    pages.mkdir()
    for prefix in ARTICLES:
        (source,) = folder.glob(f"{prefix}*.html.gz")
        (pages / f"{prefix}.html").write_bytes(gzip.decompress(source.read_bytes()))
    shutil.copy(next(iter(sorted(DEMO.glob("*.md")))), pages / next(iter(sorted(DEMO.glob("*.md")))).name)
    kb = work / "kb"
    result = smkb("ingest", str(pages), "--json", kb=kb)
    assert result.exit_code == 0, result.stderr
    ids = {Path(entry["input"]).stem: entry["id"] for entry in json.loads(result.stdout)["items"]}
    return kb, ids


def _show(kb: Path, item_id: str) -> dict:
    result = smkb("show", item_id, "--format", "json", kb=kb)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_an_imported_article_becomes_a_complete_signals_post(enriched_kb) -> None:
    kb, ids = enriched_kb
    for prefix in ARTICLES:
        item = _show(kb, ids[prefix])
        # The summary is 3 to 5 of the article's own sentences, verbatim.
        parts = split_sentences(item["summary"])
        assert 3 <= len(parts) <= 5, item["summary"]
        assert all(part.text in item["text"] for part in parts), item["summary"]
        assert 5 <= len(item["keywords"]) <= 12
        assert len(item["themes"]) == 3
        for row in item["signals"]:
            assert row["evidence"] and row["evidence"] in item["text"]
            assert len(row["signal"].split()) <= 7
        record = item["enrichment"]
        assert record["backend"] == "offline" and record["language"] == "en"
        assert list(record["sector_confidence"]) == item["sectors"]
        assert all(0 < value <= 1 for value in record["sector_confidence"].values())
        markdown = smkb("show", ids[prefix], "--format", "md", kb=kb).stdout
        for heading in ("## Summary", "## Keywords", "## Themes", "## Signals", "## Closest"):
            assert heading in markdown
        if item["signals"]:
            assert "## Evidence" in markdown


def test_an_imported_post_keeps_its_own_fields(enriched_kb) -> None:
    kb, ids = enriched_kb
    post_id = next(value for key, value in ids.items() if key not in ARTICLES)
    post = _show(kb, post_id)
    source = next(iter(sorted(DEMO.glob("*.md")))).read_text()
    for keyword in post["keywords"]:
        assert keyword in source
    assert post["themes"] and all(theme in source for theme in post["themes"])


def test_enrich_recomputes_and_never_overwrites_analysts(enriched_kb) -> None:
    kb, ids = enriched_kb
    item_id = ids[ARTICLES[0]]
    assert smkb("tag", item_id, "--add", "shadow-day", "--theme", "banking apps", kb=kb).exit_code == 0
    result = smkb("enrich", item_id, "--json", kb=kb)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"items": [{"id": item_id, "status": "enriched", "error": None}]}
    item = _show(kb, item_id)
    assert item["themes"] == ["banking apps"] and "shadow-day" in item["tags"]
    # Nothing new to enrich: the command says so and exits 0.
    nothing = smkb("enrich", "--json", kb=kb)
    assert nothing.exit_code == 0 and json.loads(nothing.stdout) == {"items": []}


def test_enrich_errors_are_one_line(enriched_kb) -> None:
    kb, _ = enriched_kb
    missing = smkb("enrich", "0" * 32, kb=kb)
    assert missing.exit_code == 1 and missing.stderr.strip() == f"error: no item with id {'0' * 32}"
    both = smkb("enrich", "0" * 32, "--all", kb=kb)
    assert both.exit_code == 2
