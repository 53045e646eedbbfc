"""Real data through the whole command line: re-imports are no-ops, and an export restores the KB exactly.

One knowledge base holds the real Signals posts of ../shared/data/signals_posts (with their older
variants) and the repository's demo corpus, imported with the real model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DEMO, copy_kb, require_shared, smkb
from test_ingest_variants import CURRENT_TITLES

pytestmark = pytest.mark.slow


def as_json(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def new_kb(root: Path, demo_kb: Path) -> Path:
    """An empty KB with the demo KB's ONNX export, so the model is not exported again."""
    kb = root / "kb"
    copy_kb(demo_kb / "indexes" / "onnx", kb / "indexes" / "onnx")
    return kb


@pytest.fixture(scope="module")
def real_kb(tmp_path_factory, demo_kb) -> tuple[Path, list[dict]]:
    posts = require_shared("signals_posts")
    kb = new_kb(tmp_path_factory.mktemp("real"), demo_kb)
    entries = as_json(smkb("ingest", str(posts), str(DEMO), "--json", kb=kb))["items"]
    return kb, entries


def test_reimporting_the_real_folder_updates_nothing(real_kb):
    kb, first = real_kb
    assert {e["status"] for e in first} == {"added", "unchanged"}
    kept_out = [e for e in first if e["status"] == "unchanged"]
    assert sorted(Path(e["input"]).stem for e in kept_out) == sorted(CURRENT_TITLES)
    assert all("/older_variant/" in e["input"] and "variant of item" in e["error"] for e in kept_out)
    again = as_json(smkb("ingest", str(require_shared("signals_posts")), "--json", kb=kb))["items"]
    assert len(again) == len([e for e in first if "signals_posts" in e["input"]])
    assert {e["status"] for e in again} == {"unchanged"}
    for item_id, title in CURRENT_TITLES.items():
        shown = as_json(smkb("show", item_id, "--format", "json", "-k", "0", kb=kb))
        assert shown["title"] == title and shown["url"] != shown["source"]


def every_item(kb: Path) -> dict[str, dict]:
    """`smkb show --format json` of every item, Closest items included."""
    ids = [i["id"] for i in as_json(smkb("list", "--json", kb=kb))["items"]]
    return {i: as_json(smkb("show", i, "--format", "json", kb=kb)) for i in ids}


def test_export_then_ingest_restores_the_kb_exactly(real_kb, demo_kb, tmp_path):
    kb, _ = real_kb
    items = as_json(smkb("list", "--json", kb=kb))["items"]
    edited = [items[0]["id"], items[5]["id"], items[-1]["id"]]
    as_json(smkb("tag", edited[0], "--add", "shadow-day", "--add", "check", "--json", kb=kb))
    as_json(smkb("tag", edited[0], "--sector", "banking", "--theme", "branch closures", "--json", kb=kb))
    as_json(smkb("tag", edited[1], "--sector", "education", "--sector", "health", "--json", kb=kb))
    as_json(smkb("tag", edited[1], "--sector", "education", "--add", "mentors", "--json", kb=kb))
    as_json(smkb("tag", edited[2], "--theme", "night shifts", "--json", kb=kb))
    exported = tmp_path / "kb.jsonl"
    assert smkb("export", "--format", "jsonl", "-o", str(exported), kb=kb).exit_code == 0

    restored = new_kb(tmp_path / "restored", demo_kb)
    result = smkb("ingest", str(exported), "--json", kb=restored)
    entries = as_json(result)["items"]
    assert len(entries) == len(items) and {e["status"] for e in entries} == {"added"}
    assert entries[0]["input"] == f"{exported}:1" and entries[0]["error"] is None
    assert "Enriching" not in result.stderr  # the computed fields are restored, never computed again

    again = tmp_path / "again.jsonl"
    assert smkb("export", "--format", "jsonl", "-o", str(again), kb=restored).exit_code == 0
    assert again.read_bytes() == exported.read_bytes()
    assert as_json(smkb("list", "--json", kb=restored)) == as_json(smkb("list", "--json", kb=kb))
    assert every_item(restored) == every_item(kb)
    shown = as_json(smkb("show", edited[1], "--format", "json", "-k", "0", kb=restored))
    assert shown["sectors"] == ["education"] and shown["tags"] == ["mentors"]
    history = [json.loads(line) for line in exported.read_text().splitlines() if edited[1] in line[:60]]
    edits = [e["value"] for e in history[0]["analyst_edits"]]
    assert edits == [["education", "healthcare and social care"], ["education"]]  # stored as section names

    reimported = as_json(smkb("ingest", str(exported), "--json", kb=restored))["items"]
    assert {e["status"] for e in reimported} == {"unchanged"}
    # The analyst's corrections stay protected from a re-import of the original posts.
    folder = as_json(smkb("ingest", str(require_shared("signals_posts")), str(DEMO), "--json", kb=restored))
    assert {e["status"] for e in folder["items"]} == {"unchanged"}
    assert as_json(smkb("show", edited[1], "--format", "json", "-k", "0", kb=restored))["sectors"] == ["education"]
