"""The record survives two writers at once and a kill in the middle of an import."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO, require_shared, smkb

from shadowmatch_kb.index.flat import FlatIndex

pytestmark = pytest.mark.slow


def start_smkb(kb: Path, *args: str) -> subprocess.Popen:
    """A real `smkb` process (python -m shadowmatch_kb), as a user would start it."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "shadowmatch_kb", "--kb", str(kb), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def stored_count(kb: Path) -> int:
    path = kb / "corpus" / "kb.sqlite"
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return int(db.execute("SELECT count(*) FROM items").fetchone()[0])
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0  # the schema is not there yet


def assert_every_vector_readable(kb: Path, expected: int) -> None:
    index = FlatIndex.open(kb / "indexes" / "flat")
    assert index is not None
    entries = index.entries()
    assert len(entries) == expected
    for item_id in entries:
        vector = index.item_vector(item_id)
        assert vector is not None and np.isfinite(vector).all()
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-3
        assert index.query_items(vector, 1)[0].item_id == item_id


def test_two_ingests_at_once_both_succeed(tmp_path, seed_onnx):
    posts = sorted(DEMO.glob("*.md"))
    halves = [tmp_path / "a", tmp_path / "b"]
    for n, folder in enumerate(halves):
        folder.mkdir()
        for post in posts[n::2]:
            shutil.copy(post, folder)
    kb = tmp_path / "kb"
    seed_onnx(kb)
    procs = [start_smkb(kb, "ingest", str(folder), "--json") for folder in halves]
    outputs = [p.communicate(timeout=600) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert all(e["status"] == "added" for e in json.loads(out)["items"])
    stats = json.loads(smkb("stats", "--json", kb=kb).stdout)
    assert stats["items"] == len(posts) and stats["index"]["pending"] == 0
    assert_every_vector_readable(kb, len(posts))
    assert smkb("doctor", kb=kb).exit_code == 0


def test_killed_import_leaves_a_consistent_record_and_a_rerun_completes(tmp_path, seed_onnx):
    pages = require_shared("extraction", "zyte", "html")
    folder = tmp_path / "pages"
    folder.mkdir()
    for page in sorted(pages.glob("*.html.gz"))[:120]:
        (folder / page.name.removesuffix(".gz")).write_bytes(gzip.decompress(page.read_bytes()))
    kb = tmp_path / "kb"
    seed_onnx(kb)
    proc = start_smkb(kb, "ingest", str(folder), "--json")
    deadline = time.monotonic() + 300
    while stored_count(kb) < 15 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the import finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = stored_count(kb)
    assert 15 <= partial < 120

    doctor = smkb("doctor", "--json", kb=kb)
    report = json.loads(doctor.stdout)
    assert doctor.exit_code == 0 and report["problems"] == []
    assert any("without computed fields" in note for note in report["notes"]), report  # killed before enriching

    rerun = smkb("ingest", str(folder), "--json", kb=kb)
    entries = json.loads(rerun.stdout)["items"]
    statuses = [e["status"] for e in entries]
    assert statuses.count("unchanged") >= partial  # what was stored before the kill is kept as it was
    assert statuses.count("added") + statuses.count("unchanged") + statuses.count("failed") == 120
    stored = stored_count(kb)
    assert stored == 120 - statuses.count("failed")
    after = json.loads(smkb("doctor", "--json", kb=kb).stdout)
    assert after == {"ok": True, "problems": [], "notes": []}
    assert_every_vector_readable(kb, stored)


def test_a_writer_waits_for_the_lock(tmp_path):
    from shadowmatch_kb.errors import LockTimeoutError
    from shadowmatch_kb.store.lock import WriteLock

    path = tmp_path / "corpus" / "write.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl,os,sys,time;fd=os.open(sys.argv[1],os.O_RDWR|os.O_CREAT);"
         "fcntl.flock(fd,fcntl.LOCK_EX);print('held',flush=True);time.sleep(1.5)", str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(LockTimeoutError, match="another smkb command"):
        WriteLock(path, timeout=0.3).acquire()
    with WriteLock(path, timeout=30) as lock:
        assert lock.waited > 0.5  # it waited for the holder to exit, then got the lock
    holder.wait()
