"""A Postgres knowledge base survives two writers on two "machines" at once and a kill in the middle of an import.

Each process gets its own working folder (``SMKB_WORKDIR``), as processes on separate machines would: all they
share is the database, a real Postgres with pgvector (``postgres_url``).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from conftest import DEMO, copy_kb, require_shared

pytestmark = pytest.mark.slow


def start_smkb(url: str, workdir: Path, *args: str) -> subprocess.Popen:
    """A real `smkb` process on the Postgres KB at ``url``, with its own working folder."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", SMKB_WORKDIR=str(workdir))
    return subprocess.Popen(
        [sys.executable, "-m", "shadowmatch_kb", "--kb", url, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finished(process: subprocess.Popen, timeout: float = 600) -> dict:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return json.loads(out)


def workdir_with_model(demo_kb: Path, place: Path) -> Path:
    """A working folder that starts with the demo KB's model export, so no test exports the model again."""
    copy_kb(demo_kb / "indexes" / "onnx", place / "indexes" / "onnx")
    return place


def stored_count(url: str) -> int:
    try:
        with psycopg.connect(url) as db:
            return int(db.execute("SELECT count(*) FROM items").fetchone()[0])  # type: ignore[index]
    except psycopg.Error:
        return 0  # the tables are not there yet


def test_two_machines_import_into_one_database_at_once(postgres_url, demo_kb, tmp_path):
    posts = sorted(DEMO.glob("*.md"))
    halves = [tmp_path / "a", tmp_path / "b"]
    for n, folder in enumerate(halves):
        folder.mkdir()
        for post in posts[n::2]:
            shutil.copy(post, folder)
    machines = [workdir_with_model(demo_kb, tmp_path / f"machine{n}") for n in range(2)]
    procs = [
        start_smkb(postgres_url, machine, "ingest", str(folder), "--json")
        for machine, folder in zip(machines, halves, strict=True)
    ]
    for proc in procs:
        assert all(entry["status"] == "added" for entry in finished(proc)["items"])
    stats = finished(start_smkb(postgres_url, machines[0], "stats", "--json"))
    assert stats["items"] == len(posts) and stats["index"]["pending"] == 0
    doctor = finished(start_smkb(postgres_url, machines[1], "doctor", "--json"))
    assert doctor["problems"] == []
    # Every vector was kept: each item is its own nearest neighbour through the other machine's search.
    hits = finished(start_smkb(postgres_url, machines[1], "related", stats_first_id(postgres_url), "--json"))
    assert hits["results"]


def stats_first_id(url: str) -> str:
    with psycopg.connect(url) as db:
        return str(db.execute("SELECT id FROM items ORDER BY id LIMIT 1").fetchone()[0])  # type: ignore[index]


def test_a_killed_import_leaves_a_consistent_record_and_a_rerun_completes(postgres_url, demo_kb, tmp_path):
    pages = require_shared("extraction", "zyte", "html")
    folder = tmp_path / "pages"
    folder.mkdir()
    for page in sorted(pages.glob("*.html.gz"))[:120]:
        (folder / page.name.removesuffix(".gz")).write_bytes(gzip.decompress(page.read_bytes()))
    machine = workdir_with_model(demo_kb, tmp_path / "machine")
    proc = start_smkb(postgres_url, machine, "ingest", str(folder), "--json")
    deadline = time.monotonic() + 300
    while stored_count(postgres_url) < 15 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the import finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = stored_count(postgres_url)
    assert 15 <= partial < 120

    report = finished(start_smkb(postgres_url, machine, "doctor", "--json"))
    assert report["problems"] == []

    entries = finished(start_smkb(postgres_url, machine, "ingest", str(folder), "--json"))["items"]
    statuses = [entry["status"] for entry in entries]
    assert statuses.count("unchanged") >= partial  # what was stored before the kill is kept as it was
    assert statuses.count("added") + statuses.count("unchanged") + statuses.count("failed") == 120
    assert stored_count(postgres_url) == 120 - statuses.count("failed")
    after = finished(start_smkb(postgres_url, machine, "doctor", "--json"))
    assert after == {"ok": True, "problems": [], "notes": []}
    stats = finished(start_smkb(postgres_url, machine, "stats", "--json"))
    assert stats["index"]["pending"] == 0


def test_two_crawlers_on_two_machines_fetch_each_page_once(postgres_url, demo_kb, tmp_path):
    require_shared("extraction", "zyte")
    require_shared("feeds")
    from conftest import SHARED_DATA
    from crawl_site import CrawlSite

    machines = [workdir_with_model(demo_kb, tmp_path / f"machine{n}") for n in range(2)]
    with CrawlSite(SHARED_DATA, crawl_delay=0.0, timeout_hint=1.0) as site:
        register = start_smkb(
            postgres_url, machines[0], "sources", "add", "news", site.url("/feed.xml"), "--allow-private", "--json"
        )
        finished(register)  # registered on one machine: the other finds it through the database
        crawls = [
            start_smkb(postgres_url, machine, "crawl", "--delay", "0.2", "--timeout", "2", "--json")
            for machine in machines
        ]
        reports = [finished(crawl) for crawl in crawls]
        articles = [request.path for request in site.seen("/articles/") if request.method == "GET"]
    added = [report["counts"]["added"] for report in reports]
    assert sorted(articles) == sorted(set(articles)), "a page was fetched by both crawlers"
    # Every article of the feed was stored once, by one crawler or the other. (A crawl claims at most
    # CLAIM_BATCH URLs at a time, but on one host the first crawler usually keeps ahead: each keeps its own
    # politeness per host, so splitting one site's pages would not make it faster.)
    assert sum(added) == stored_count(postgres_url) == len(set(articles)) >= 5, reports
