"""A knowledge base in Postgres through the CLI: the same commands give the same JSON as the file KB of the same
corpus. Every Postgres here is a real server with pgvector (``postgres_url``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DEMO, copy_kb
from typer.testing import CliRunner

from shadowmatch_kb.cli.app import app


def run(kb: str | Path, *args: str, code: int = 0) -> dict | list:
    """One command on ``kb`` (asked for JSON); its parsed output."""
    result = CliRunner().invoke(app, ["--kb", str(kb), *args], catch_exceptions=False)
    assert result.exit_code == code, result.stderr or result.stdout
    return json.loads(result.stdout) if code == 0 else {"stderr": result.stderr}


@pytest.fixture
def postgres_kb(postgres_url, demo_kb, tmp_path, monkeypatch) -> str:
    """The demo corpus imported into a Postgres KB; its working folder starts with the demo KB's model export."""
    workdir = tmp_path / "workdir"
    copy_kb(demo_kb / "indexes" / "onnx", workdir / "indexes" / "onnx")
    monkeypatch.setenv("SMKB_WORKDIR", str(workdir))
    run(postgres_url, "ingest", str(DEMO), "--json")
    return postgres_url


QUESTIONS = [
    "AI scribes for nurses",
    "I drive a delivery van, will robots take my route?",
    "chatbots in customer service",
    "warehouse pickers",
]


def _same_day_by_id(items: list[dict]) -> list[dict]:
    """A listing with the items of one publication day in id order. Among them the later added comes first, and two
    imports of one corpus add them at their own moments (stamped to the second): two items of 2024-07-12 came in
    either order in one CI run and not in the next."""
    return sorted(items, key=lambda item: (item["published"] or "", item["id"]))


def test_search_and_listing_agree_with_the_file_kb(postgres_kb, demo_kb):
    for question in QUESTIONS:
        assert run(postgres_kb, "search", question, "--json") == run(demo_kb, "search", question, "--json"), question
    listed = [run(kb, "list", "--json")["items"] for kb in (postgres_kb, demo_kb)]  # type: ignore[index]
    assert [item["published"] for item in listed[0]] == [item["published"] for item in listed[1]]
    assert _same_day_by_id(listed[0]) == _same_day_by_id(listed[1])
    first = run(demo_kb, "list", "--json")["items"][0]["id"]  # type: ignore[index]
    assert run(postgres_kb, "show", first, "--format", "json") == run(demo_kb, "show", first, "--format", "json")
    assert run(postgres_kb, "related", first, "--json") == run(demo_kb, "related", first, "--json")
    sectors = [run(kb, "sectors", "--json") for kb in (postgres_kb, demo_kb)]
    assert sectors[0].pop("aliases_file") != sectors[1].pop("aliases_file")  # type: ignore[union-attr]  # each its own
    assert sectors[0] == sectors[1]


def test_briefings_and_trends_agree_with_the_file_kb(postgres_kb, demo_kb):
    for question in QUESTIONS[:2]:
        assert run(postgres_kb, "brief", question, "--format", "json") == run(
            demo_kb, "brief", question, "--format", "json"
        )
    assert run(postgres_kb, "trends", "--json") == run(demo_kb, "trends", "--json")


def test_stats_and_doctor_name_the_database_without_its_password(postgres_kb, demo_kb):
    stats = run(postgres_kb, "stats", "--json")
    assert stats["items"] == run(demo_kb, "stats", "--json")["items"]  # type: ignore[index]
    assert stats["kb"].startswith("postgresql://")  # type: ignore[index]
    doctor = run(postgres_kb, "doctor", "--json")
    assert doctor["problems"] == [], doctor  # type: ignore[index]


def test_an_empty_database_is_no_knowledge_base_yet(postgres_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SMKB_WORKDIR", str(tmp_path))
    found = run(postgres_url, "show", "0" * 32, "--format", "json", code=1)
    assert "no knowledge base in postgresql://" in found["stderr"]  # type: ignore[index]


def test_vectors_cannot_be_sent_elsewhere(postgres_url):
    result = CliRunner().invoke(app, ["--kb", postgres_url, "--index", "flat", "list"])
    assert result.exit_code == 2 and "keeps its vectors there too" in result.stderr


def export_of(kb: str | Path) -> str:
    """The lossless export of a knowledge base, as text."""
    result = CliRunner().invoke(app, ["--kb", str(kb), "export", "--format", "jsonl"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_migrate_copies_a_folder_into_postgres_and_back_losslessly(postgres_url, demo_kb, tmp_path, monkeypatch):
    from conftest import require_shared

    from shadowmatch_kb.kb import KnowledgeBase
    from shadowmatch_kb.occupations.datasets import read_dataset
    from shadowmatch_kb.occupations.store import save_dataset, tasks_for
    from shadowmatch_kb.store.frontier import Frontier, QueuedUrl

    folder = tmp_path / "file_kb"
    copy_kb(demo_kb, folder)
    first = run(folder, "list", "--json")["items"][0]["id"]  # type: ignore[index]
    CliRunner().invoke(app, ["--kb", str(folder), "tag", first, "--add", "checked", "--sector", "banking"])
    with KnowledgeBase.open(folder) as kb:
        save_dataset(kb.store.db, read_dataset(require_shared("occupations", "ilo_genai_exposure_2025")), "ilo")
        Frontier(kb.store.db).enqueue([QueuedUrl("https://news.example/a", "news", "article", 1, "2024-03-01")])
    (folder / "corpus" / "sector_aliases.toml").write_text('"care homes" = "Q"\n')
    added = CliRunner().invoke(app, ["--kb", str(folder), "sources", "add", "news", "https://news.example/feed.xml"])
    assert added.exit_code == 0, added.stderr
    monkeypatch.setenv("SMKB_WORKDIR", str(tmp_path / "workdir"))

    report = run(folder, "migrate", "--to", postgres_url, "--json")
    assert report["items"]["added"] == len(run(folder, "list", "--json")["items"])  # type: ignore[index]
    assert report["files"] == ["corpus/sources.toml", "corpus/sector_aliases.toml"]  # type: ignore[index]
    # The copied files are in the database at once: another machine finds the source.
    monkeypatch.setenv("SMKB_WORKDIR", str(tmp_path / "another"))
    assert [s["name"] for s in run(postgres_url, "sources", "list", "--json")["sources"]] == ["news"]  # type: ignore[index]
    monkeypatch.setenv("SMKB_WORKDIR", str(tmp_path / "workdir"))
    # The vectors were copied, not made again: nothing was embedded.
    assert report["index"]["copied"] == report["items"]["added"] and report["index"]["items"] == 0  # type: ignore[index]
    assert export_of(postgres_url) == export_of(folder)
    question = "AI scribes for nurses"
    assert run(postgres_url, "search", question, "--json") == run(folder, "search", question, "--json")
    again = run(folder, "migrate", "--to", postgres_url, "--json")
    assert again["items"]["unchanged"] == report["items"]["added"]  # type: ignore[index]
    assert again["index"]["items"] == 0  # type: ignore[index]  # a second run embeds nothing again
    refused = CliRunner().invoke(app, ["--kb", postgres_url, "migrate", "--to", postgres_url])
    assert refused.exit_code == 1 and "is the knowledge base being copied" in refused.stderr

    back = tmp_path / "back"
    assert run(postgres_url, "migrate", "--to", str(back), "--json")["index"]["items"] == 0  # type: ignore[index]
    assert export_of(back) == export_of(folder)
    with KnowledgeBase.open(folder) as one, KnowledgeBase.open(back) as other:
        assert tasks_for(one.store.db, "2221") == tasks_for(other.store.db, "2221")
        frontier = [Frontier(kb.store.db).next_batch(["news"], 5) for kb in (one, other)]
        assert frontier[0] == frontier[1] and frontier[0][0].listed_date == "2024-03-01"
    assert (back / "corpus" / "sector_aliases.toml").read_text() == '"care homes" = "Q"\n'
    assert run(back, "search", question, "--json") == run(folder, "search", question, "--json")


def test_two_servers_answer_from_one_database(postgres_kb, monkeypatch):
    import httpx
    from conftest import smkb_serve

    token = "shared-token-0123456789abcdef"
    monkeypatch.setenv("SMKB_ANALYST_TOKEN", token)
    with smkb_serve(postgres_kb) as left, smkb_serve(postgres_kb) as right:  # type: ignore[arg-type]
        clients = [httpx.Client(base_url=served.base, timeout=60) for served in (left, right)]
        answers = [client.get("/api/search", params={"q": "nurses", "k": "5"}).json() for client in clients]
        assert answers[0] == answers[1] and answers[0]["results"]
        item_id = answers[0]["results"][0]["id"]
        # An analyst's tag through one server is seen at once through the other.
        tagged = clients[0].post(
            f"/api/items/{item_id}/tags", json={"add": ["seen-by-both"]}, headers={"Authorization": f"Bearer {token}"}
        )
        assert tagged.status_code == 200
        assert "seen-by-both" in clients[1].get(f"/api/items/{item_id}").json()["tags"]
        for client in clients:
            client.close()


def test_machines_share_crawl_sources_aliases_and_settings(postgres_url, tmp_path, monkeypatch):
    left, right = tmp_path / "left", tmp_path / "right"

    def on(machine: Path, *args: str) -> dict | list:
        monkeypatch.setenv("SMKB_WORKDIR", str(machine))
        return run(postgres_url, *args)

    on(left, "sources", "add", "news", "https://news.example/feed.xml", "--json")
    assert [s["name"] for s in on(right, "sources", "list", "--json")["sources"]] == ["news"]  # type: ignore[index]
    # A hand edit on one machine reaches the other the next time either opens the knowledge base.
    (right / "corpus" / "sector_aliases.toml").write_text('"care homes" = "Q"\n')
    (right / "smkb.toml").write_text("[crawl]\ndelay = 3.0\n")
    on(right, "sources", "list", "--json")
    on(left, "sources", "list", "--json")
    assert (left / "corpus" / "sector_aliases.toml").read_text() == '"care homes" = "Q"\n'
    assert (left / "smkb.toml").read_text() == "[crawl]\ndelay = 3.0\n"
    on(left, "sources", "remove", "news", "--json")
    assert on(right, "sources", "list", "--json")["sources"] == []  # type: ignore[index]


def test_an_edit_made_on_two_machines_at_once_is_kept(postgres_url, tmp_path):
    from shadowmatch_kb.store.pg import PgConnection, ensure_schema
    from shadowmatch_kb.store.shared_files import reconcile

    db = PgConnection(postgres_url)
    ensure_schema(db)
    left, right = tmp_path / "left", tmp_path / "right"
    for machine in (left, right):
        assert reconcile(db, machine) == []
    (left / "smkb.toml").write_text("[crawl]\ndelay = 2.0\n")
    assert reconcile(db, left) == []
    (right / "smkb.toml").write_text("[crawl]\ndelay = 5.0\n")  # made before right saw left's
    notices = reconcile(db, right)
    assert len(notices) == 1 and "smkb.toml.mine" in notices[0]
    assert (right / "smkb.toml").read_text() == "[crawl]\ndelay = 2.0\n"
    assert (right / "smkb.toml.mine").read_text() == "[crawl]\ndelay = 5.0\n"
    (left / "smkb.toml").unlink()  # a file removed by hand is removed everywhere
    reconcile(db, left)
    reconcile(db, right)
    assert not (right / "smkb.toml").exists()
    db.close()


def test_a_missing_database_is_one_line_that_says_what_to_do(postgres_server, tmp_path, monkeypatch):
    monkeypatch.setenv("SMKB_WORKDIR", str(tmp_path))
    missing = postgres_server.replace("/postgres?", "/no_such_kb?", 1)
    for args in (["stats", "--json"], ["serve", "--port", "1"]):
        result = CliRunner().invoke(app, ["--kb", missing, *args])
        assert result.exit_code == 1, result.output
        line = result.stderr.strip()
        assert "\n" not in line and "does not exist" in line and "create it first" in line, line
