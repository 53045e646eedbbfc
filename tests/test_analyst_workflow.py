"""An analyst's day through the CLI: ids by prefix, whole ids, tags/sectors/themes added and removed, the history
of edits and undo (on the file store and on Postgres), one item per page however it is imported, the occupation
datasets listed, --json where --format json is, and search results without raw fused scores."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import smkb

pytestmark = pytest.mark.slow

FIRST = "abcd" + "1" * 28
SECOND = "abcd" + "2" * 28
THIRD = "ef01" + "3" * 28

POST = """# __{title}__, from ([20240{month}01](https://signals.example/p/20240{month}01).)

__[External link](https://news.example/{slug})__

## Summary
{summary}

## Keywords
* nurses
* documentation
* AI scribes

## Themes
* AI in healthcare

## Signals
| Signal | Change | 10y horizon | Driving force |
|:--|:--|:--|:--|
| AI scribes write ward notes | from typing notes to checking drafts | notes written by software | staff shortages |

## Closest
"""

SUMMARIES = {
    FIRST: (
        "Nurses test AI scribes",
        "Hospital nurses try software that drafts ward notes while they care for patients.",
    ),
    SECOND: ("Banks close branches", "Banks close high-street branches as customers move to apps and chat assistants."),
    THIRD: ("Robots pick parcels", "Warehouses bring in picking robots; workers move to supervising the machines."),
}


def run(kb: str | Path, *args: str, code: int = 0) -> dict:
    """One command asked for JSON; the document it printed."""
    result = smkb(*args, kb=kb)  # type: ignore[arg-type]
    assert result.exit_code == code, result.stderr or result.stdout
    return json.loads(result.stdout) if code == 0 else {"stderr": result.stderr}


def write_posts(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for month, (item_id, (title, summary)) in enumerate(SUMMARIES.items(), start=1):
        text = POST.format(title=title, month=month, slug=item_id[:8], summary=summary)
        (folder / f"{item_id}.md").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def posts(tmp_path_factory) -> Path:
    return write_posts(tmp_path_factory.mktemp("posts"))


@pytest.fixture
def kb(posts, tmp_path) -> Path:
    kb = tmp_path / "kb"
    assert smkb("ingest", str(posts), "--json", kb=kb).exit_code == 0
    return kb


def test_unique_prefixes_are_taken_wherever_an_id_is(kb):
    assert run(kb, "show", "ef01", "--json")["id"] == THIRD
    assert run(kb, "show", "EF01 ", "--format", "json")["id"] == THIRD
    assert run(kb, "related", "ef013", "--json")["results"][0]["id"] in (FIRST, SECOND)
    assert run(kb, "tag", "ef01", "--add", "check", "--json")["id"] == THIRD
    assert run(kb, "history", "ef01", "--json")["id"] == THIRD
    ambiguous = smkb("show", "abcd", kb=kb)
    assert ambiguous.exit_code == 2 and "matches 2 items" in ambiguous.stderr and "more characters" in ambiguous.stderr
    assert "abcd" in ambiguous.stderr.split("(")[1]  # the matching ids are named, with their titles
    assert smkb("show", "abcd1", "--json", kb=kb).exit_code == 0
    too_short = smkb("tag", "ef0", "--add", "x", kb=kb)
    assert too_short.exit_code == 2 and "at least 4 hex digits" in too_short.stderr
    missing = smkb("show", "9999", kb=kb)
    assert missing.exit_code == 1 and "no item with id starting 9999" in missing.stderr


def test_web_item_pages_take_a_prefix(kb):
    from shadowmatch_kb.kb import KnowledgeBase

    with KnowledgeBase.open(kb) as opened:
        assert opened.get("ef01").id == THIRD
        assert opened.item_document("abcd2", k=0)["id"] == SECOND


def test_full_ids_are_always_available(kb):
    result = smkb("list", "--ids", kb=kb)
    assert result.exit_code == 0
    assert sorted(result.stdout.split()) == sorted(SUMMARIES)
    table = smkb("list", kb=kb)  # CliRunner is no terminal: rich lays the table out at 80 columns
    for item_id in SUMMARIES:
        assert item_id in table.stdout


def test_tag_adds_and_removes_sectors_and_themes(kb):
    before = run(kb, "show", FIRST, "--json")
    data = run(kb, "tag", FIRST, "--add-sector", "banking", "--add-theme", "care work", "--add", "review", "--json")
    assert data["sectors"] == [*before["sectors"], "banking and insurance"]
    assert data["themes"] == [*before["themes"], "care work"]
    assert data["tags"] == ["review"]
    data = run(kb, "tag", FIRST, "--remove-sector", "K", "--remove-theme", "care work", "--json")
    assert data["sectors"] == before["sectors"] and data["themes"] == before["themes"]
    untouched = smkb("tag", FIRST, "--remove-theme", "cooking", "--json", kb=kb)
    assert untouched.exit_code == 0 and "nothing changed" in untouched.stderr
    data = run(kb, "tag", FIRST, "--sector", "education", "--json")
    assert data["sectors"] == ["education"]
    unknown = smkb("tag", FIRST, "--add-sector", "underwater basket weaving", kb=kb)
    assert unknown.exit_code == 2 and "education" in unknown.stderr
    assert run(kb, "show", FIRST, "--json")["sectors"] == ["education"]  # nothing written
    help_text = smkb("tag", "--help").stdout
    assert "--add-sector" in help_text and "Replace the item's whole list of sectors" in help_text


def check_history_and_undo(kb: str | Path) -> None:
    """Edits, the history they leave and undo, as the analyst sees them (any store)."""
    before = run(kb, "show", SECOND, "--json")
    run(kb, "tag", SECOND, "--add", "branch", "--add", "check", "--json")
    run(kb, "tag", SECOND, "--remove", "check", "--add-sector", "retail", "--json")
    run(kb, "tag", SECOND, "--theme", "bank closures", "--json")
    history = run(kb, "history", SECOND, "--json")
    assert history["id"] == SECOND and history["title"] == "Banks close branches"
    rows = [(h["change"], h["field"], h["action"], h["value"], h["previous"]) for h in history["history"]]
    sectors = before["sectors"]
    assert rows == [
        (1, "tags", "add", ["branch", "check"], []),
        (2, "tags", "remove", ["check"], ["branch", "check"]),
        (2, "sectors", "add", ["retail and wholesale trade"], sectors),
        (3, "themes", "set", ["bank closures"], before["themes"]),
    ]
    assert all(h["edited_at"].endswith("Z") and not h["undone"] for h in history["history"])

    undone = run(kb, "tag", SECOND, "--undo", "--json")
    assert undone["themes"] == before["themes"] and undone["sectors"] == [*sectors, "retail and wholesale trade"]
    assert [(u["field"], u["action"], u["undoes"], u["value"]) for u in undone["undone"]] == [
        ("themes", "undo", 3, before["themes"])
    ]
    undone = run(kb, "tag", SECOND, "--undo", "--json")
    assert undone["sectors"] == sectors and undone["tags"] == ["branch", "check"]
    undone = run(kb, "tag", SECOND, "--undo", "--json")
    assert undone["tags"] == []
    nothing = smkb("tag", SECOND, "--undo", kb=kb)  # type: ignore[arg-type]
    assert nothing.exit_code == 2 and nothing.stderr.startswith("error: nothing to undo") and nothing.stdout == ""
    history = run(kb, "history", SECOND, "--json")["history"]
    assert [h["action"] for h in history][-3:] == ["undo"] * 3
    assert all(h["undone"] for h in history if h["action"] != "undo")
    assert run(kb, "show", SECOND, "--json")["sectors"] == sectors


def test_history_and_undo_on_the_file_store(kb):
    check_history_and_undo(kb)
    text = smkb("history", "abcd2", kb=kb)
    assert text.exit_code == 0 and "(undone)" in text.stdout and "change 3 undone" in text.stdout
    both = smkb("tag", SECOND, "--undo", "--add", "x", kb=kb)
    assert both.exit_code == 2


def test_history_and_undo_on_postgres(postgres_url, posts, kb, tmp_path, monkeypatch):
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    monkeypatch.setenv("SMKB_WORKDIR", str(workdir))
    run(postgres_url, "ingest", str(posts), "--json")
    check_history_and_undo(postgres_url)
    assert run(postgres_url, "show", "ef01", "--json")["id"] == THIRD


def test_a_v1_postgres_database_upgrades_and_shows_earlier_edits(postgres_url, posts, tmp_path, monkeypatch):
    import psycopg

    monkeypatch.setenv("SMKB_WORKDIR", str(tmp_path / "workdir"))
    run(postgres_url, "ingest", str(posts), "--json")
    run(postgres_url, "tag", THIRD, "--sector", "transport", "--add", "old", "--json")
    with psycopg.connect(postgres_url, autocommit=True) as db:  # as a version 1 database had it
        db.execute("DROP TABLE edit_history")
        db.execute("DROP TABLE earlier_inputs")
        db.execute("UPDATE kb_meta SET value = '1' WHERE key = 'schema_version'")
    history = run(postgres_url, "history", THIRD, "--json")["history"]
    assert {(h["field"], h["action"], tuple(h["value"])) for h in history} == {
        ("sectors", "set", ("transport and logistics",)),
        ("tags", "add", ("old",)),
    }
    assert run(postgres_url, "tag", THIRD, "--undo", "--json")["tags"] == ["old"]  # the sectors, set last, undone
    last = run(postgres_url, "history", THIRD, "--json")["history"][-1]
    assert (last["field"], last["action"], last["undoes"]) == ("sectors", "undo", 2)
    assert run(postgres_url, "doctor", "--json")["problems"] == []


def test_a_file_kb_made_before_the_history_gets_it_from_its_edits(kb):
    run(kb, "tag", THIRD, "--sector", "transport", "--add", "old", "--json")
    db = sqlite3.connect(kb / "corpus" / "kb.sqlite")
    db.execute("DROP TABLE edit_history")
    db.execute("DROP TABLE earlier_inputs")
    db.execute("DELETE FROM schema_migrations WHERE version = 8")
    db.commit()
    db.close()
    history = run(kb, "history", THIRD, "--json")["history"]  # opening the store ran m008, which filled it
    rows = [(h["change"], h["field"], h["action"], h["value"]) for h in history]
    assert rows == [(1, "tags", "add", ["old"]), (2, "sectors", "set", ["transport and logistics"])]
    assert run(kb, "tag", THIRD, "--undo", "--json")["tags"] == ["old"]
    last = run(kb, "history", THIRD, "--json")["history"][-1]
    assert (last["field"], last["action"], last["undoes"]) == ("sectors", "undo", 2)


def test_export_and_restore_keep_working_with_history(kb, tmp_path):
    run(kb, "tag", FIRST, "--add-theme", "care work", "--add", "review", "--json")
    export = tmp_path / "all.jsonl"
    assert smkb("export", "--format", "jsonl", "-o", str(export), kb=kb).exit_code == 0
    other = tmp_path / "restored"
    restored = run(other, "ingest", str(export), "--json")
    assert {r["status"] for r in restored["items"]} == {"added"}
    assert run(other, "show", FIRST, "--json")["themes"] == run(kb, "show", FIRST, "--json")["themes"]
    history = run(other, "history", FIRST, "--json")["history"]
    assert ("themes", "add") in {(h["field"], h["action"]) for h in history}
    assert run(other, "tag", FIRST, "--undo", "--json")["themes"] == ["AI in healthcare"]


def test_export_restore_and_migrate_carry_the_history_exactly(kb, tmp_path):
    run(kb, "tag", FIRST, "--add", "keep", "--add", "drop", "--json")
    run(kb, "tag", FIRST, "--remove", "drop", "--add-sector", "education", "--json")
    run(kb, "tag", FIRST, "--undo", "--json")  # an undo, and a tag removal, are history a rebuild cannot tell
    history = run(kb, "history", FIRST, "--json")["history"]
    assert {"undo", "remove"} <= {h["action"] for h in history}
    export = tmp_path / "all.jsonl"
    assert smkb("export", "--format", "jsonl", "-o", str(export), kb=kb).exit_code == 0
    restored = tmp_path / "restored"
    run(restored, "ingest", str(export), "--json")
    assert run(restored, "history", FIRST, "--json")["history"] == history
    again = run(restored, "ingest", str(export), "--json")
    assert {r["status"] for r in again["items"]} == {"unchanged"}  # the history is not written twice
    moved = tmp_path / "moved"
    assert smkb("migrate", "--to", str(moved), "--json", kb=kb).exit_code == 0
    assert run(moved, "history", FIRST, "--json")["history"] == history


ARTICLE = """<!doctype html><html><head><title>Port cranes learn to drive themselves</title>
<link rel="canonical" href="{canonical}"></head><body><article><h1>Port cranes learn to drive themselves</h1>
{body}</article></body></html>"""

PARAGRAPH = (
    "<p>At the container port the crane drivers now sit in an office above the quay and watch screens, while "
    "software moves the boxes. The union says the work changed more in two years than in the twenty before, "
    "and asks for training in remote operation for every driver who wants it. {extra}</p>"
)


@pytest.fixture
def article_site() -> Iterator[str]:
    """A real HTTP server on loopback serving one article page (with a trailing slash)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            body = ARTICLE.format(canonical=f"{base}/news/cranes/", body=PARAGRAPH.format(extra="Updated.") * 4)
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_same_page_imported_twice_is_one_item(kb, article_site, tmp_path):
    saved = tmp_path / "cranes.html"
    page = ARTICLE.format(canonical=f"{article_site}/news/cranes", body=PARAGRAPH.format(extra="") * 4)
    saved.write_text(page, encoding="utf-8")
    first = run(kb, "ingest", str(saved), "--json")["items"][0]
    assert first["status"] == "added"
    url = f"{article_site}/news/cranes/?utm_source=newsletter"
    second = run(kb, "ingest", url, "--allow-private", "--json")["items"][0]
    assert (second["status"], second["id"]) == ("updated", first["id"])
    again = run(kb, "ingest", str(saved), url, "--allow-private", "--json")["items"]
    assert [(r["status"], r["id"]) for r in again] == [("unchanged", first["id"])] * 2
    listed = [i for i in run(kb, "list", "--json")["items"] if "cranes" in i["title"].lower()]
    assert [i["id"] for i in listed] == [first["id"]]
    shown = run(kb, "show", first["id"], "--json")
    assert "Updated." in shown["text"]
    db = sqlite3.connect(kb / "corpus" / "kb.sqlite")
    kept = db.execute("SELECT input FROM earlier_inputs WHERE item_id = ?", (first["id"],)).fetchall()
    assert [Path(row[0]).name for row in kept] == ["cranes.html"]


def test_occupation_datasets_are_listed(kb):
    empty = run(kb, "occupations", "list", "--json")
    assert empty == {"datasets": [], "labels": 0}
    from conftest import require_shared

    folder = require_shared("occupations")
    candidates = sorted(p for p in folder.iterdir() if p.is_dir())
    ilo = [p for p in candidates if "ilo" in p.name.lower()]
    if not ilo:
        pytest.skip(f"no ILO dataset folder in {folder}")
    assert smkb("occupations", "import", str(ilo[0]), "--json", kb=kb).exit_code in (0, 1)
    listed = run(kb, "occupations", "list", "--json")
    for dataset in listed["datasets"]:
        assert set(dataset) == {"key", "name", "year", "licence", "attribution", "imported_at", "counts"}
        assert isinstance(dataset["year"], int) and dataset["licence"]
        assert set(dataset["counts"]) == {"figures", "descriptions", "tasks", "crosswalk"}


def test_json_wherever_format_json_is(kb):
    shown = smkb("show", THIRD, "--json", kb=kb)
    assert shown.exit_code == 0 and json.loads(shown.stdout)["id"] == THIRD
    briefing = smkb("brief", "I pick parcels in a warehouse", "--json", kb=kb)
    assert briefing.exit_code == 0, briefing.stderr
    document = json.loads(briefing.stdout)
    assert document == json.loads(smkb("brief", "I pick parcels in a warehouse", "--format", "json", kb=kb).stdout)
    clash = smkb("brief", "robots", "--json", "--format", "html", kb=kb)
    assert clash.exit_code == 2


def test_search_shows_ranks_not_fused_scores(kb):
    text = smkb("search", "nurses notes", kb=kb)
    assert text.exit_code == 0
    assert " 1. Nurses test AI scribes" in text.stdout
    assert "0.0" not in text.stdout
    results = run(kb, "search", "nurses notes", "--json")["results"]
    assert results[0]["id"] == FIRST and isinstance(results[0]["score"], float)
    related = smkb("related", "abcd1", kb=kb)
    assert related.exit_code == 0 and "0." not in related.stdout
