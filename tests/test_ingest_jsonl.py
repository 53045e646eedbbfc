"""Restoring a lossless export (`smkb ingest kb.jsonl`) on record stores, without the embedding model.

The export is written as `smkb export --format jsonl` writes it (``write_jsonl`` with ``lossless_extras``);
tests/test_roundtrip.py runs both commands end to end on real data.
"""

from __future__ import annotations

import io
import json
import shutil
from functools import partial
from pathlib import Path

import pytest
from conftest import DEMO

from shadowmatch_kb.formats.export import lossless_extras, write_jsonl
from shadowmatch_kb.ingest.duplicates import content_hash_of, store_once
from shadowmatch_kb.ingest.readers import expand_inputs, read_input
from shadowmatch_kb.ingest.restore import restore_export
from shadowmatch_kb.store.enrichment import enrichment_record, save_enrichment
from shadowmatch_kb.store.records import read_record
from shadowmatch_kb.store.sqlite import SqliteStore

DEMO_FILES = sorted(DEMO.glob("*.md"))[:6]


def export(store: SqliteStore) -> str:
    out = io.StringIO()
    write_jsonl((store.get(i) for i in sorted(store.content_hashes())), out, partial(lossless_extras, store))
    return out.getvalue()


def ingest(store: SqliteStore, path: Path) -> str:
    loaded = read_input(str(path))
    return store_once(store, loaded.item, loaded.raw, identical="link").outcome


@pytest.fixture
def posts(tmp_path) -> list[Path]:
    """Some demo posts, copied where a test may edit them."""
    folder = tmp_path / "posts"
    folder.mkdir()
    return [Path(shutil.copy(path, folder)) for path in DEMO_FILES]


@pytest.fixture
def source(tmp_path, posts) -> SqliteStore:
    """A record with posts, a copy, an undated note, tags, analyst edits and an enrichment record."""
    store = SqliteStore(tmp_path / "source" / "kb.sqlite")
    for path in posts:
        ingest(store, path)
    copy = tmp_path / "copy.md"
    copy.write_bytes(posts[0].read_bytes() + b"\n")
    ingest(store, copy)
    note = tmp_path / "note.txt"
    note.write_text("Night shift\nRobots now plan the night shift for the ward.")
    ingest(store, note)
    first, second = (p.stem for p in DEMO_FILES[:2])
    store.add_tags(first, ["shadow-day", "check"], [])
    store.record_edit(first, "sectors", ["banking"])
    store.record_edit(first, "themes", ["branch closures"])
    store.record_edit(first, "sectors", ["banking", "retail"])
    item = store.get(second)
    item.summary, item.keywords = "A summary computed here.", ["computed"]
    save_enrichment(store, item, {"backend": "offline", "version": 1, "sector_confidence": {"banking": 0.4}})
    yield store
    store.close()


@pytest.fixture
def fresh(tmp_path) -> SqliteStore:
    store = SqliteStore(tmp_path / "fresh" / "kb.sqlite")
    yield store
    store.close()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kb.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


def test_export_then_restore_gives_the_same_record_and_the_same_export(source, fresh, tmp_path):
    exported = export(source)
    path = write(tmp_path, exported)
    results = restore_export(fresh, str(path), tags=[])
    assert [r.status for r in results] == ["added"] * source.count()
    assert [r.input for r in results] == [f"{path}:{n}" for n in range(1, source.count() + 1)]
    assert export(fresh) == exported
    for item_id in source.content_hashes():
        assert read_record(fresh, item_id) == read_record(source, item_id)
    first = DEMO_FILES[0].stem
    sectors = ["banking and insurance", "retail and wholesale trade"]  # as the store keeps them: section names
    assert fresh.get(first).sectors == sectors and fresh.get(first).themes == ["branch closures"]
    assert [e["value"] for e in fresh.analyst_edits(first)] == [["banking and insurance"], ["branch closures"], sectors]
    assert enrichment_record(fresh, DEMO_FILES[1].stem)["sector_confidence"] == {"banking and insurance": 0.4}
    copies = [i for i in fresh.content_hashes() if fresh.get(i).duplicate_of]
    assert [fresh.get(i).duplicate_of for i in copies] == [first]


def test_restoring_the_same_export_again_reports_unchanged(source, fresh, tmp_path):
    path = write(tmp_path, export(source))
    restore_export(fresh, str(path), tags=[])
    before = export(fresh)
    assert {r.status for r in restore_export(fresh, str(path), tags=[])} == {"unchanged"}
    assert export(fresh) == before


def test_restored_items_are_what_reimports_compare_with(source, fresh, posts, tmp_path):
    restore_export(fresh, str(write(tmp_path, export(source))), tags=[])
    first = posts[0]
    assert ingest(fresh, first) == "unchanged"  # the same bytes as were exported: nothing to do
    first.write_text(first.read_text().replace("## Summary", "## Summary\n\nA new opening sentence."))
    assert ingest(fresh, first) == "updated"
    assert fresh.get(first.stem).sectors == ["banking and insurance", "retail and wholesale trade"]  # the edit wins
    assert "A new opening sentence." in fresh.get(first.stem).summary


def test_restoring_into_a_kb_keeps_its_own_tags_and_newer_edits(source, fresh, posts, tmp_path):
    first = posts[0]
    ingest(fresh, first)
    fresh.add_tags(first.stem, ["local"], [])
    fresh.db.execute(
        "INSERT INTO analyst_edits (item_id, field, value, edited_at) VALUES (?, 'sectors', ?, '2999-01-01T00:00:00Z')",
        (first.stem, json.dumps(["education"])),
    )
    path = write(tmp_path, export(source))
    statuses = {r.id: r.status for r in restore_export(fresh, str(path), tags=["restored"])}
    assert statuses[first.stem] == "updated"
    item = fresh.get(first.stem)
    assert item.tags == ["check", "local", "restored", "shadow-day"]
    assert item.sectors == ["education"]  # the newest edit, made here after the export, still wins
    assert [e["value"] for e in fresh.analyst_edits(first.stem)][-1] == ["education"]
    assert len(fresh.analyst_edits(first.stem)) == 4
    assert {r.status for r in restore_export(fresh, str(path), tags=["restored"])} == {"unchanged"}


def test_a_damaged_line_fails_alone(source, fresh, tmp_path):
    lines = export(source).splitlines()
    bad_id = json.dumps({**json.loads(lines[0]), "id": "not-an-id"})
    bad_edit = json.loads(lines[1])
    bad_edit["analyst_edits"] = [{"field": "title", "value": ["x"], "edited_at": "2024-01-01T00:00:00Z"}]
    no_raw = {k: v for k, v in json.loads(lines[4]).items() if k != "raw"}
    text = "\n".join([lines[2], "{not json", bad_id, json.dumps(bad_edit), json.dumps(no_raw), "", lines[3]]) + "\n"
    results = restore_export(fresh, str(write(tmp_path, text)), tags=[])
    assert [(r.input.rsplit(":", 1)[1], r.status) for r in results] == [
        ("1", "added"), ("2", "failed"), ("3", "failed"), ("4", "failed"), ("5", "failed"), ("7", "added"),
    ]  # fmt: skip
    assert results[1].error.startswith("not an exported item: not JSON")
    assert "32 lowercase hex digits" in results[2].error and "'title'" in results[3].error
    assert "raw is missing" in results[4].error
    assert fresh.count() == 2


def test_an_empty_or_missing_export_fails_with_its_reason(fresh, tmp_path):
    [empty] = restore_export(fresh, str(write(tmp_path, "\n\n")), tags=[])
    assert empty.status == "failed" and "no exported items" in empty.error
    [missing] = restore_export(fresh, str(tmp_path / "gone.jsonl"), tags=[])
    assert missing.status == "failed" and missing.error == "no such file"


def test_a_line_from_an_older_export_keeps_its_fields(source, fresh, posts, tmp_path):
    second = posts[1].stem
    line = next(json.loads(x) for x in export(source).splitlines() if json.loads(x)["id"] == second)
    del line["record"]
    del line["raw"]["stored_at"]
    [result] = restore_export(fresh, str(write(tmp_path, json.dumps(line) + "\n")), tags=[])
    assert result.status == "added" and result.error is None
    item = fresh.get(second)
    assert item.summary == "A summary computed here." and item.keywords == ["computed"]
    assert enrichment_record(fresh, second)["backend"] == "as exported"  # so nothing enriches it again
    assert read_record(fresh, second).content_hash == content_hash_of(posts[1].read_bytes())
    assert ingest(fresh, posts[1]) == "unchanged"


def test_a_folder_walk_leaves_exports_alone(source, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "kb.jsonl").write_text(export(source))
    (folder / "note.txt").write_text("Night shift\nRobots plan shifts.")
    assert [Path(v).name for v in expand_inputs([str(folder)])] == ["note.txt"]
    assert [Path(v).name for v in expand_inputs([str(folder / "kb.jsonl")])] == ["kb.jsonl"]
