"""The command line, as the README tours it: every command through CliRunner with --json checked."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import DEMO, copy_kb, smkb

from shadowmatch_kb.cli.app import app
from shadowmatch_kb.formats.signals_post import parse_signals_post

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
HEX = re.compile(r"^[0-9a-f]{32}$")


def as_json(result) -> dict:
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def kb_copy(demo_kb, tmp_path) -> Path:
    """A private copy of the demo KB that a test may change."""
    target = tmp_path / "kb"
    copy_kb(demo_kb, target)
    return target


def demo_ids() -> list[str]:
    return sorted(p.stem for p in DEMO.glob("*.md") if HEX.match(p.stem))


def test_every_command_has_help_and_is_in_the_readme():
    readme = (REPO / "README.md").read_text()
    commands = [c.name for c in app.registered_commands]
    assert {
        "ingest",
        "list",
        "show",
        "tag",
        "related",
        "search",
        "export",
        "reindex",
        "stats",
        "doctor",
    } <= set(commands)
    for name in commands:
        result = smkb(name, "--help")
        assert result.exit_code == 0
        assert "Usage:" in result.stdout and len(result.stdout) > 200
        assert f"smkb {name}" in readme, f"README does not tour `smkb {name}`"


def test_ingest_reports_each_input(demo_kb):
    result = smkb("ingest", str(DEMO), "--json", kb=demo_kb)
    items = as_json(result)["items"]
    assert result.exit_code == 0
    assert len(items) == len(demo_ids()) >= 30
    for entry in items:
        assert set(entry) == {"input", "id", "status", "error"}
        assert entry["status"] == "unchanged" and entry["error"] is None
        assert entry["id"] == Path(entry["input"]).stem  # hex-named posts keep their id


def test_reimport_changed_file_updates_and_keeps_analyst_work(kb_copy, tmp_path):
    post = tmp_path / "0123456789abcdef0123456789abcdef.md"
    post.write_text(next(DEMO.glob("*.md")).read_text().replace("## Summary\n", "## Summary\nFirst version. "))
    first = as_json(smkb("ingest", str(post), "--json", "--tag", "pilot", kb=kb_copy))["items"][0]
    assert first["status"] == "added" and first["id"] == post.stem
    assert smkb("tag", post.stem, "--add", "reviewed", "--sector", "banking", kb=kb_copy).exit_code == 0
    post.write_text(post.read_text().replace("First version.", "Second version."))
    second = as_json(smkb("ingest", str(post), "--json", kb=kb_copy))["items"][0]
    assert second["status"] == "updated"
    shown = as_json(smkb("show", post.stem, "--format", "json", kb=kb_copy))
    assert "Second version." in shown["summary"]
    assert shown["tags"] == ["pilot", "reviewed"]
    assert shown["sectors"] == ["banking and insurance"]  # the analyst's "banking", as its section's name


def test_list_shape_and_filters(demo_kb):
    items = as_json(smkb("list", "--json", kb=demo_kb))["items"]
    assert len(items) == len(demo_ids())
    for entry in items:
        assert set(entry) == {"id", "title", "url", "published", "themes", "sectors", "tags"}
        assert entry["url"].startswith("http")
    dates = [i["published"] for i in items]
    assert dates == sorted(dates, reverse=True)
    banking = as_json(smkb("list", "--sector", "banking", "--json", kb=demo_kb))["items"]
    assert 2 <= len(banking) < len(items)
    assert all("banking and insurance" in i["sectors"] for i in banking)
    since = as_json(smkb("list", "--since", "2025-01-01", "--json", kb=demo_kb))["items"]
    assert since and all(i["published"] >= "2025-01-01" for i in since)
    theme = items[0]["themes"][0]
    themed = as_json(smkb("list", "--theme", theme, "--json", kb=demo_kb))["items"]
    assert themed and all(theme in i["themes"] for i in themed)


def test_show_json_shape(demo_kb):
    item_id = demo_ids()[0]
    data = as_json(smkb("show", item_id, "--format", "json", kb=demo_kb))
    for key in (
        "id",
        "title",
        "url",
        "published",
        "source",
        "text",
        "summary",
        "keywords",
        "themes",
        "sectors",
        "tags",
        "signals",
        "reference_closest",
        "closest",
        "duplicate_of",
    ):
        assert key in data
    assert data["id"] == item_id
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["published"])
    assert data["signals"] and set(data["signals"][0]) == {
        "signal",
        "change",
        "horizon",
        "driving_force",
        "evidence",
    }
    assert len(data["closest"]) == 5
    assert all(c["id"] != item_id and HEX.match(c["id"]) and 0 < c["score"] <= 1 for c in data["closest"])
    scores = [c["score"] for c in data["closest"]]
    assert scores == sorted(scores, reverse=True)


def test_show_md_is_the_signals_format_with_computed_closest(demo_kb):
    item_id = demo_ids()[1]
    result = smkb("show", item_id, kb=demo_kb)
    assert result.exit_code == 0
    post = parse_signals_post(result.stdout)
    source = parse_signals_post((DEMO / f"{item_id}.md").read_text())
    assert post.title == source.title and post.summary == source.summary
    assert [s.signal for s in post.signals] == [s.signal for s in source.signals]
    related = [r["id"] for r in as_json(smkb("related", item_id, "-k", "5", "--json", kb=demo_kb))["results"]]
    assert post.reference_closest == related


def test_related_finds_same_sector_items(demo_kb):
    items = as_json(smkb("list", "--sector", "healthcare", "--json", kb=demo_kb))["items"]
    target = items[0]["id"]
    results = as_json(smkb("related", target, "-k", "3", "--json", kb=demo_kb))["results"]
    assert len(results) == 3
    for r in results:
        assert set(r) >= {"id", "title", "url", "published", "score"}
    healthcare = {i["id"] for i in items}
    assert results[0]["id"] in healthcare  # the nearest item shares the sector


def test_search_hybrid_with_filters(demo_kb):
    results = as_json(smkb("search", "nurses documentation at the hospital bedside", "--json", kb=demo_kb))["results"]
    assert results and len(results) <= 10
    health = {i["id"] for i in as_json(smkb("list", "--sector", "healthcare", "--json", kb=demo_kb))["items"]}
    assert results[0]["id"] in health
    assert all(r["snippet"] for r in results)
    filtered = as_json(smkb("search", "robots", "--sector", "logistics", "-k", "3", "--json", kb=demo_kb))["results"]
    logistics = {i["id"] for i in as_json(smkb("list", "--sector", "logistics", "--json", kb=demo_kb))["items"]}
    assert filtered and {r["id"] for r in filtered} <= logistics
    assert as_json(smkb("search", "robots", "--since", "2100-01-01", "--json", kb=demo_kb)) == {"results": []}


def test_search_by_meaning_without_shared_words(demo_kb):
    # No word of the query appears in the healthcare posts' titles, yet meaning should find them.
    results = as_json(smkb("search", "medical staff paperwork burden", "-k", "3", "--json", kb=demo_kb))["results"]
    health = {i["id"] for i in as_json(smkb("list", "--sector", "healthcare", "--json", kb=demo_kb))["items"]}
    assert any(r["id"] in health for r in results)


def test_tag_add_remove_and_filter(kb_copy):
    item_id = demo_ids()[2]
    data = as_json(smkb("tag", item_id, "--add", "shadow-day", "--add", "check", "--json", kb=kb_copy))
    assert data["tags"] == ["check", "shadow-day"]
    data = as_json(smkb("tag", item_id, "--remove", "check", "--theme", "new theme", "--json", kb=kb_copy))
    assert data["tags"] == ["shadow-day"] and data["themes"] == ["new theme"]
    tagged = as_json(smkb("list", "--tag", "shadow-day", "--json", kb=kb_copy))["items"]
    assert [i["id"] for i in tagged] == [item_id]
    assert smkb("tag", item_id, kb=kb_copy).exit_code == 2


def test_export_jsonl_is_lossless_and_csv_md_readable(kb_copy, tmp_path):
    item_id = demo_ids()[0]
    smkb("tag", item_id, "--add", "kept", "--sector", "banking", kb=kb_copy)
    out = tmp_path / "all.jsonl"
    assert smkb("export", "--format", "jsonl", "-o", str(out), kb=kb_copy).exit_code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == len(demo_ids())
    record = next(r for r in records if r["id"] == item_id)
    shown = as_json(smkb("show", item_id, "--format", "json", "-k", "0", kb=kb_copy))
    for key, value in shown.items():
        if key not in ("closest", "enrichment", "duplicates"):  # computed on the fly (copies: from the others)
            assert record[key] == value, key
    assert record["analyst_edits"][0]["value"] == ["banking and insurance"]
    import base64

    assert base64.b64decode(record["raw"]["base64"]) == (DEMO / f"{item_id}.md").read_bytes()
    csv_out = tmp_path / "all.csv"
    assert smkb("export", "--format", "csv", "-o", str(csv_out), kb=kb_copy).exit_code == 0
    import csv

    rows = list(csv.DictReader(csv_out.open()))
    assert len(rows) == len(demo_ids()) and rows[0]["id"]
    md_dir = tmp_path / "md"
    assert smkb("export", "--format", "md", "-o", str(md_dir), kb=kb_copy).exit_code == 0
    assert len(list(md_dir.glob("*.md"))) == len(demo_ids())


def test_deleting_indexes_then_reindex_rebuilds(kb_copy):
    item_id = demo_ids()[3]
    before = as_json(smkb("related", item_id, "--json", kb=kb_copy))
    shutil.rmtree(kb_copy / "indexes")
    result = smkb("search", "bank", "--json", kb=kb_copy)
    assert result.exit_code == 0 and as_json(result)["results"]
    assert "keyword results only" in result.stderr
    assert smkb("related", item_id, kb=kb_copy).exit_code == 1
    report = as_json(smkb("reindex", "--json", kb=kb_copy))
    assert report["items"] == len(demo_ids()) and report["model"] == "all-MiniLM-L6-v2"
    assert as_json(smkb("related", item_id, "--json", kb=kb_copy)) == before
    assert (kb_copy / "indexes" / "index.json").exists()


def test_stats_and_doctor(demo_kb):
    stats = as_json(smkb("stats", "--json", kb=demo_kb))
    assert stats["items"] == len(demo_ids())
    assert stats["index"]["items"] == len(demo_ids()) and stats["index"]["pending"] == 0
    assert stats["index"]["model"] == "all-MiniLM-L6-v2"
    assert len(stats["sectors"]) >= 12
    doctor = smkb("doctor", "--json", kb=demo_kb)
    assert doctor.exit_code == 0
    assert as_json(doctor) == {"ok": True, "problems": [], "notes": []}


def test_doctor_reports_damage(kb_copy):
    import sqlite3

    db = sqlite3.connect(kb_copy / "corpus" / "kb.sqlite")
    db.execute("DELETE FROM items_fts WHERE rowid IN (SELECT rowid FROM items_fts LIMIT 2)")
    db.commit()
    db.close()
    result = smkb("doctor", "--json", kb=kb_copy)
    assert result.exit_code == 1
    assert any("full-text" in p for p in as_json(result)["problems"])
    smkb("reindex", kb=kb_copy)
    assert smkb("doctor", kb=kb_copy).exit_code == 0


def test_model_mismatch_is_a_clear_error(demo_kb):
    result = smkb("--model", "paraphrase-MiniLM-L3-v2", "search", "bank", kb=demo_kb)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "reindex" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_inputs_fail_alone(kb_copy, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.md").write_text("")
    (bad / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    (bad / "huge.txt").write_bytes(b"word " * 4_100_000)
    (bad / "latin1.txt").write_bytes("Caf\xe9 workers and robots\nLes employ\xe9s du caf\xe9.".encode("latin-1"))
    (bad / "table.md").write_text(
        "# __Broken table__, from ([20240101](https://x.example/p)).\n\n## Summary\nA post whose table is ragged.\n\n"
        "## Signals\n| Signal | Change |\n|:--|\n| only one cell\n| a | b | c | d | e | f |\n"
    )
    (bad / "good.txt").write_text("A good note\nWarehouse pickers now work beside robots.")
    missing = str(tmp_path / "nope.md")
    result = smkb("ingest", str(bad), missing, "--json", kb=kb_copy)
    assert result.exit_code == 1
    by_name = {Path(e["input"]).name: e for e in as_json(result)["items"]}
    assert by_name["empty.md"]["status"] == "failed" and by_name["empty.md"]["error"] == "empty file"
    assert "binary" in by_name["binary.txt"]["error"]
    assert "larger than" in by_name["huge.txt"]["error"]
    assert "no such file" in by_name["nope.md"]["error"]
    assert by_name["latin1.txt"]["status"] == "added"
    assert by_name["table.md"]["status"] == "added"
    assert by_name["good.txt"]["status"] == "added"
    for entry in by_name.values():
        if entry["error"]:
            assert "\n" not in entry["error"]
    shown = as_json(smkb("show", by_name["latin1.txt"]["id"], "--format", "json", kb=kb_copy))
    assert "Café" in shown["title"]
    table = as_json(smkb("show", by_name["table.md"]["id"], "--format", "json", kb=kb_copy))
    assert table["signals"][0]["signal"] == "only one cell"


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["show", "0" * 32], 1, "no item with id"),
        (["related", "not-an-id"], 1, "no item with id"),
        (["tag", "0" * 32, "--add", "x"], 1, "no item with id"),
        (["list", "--since", "yesterday"], 2, "not a date"),
        (["show", "x", "--format", "pdf"], 2, "use md or json"),
    ],
)
def test_bad_ids_and_usage(demo_kb, args, code, needle):
    result = smkb(*args, kb=demo_kb)
    assert result.exit_code == code
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_reading_a_missing_kb_is_a_clear_error(tmp_path):
    result = smkb("list", kb=tmp_path / "nothing-here")
    assert result.exit_code == 1
    assert "no knowledge base" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "nothing-here" / "corpus").exists()


def test_every_real_post_imports_and_renders_back(tmp_path):
    from conftest import require_shared

    posts = require_shared("signals_posts")
    kb = tmp_path / "kb"
    result = smkb("ingest", str(posts), "--json", kb=kb)
    entries = as_json(result)["items"]
    assert result.exit_code == 0 and len(entries) == len(list(posts.rglob("*.md")))
    last_input = {e["id"]: e["input"] for e in entries if e["error"] is None}  # a kept-out variant says why
    for entry in entries[:: max(1, len(entries) // 25)]:
        entry = {"id": entry["id"], "input": last_input[entry["id"]]}
        shown = smkb("show", entry["id"], kb=kb)
        assert shown.exit_code == 0
        again = parse_signals_post(shown.stdout)
        original = parse_signals_post(Path(entry["input"]).read_text(), item_id=entry["id"])
        assert again.title == original.title
        assert [s.signal for s in again.signals] == [s.signal for s in original.signals]
        assert entry["id"] not in again.reference_closest
        if original.published:
            assert (again.published, again.post_url, again.url) == (original.published, original.post_url, original.url)


def test_reindex_with_another_model_by_path(kb_copy, tmp_path):
    from shadowmatch_kb.embed.base import DEFAULT_MODEL, resolve_model_path

    other = tmp_path / "my-model"
    shutil.copytree(resolve_model_path(DEFAULT_MODEL), other)
    report = as_json(smkb("reindex", "--model", str(other), "--json", kb=kb_copy))
    assert report["model"] == str(other) and report["items"] == len(demo_ids())
    assert json.loads((kb_copy / "indexes" / "index.json").read_text())["model"] == str(other)
    # Later commands use the model that built the index without being told.
    assert as_json(smkb("search", "bank clerks", "--json", kb=kb_copy))["results"]
    stats = as_json(smkb("stats", "--json", kb=kb_copy))
    assert stats["index"]["model"] == str(other) and stats["index"]["pending"] == 0
    mismatch = smkb("--model", DEFAULT_MODEL, "related", demo_ids()[0], kb=kb_copy)
    assert mismatch.exit_code == 1 and "reindex" in mismatch.stderr


def test_readme_set_up_commands_are_what_ci_runs():
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.+?)\n```", readme, flags=re.S)
    main_job, tests = blocks[0], blocks[1]
    assert "\n" not in main_job and "\n" not in tests  # one command each
    assert "smkb ingest corpus/demo" in main_job and "pip install -e ." in main_job
    assert tests in (REPO / ".ci" / "run").read_text().splitlines()


def test_show_completion_prints_a_bash_script_for_smkb(monkeypatch):
    # typer's switch for naming the shell on the command line rather than detecting the one running.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    result = smkb("--show-completion", "bash")
    assert result.exit_code == 0, result.stderr
    assert "_SMKB_COMPLETE=complete_bash" in result.stdout and "complete -o default -F _smkb_completion smkb" in (
        result.stdout
    )
    listed = smkb("--help").stdout
    assert "--install-completion" in listed and "--show-completion" in listed
