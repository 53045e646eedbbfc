"""The same commands with Chroma: a local persistent index and a real `chroma run` server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import DEMO, smkb

pytestmark = pytest.mark.slow


def demo_subset(tmp_path, n: int = 12):
    folder = tmp_path / "posts"
    folder.mkdir()
    for post in sorted(DEMO.glob("*.md"))[:n]:
        shutil.copy(post, folder)
    return folder


def check_kb(kb, mode: list[str], ids: list[str]) -> None:
    """Search, related, show and stats agree with what was imported."""
    stats = json.loads(smkb(*mode, "stats", "--json", kb=kb).stdout)
    assert stats["items"] == len(ids)
    assert stats["index"]["kind"] == "chroma" and stats["index"]["items"] == len(ids)
    assert stats["index"]["pending"] == 0
    related = json.loads(smkb(*mode, "related", ids[0], "-k", "3", "--json", kb=kb).stdout)["results"]
    assert len(related) == 3 and ids[0] not in [r["id"] for r in related]
    hits = json.loads(smkb(*mode, "search", "hospital nurses", "-k", "3", "--json", kb=kb).stdout)["results"]
    assert hits and all(h["id"] in ids for h in hits)
    assert smkb(*mode, "doctor", kb=kb).exit_code == 0


def test_local_chroma_index(tmp_path, seed_onnx):
    folder = demo_subset(tmp_path)
    kb = tmp_path / "kb"
    seed_onnx(kb)
    result = smkb("--index", "chroma", "ingest", str(folder), "--json", kb=kb)
    assert result.exit_code == 0, result.stderr
    ids = [e["id"] for e in json.loads(result.stdout)["items"]]
    assert (kb / "indexes" / "chroma").is_dir() and not (kb / "indexes" / "flat").exists()
    check_kb(kb, ["--index", "chroma"], ids)
    # The flat default refuses to read a Chroma-built index instead of mixing them silently.
    wrong = smkb("related", ids[0], kb=kb)
    assert wrong.exit_code == 1 and "chroma index" in wrong.stderr


def test_chroma_server_with_two_writers(tmp_path, seed_onnx, chroma_server, monkeypatch):
    monkeypatch.setenv("SMKB_CHROMA_COLLECTION", "cli_test")
    folder = demo_subset(tmp_path, 16)
    halves = [tmp_path / "a", tmp_path / "b"]
    for n, half in enumerate(halves):
        half.mkdir()
        for post in sorted(folder.glob("*.md"))[n::2]:
            shutil.copy(post, half)
    kb = tmp_path / "kb"
    seed_onnx(kb)
    env = {**__import__("os").environ, "HF_HUB_OFFLINE": "1", "SMKB_CHROMA_COLLECTION": "cli_test"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shadowmatch_kb",
                "--kb",
                str(kb),
                "--chroma-url",
                chroma_server,
                "ingest",
                str(half),
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )  # fmt: skip
        for half in halves
    ]
    ids: list[str] = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        ids += [e["id"] for e in json.loads(out)["items"]]
    assert len(ids) == 16
    check_kb(kb, ["--chroma-url", chroma_server], ids)
    report = json.loads(smkb("--chroma-url", chroma_server, "reindex", "--json", kb=kb).stdout)
    assert report["items"] == 16 and report["index"] == "chroma"
    check_kb(kb, ["--chroma-url", chroma_server], ids)


def test_two_knowledge_bases_on_one_chroma_server_never_touch_each_others_vectors(
    tmp_path, seed_onnx, chroma_server, monkeypatch
):
    # Before collections were named by their knowledge base, both would share "smkb_items", and each sync would
    # delete the vectors of the items the other had imported.
    monkeypatch.delenv("SMKB_CHROMA_COLLECTION", raising=False)
    folder = demo_subset(tmp_path, 12)
    halves = {name: tmp_path / f"posts_{name}" for name in ("a", "b")}
    kbs = {name: tmp_path / f"kb_{name}" for name in ("a", "b")}
    ids: dict[str, list[str]] = {}
    for n, name in enumerate(("a", "b")):
        halves[name].mkdir()
        for post in sorted(folder.glob("*.md"))[n::2]:
            shutil.copy(post, halves[name])
        seed_onnx(kbs[name])
    for name in ("a", "b", "a"):  # a's second import syncs again after b's
        result = smkb("--chroma-url", chroma_server, "ingest", str(halves[name]), "--json", kb=kbs[name])
        assert result.exit_code == 0, result.stderr
        ids[name] = [e["id"] for e in json.loads(result.stdout)["items"]]
    for name in ("a", "b"):
        check_kb(kbs[name], ["--chroma-url", chroma_server], ids[name])
    prefixes = {json.loads((kbs[n] / "indexes" / "index.json").read_text())["chroma_collection"] for n in kbs}
    assert len(prefixes) == 2 and all(p.startswith("smkb_") for p in prefixes)


def test_an_index_named_before_its_knowledge_base_keeps_its_name_until_reindexed(tmp_path):
    from shadowmatch_kb.backends import Backends
    from shadowmatch_kb.config import Config

    config = Config(kb_dir=tmp_path, index_kind="chroma", chroma_url="http://127.0.0.1:9")
    backends = Backends(config, kb_id=lambda: "00ff00ff00ff00ff")
    assert backends._chroma_prefix(rebuild=False) == "smkb_00ff00ff00ff00ff"  # a new index: its own name
    (tmp_path / "indexes").mkdir()
    (tmp_path / "indexes" / "index.json").write_text('{"kind": "chroma", "model": "m", "dimension": 4}')
    assert backends._chroma_prefix(rebuild=False) == "smkb"  # made before: the shared name it was written under
    assert backends._chroma_prefix(rebuild=True) == "smkb_00ff00ff00ff00ff"  # `smkb reindex` moves it
    named = Backends(Config(kb_dir=tmp_path, index_kind="chroma", chroma_collection="ours"), kb_id=lambda: "x")
    assert named._chroma_prefix(rebuild=True) == "ours"  # SMKB_CHROMA_COLLECTION names it outright
    local = Backends(Config(kb_dir=tmp_path / "local", index_kind="chroma"), kb_id=lambda: "00ff00ff00ff00ff")
    assert local._chroma_prefix(rebuild=False) == "smkb"  # a local Chroma folder is the knowledge base's alone
