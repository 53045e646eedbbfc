"""Importers end to end: HTML files, URLs on a real loopback server, text, markdown, nested folders."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import require_shared, smkb

from shadowmatch_kb.ingest.readers import expand_inputs, item_id_for, read_input

pytestmark = pytest.mark.slow


def zyte_page(n: int = 0) -> tuple[str, bytes, dict]:
    folder = require_shared("extraction", "zyte")
    truth = json.loads((folder / "ground-truth.json").read_text())
    page = sorted((folder / "html").glob("*.html.gz"))[n]
    page_id = page.name.removesuffix(".html.gz")
    return page_id, gzip.decompress(page.read_bytes()), truth[page_id]


@pytest.fixture
def site():
    """A real HTTP server on 127.0.0.1 serving one article page, a text file and a 404."""
    page_id, html, truth = zyte_page(3)
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            seen.append(self.path)
            if self.path.startswith("/article"):
                body, kind, status = html, "text/html; charset=utf-8", 200
            elif self.path == "/note.txt":
                body, kind, status = b"Shift rota\nRobots now plan the night shift.", "text/plain", 200
            else:
                body, kind, status = b"gone", "text/plain", 404
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen, truth
    server.shutdown()
    server.server_close()


def test_html_file_keeps_text_and_metadata(tmp_path):
    page_id, html, truth = zyte_page(0)
    path = tmp_path / f"{page_id}.html"
    path.write_bytes(html)
    loaded = read_input(str(path))
    item = loaded.item
    assert item.kind == "html" and item.title
    words = set(truth["articleBody"].split())
    overlap = len(words & set(item.text.split())) / len(words)
    assert overlap > 0.8
    assert loaded.raw.content == html  # the raw page is kept for re-extraction


def test_url_import_through_the_cli(tmp_path, site, seed_onnx):
    base, seen, truth = site
    kb = tmp_path / "kb"
    seed_onnx(kb)
    refused = smkb("ingest", f"{base}/article?utm_source=x#top", "--json", kb=kb)
    assert refused.exit_code == 1
    entry = json.loads(refused.stdout)["items"][0]
    assert entry["status"] == "failed" and "private or loopback" in entry["error"]
    assert seen == []  # refused before any request was sent

    result = smkb("ingest", f"{base}/article?utm_source=x#top", f"{base}/note.txt", f"{base}/missing",
                  "--allow-private", "--json", kb=kb)  # fmt: skip
    entries = json.loads(result.stdout)["items"]
    assert result.exit_code == 1
    assert [e["status"] for e in entries] == ["added", "added", "failed"]
    assert "404" in entries[2]["error"]
    article = json.loads(smkb("show", entries[0]["id"], "--format", "json", kb=kb).stdout)
    # The page names its canonical address; the item keeps it, with tracking parameters dropped.
    assert article["url"].rstrip("/") == truth["url"].rstrip("/")
    assert article["title"] and len(article["text"]) > 500
    assert entries[0]["id"] == item_id_for(f"{base}/article")  # canonical URL -> stable id
    again = smkb("ingest", f"{base}/article", "--allow-private", "--json", kb=kb)
    assert json.loads(again.stdout)["items"][0]["status"] == "unchanged"
    note = json.loads(smkb("show", entries[1]["id"], "--format", "json", kb=kb).stdout)
    assert note["title"] == "Shift rota" and "night shift" in note["text"]


def test_folders_recursively_text_and_markdown(tmp_path, seed_onnx):
    tree = tmp_path / "inbox"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / ".hidden").mkdir()
    (tree / "a" / "note.txt").write_text("Call centre notes\nAgents get AI suggestions during calls.")
    (tree / "a" / "b" / "draft.md").write_text("# Ward rounds\n\nNurses dictate notes to an AI scribe.\n")
    (tree / "a" / "b" / "image.png").write_bytes(b"\x89PNG")
    (tree / ".hidden" / "secret.txt").write_text("not imported")
    found = [Path(p).name for p in expand_inputs([str(tree)])]
    assert found == ["draft.md", "note.txt"]  # sorted by path, hidden folders and other types skipped
    kb = tmp_path / "kb"
    seed_onnx(kb)
    result = smkb("ingest", str(tree), "--json", kb=kb)
    entries = json.loads(result.stdout)["items"]
    assert result.exit_code == 0 and [e["status"] for e in entries] == ["added", "added"]
    titles = {i["title"] for i in json.loads(smkb("list", "--json", kb=kb).stdout)["items"]}
    assert titles == {"Call centre notes", "Ward rounds"}
    hits = json.loads(smkb("search", "scribe for nurses", "-k", "1", "--json", kb=kb).stdout)["results"]
    assert hits[0]["title"] == "Ward rounds"


def test_identical_content_is_marked_duplicate_and_counted_once(tmp_path, seed_onnx):
    text = "Port cranes\nRemote operators now run cranes from an office."
    (tmp_path / "one.txt").write_text(text)
    (tmp_path / "copy.txt").write_text(text)
    kb = tmp_path / "kb"
    seed_onnx(kb)
    entries = json.loads(smkb("ingest", str(tmp_path / "one.txt"), str(tmp_path / "copy.txt"), "--json",
                              kb=kb).stdout)["items"]  # fmt: skip
    copy = json.loads(smkb("show", entries[1]["id"], "--format", "json", kb=kb).stdout)
    assert copy["duplicate_of"] == entries[0]["id"]
    stats = json.loads(smkb("stats", "--json", kb=kb).stdout)
    assert stats["items"] == 2 and stats["unique_items"] == 1
    hits = json.loads(smkb("search", "cranes", "--json", kb=kb).stdout)["results"]
    assert [h["id"] for h in hits] == [entries[0]["id"]]


def test_a_query_rebuilds_a_missing_onnx_export(tmp_path, seed_onnx):
    import shutil

    (tmp_path / "n.txt").write_text("Farm drones\nDrones map crops for farm workers.")
    kb = tmp_path / "kb"
    seed_onnx(kb)
    assert smkb("ingest", str(tmp_path / "n.txt"), kb=kb).exit_code == 0
    shutil.rmtree(kb / "indexes" / "onnx")
    result = smkb("search", "agricultural drones", "--json", kb=kb)
    assert result.exit_code == 0 and json.loads(result.stdout)["results"]
    assert result.stderr == ""  # rebuilt from the model's weights, not a slower path with a warning
    assert list((kb / "indexes" / "onnx").glob("*/export.json"))
