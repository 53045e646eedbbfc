"""One sector vocabulary: items store ISIC section names, filters take any name of a section, counts agree,
an unknown sector is a usage error listing the names, analysts add aliases, and old records are migrated."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DEMO, REPO, copy_kb, smkb

from shadowmatch_kb.errors import InputError, UsageError
from shadowmatch_kb.formats.signals_post import parse_signals_post
from shadowmatch_kb.ingest.readers import read_input
from shadowmatch_kb.store import migrations
from shadowmatch_kb.store.sqlite import RawInput, SqliteStore
from shadowmatch_kb.store.timeline import dated_items
from shadowmatch_kb.text.sectors import SectorVocabulary

VOCABULARY = SectorVocabulary.load()
NAMES = set(VOCABULARY.names())
HEALTH = "healthcare and social care"
OLD_SCHEMA = 5  # the last migration before sectors were section names


def _as_json(result) -> dict:
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


def _assert_lists_the_names(stderr: str) -> None:
    assert stderr.startswith("error: unknown sector") and stderr.count("\n") == 1, stderr
    assert all(name in stderr for name in NAMES)


# ----- the vocabulary --------------------------------------------------------------------------------


def test_labels_are_placed_in_sections_and_the_rest_kept_apart() -> None:
    placed = VOCABULARY.place(["banking", "Banking and insurance", "K", "creative work", "space tourism", " "])
    assert placed.names == ["banking and insurance", "arts, entertainment and recreation"]
    assert placed.unplaced == ["space tourism"] and placed.unplaced_tags == ["sector:space tourism"]
    for label in ("healthcare", "Q", "nurses", HEALTH, "Healthcare And Social Care"):
        assert VOCABULARY.section_name(label) == HEALTH
    with pytest.raises(UsageError) as error:
        VOCABULARY.section_name("bogus")
    message = str(error.value)
    assert "\n" not in message and all(name in message for name in NAMES)


def test_a_typed_list_keeps_names_that_hold_commas_whole() -> None:
    typed = "IT, telecoms and media, education; farming, forestry and fishing, nurses, bogus"
    assert VOCABULARY.split_list(typed) == [
        "IT, telecoms and media",
        "education",
        "farming, forestry and fishing",
        "nurses",
        "bogus",
    ]


def test_analysts_aliases_are_read_from_the_record_and_checked(tmp_path) -> None:
    assert SectorVocabulary.for_record(tmp_path) is VOCABULARY  # no file: the shipped vocabulary
    aliases = tmp_path / "sector_aliases.toml"
    aliases.write_text('"space tourism" = "R"\n"care robots" = "healthcare and social care"\n', encoding="utf-8")
    ours = SectorVocabulary.for_record(tmp_path)
    assert ours.section_name("Space Tourism") == "arts, entertainment and recreation"
    assert ours.section_name("care robots") == HEALTH
    described = {s["code"]: s for s in ours.describe()}
    assert described["R"]["analyst_aliases"] == ["space tourism"] and "creative work" in described["R"]["aliases"]
    for text, reason in [
        ('"banking" = "R"\n', "already means banking and insurance"),
        ('"space tourism" = "Z"\n', "should name a section"),
        ('"x" = "R"\n', "too short"),
        ('"space tourism" = \n', "not valid TOML"),
        ('[space]\nalias = "R"\n', "should name a section"),
    ]:
        aliases.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=reason) as error:
            SectorVocabulary.for_record(tmp_path)
        assert str(aliases) in str(error.value) and "\n" not in str(error.value)


# ----- migrating a record written before ---------------------------------------------------------------


def _old_record(path: Path, monkeypatch) -> dict[str, str]:
    """A record at schema 5 holding what the code of then stored: posts' own labels as written, enrichment's
    finer labels with their confidences, an analyst's correction in words of their own. Returns ids by role."""
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:OLD_SCHEMA])
    store = SqliteStore(path)
    posts = sorted(DEMO.glob("*.md"))[:3]
    ids = {}
    for role, post, labels in [
        ("post", posts[0], ["banking", "Banking and insurance", "creative work", "space tourism"]),
        ("computed", posts[1], ["nursing", "healthcare and social care"]),
        ("edited", posts[2], ["logistics"]),
    ]:
        item = read_input(str(post)).item
        store.put_item(item, content_hash=role, text_hash=role, raw=RawInput(str(post), "text/markdown", b"x"))
        store.db.execute("UPDATE items SET sectors = ? WHERE id = ?", (json.dumps(labels), item.id))
        ids[role] = item.id
    record = {"backend": "offline", "version": 1, "sector_confidence": {"nursing": 0.82, HEALTH: 0.55}}
    store.db.execute("UPDATE items SET enrichment = ? WHERE id = ?", (json.dumps(record), ids["computed"]))
    for value in (["education"], ["warehousing", "bogus label"]):  # the latest edit wins on read
        store.db.execute(
            "INSERT INTO analyst_edits (item_id, field, value, edited_at) VALUES (?, 'sectors', ?, ?)",
            (ids["edited"], json.dumps(value), "2024-01-01T00:00:00Z"),
        )
    store.close()
    monkeypatch.undo()
    return ids


def test_an_old_record_is_migrated_once_on_open(tmp_path, monkeypatch) -> None:
    path = tmp_path / "corpus" / "kb.sqlite"
    ids = _old_record(path, monkeypatch)
    store = SqliteStore(path)
    assert store.db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == len(migrations.MIGRATIONS)
    post, computed, edited = store.get(ids["post"]), store.get(ids["computed"]), store.get(ids["edited"])
    assert post.sectors == ["banking and insurance", "arts, entertainment and recreation"]
    assert post.tags == ["sector:space tourism"]  # never lost
    assert computed.sectors == [HEALTH]
    assert edited.sectors == ["transport and logistics"] and edited.tags == ["sector:bogus label"]
    assert [e["value"] for e in store.analyst_edits(ids["edited"])] == [["education"], ["transport and logistics"]]
    record = json.loads(store.db.execute("SELECT enrichment FROM items WHERE id = ?", (ids["computed"],)).fetchone()[0])
    assert record["sector_confidence"] == {HEALTH: 0.82}  # the best of the section's labels
    dated = {d.item_id: d for d in dated_items(store)}
    assert dated[ids["computed"]].sector_confidence(HEALTH) == 0.82  # as briefings ask for it
    assert store.facet_counts("sectors") == {
        "arts, entertainment and recreation": 1,
        "banking and insurance": 1,
        HEALTH: 1,
        "transport and logistics": 1,
    }
    assert store.check() == []
    store.close()
    again = SqliteStore(path)  # recorded: a second open changes nothing
    assert again.get(ids["post"]).tags == ["sector:space tourism"]
    again.close()


def test_the_migration_uses_the_records_own_aliases(tmp_path, monkeypatch) -> None:
    path = tmp_path / "corpus" / "kb.sqlite"
    ids = _old_record(path, monkeypatch)
    (path.parent / "sector_aliases.toml").write_text('"space tourism" = "R"\n"bogus label" = "N"\n')
    store = SqliteStore(path)
    assert store.get(ids["post"]).tags == [] and store.get(ids["edited"]).tags == []
    assert store.get(ids["edited"]).sectors == ["transport and logistics", "business support services"]
    store.close()


_KILL_MID_MIGRATION = """
import os, sys
from shadowmatch_kb.store import sectors
from shadowmatch_kb.store.sqlite import SqliteStore
real, calls = sectors.keep_unplaced_labels, []

def dying(*args, **options):
    calls.append(1)
    if len(calls) == 3:  # two items rewritten, inside the migration's transaction
        os._exit(9)
    return real(*args, **options)

sectors.keep_unplaced_labels = dying
SqliteStore(sys.argv[1])
"""


def test_a_migration_killed_half_way_leaves_the_old_record_whole(tmp_path, monkeypatch) -> None:
    path = tmp_path / "corpus" / "kb.sqlite"
    ids = _old_record(path, monkeypatch)
    before = sqlite3.connect(path).execute("SELECT id, sectors FROM items ORDER BY id").fetchall()
    killed = subprocess.run([sys.executable, "-c", _KILL_MID_MIGRATION, str(path)], cwd=REPO, check=False)
    assert killed.returncode == 9
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == OLD_SCHEMA
    assert raw.execute("SELECT id, sectors FROM items ORDER BY id").fetchall() == before
    assert raw.execute("SELECT count(*) FROM item_tags").fetchone()[0] == 0
    raw.close()
    store = SqliteStore(path)  # the next open migrates it whole
    assert store.get(ids["post"]).sectors == ["banking and insurance", "arts, entertainment and recreation"]
    store.close()


# ----- through the command line and the web page ----------------------------------------------------------


@pytest.fixture
def kb(demo_kb, tmp_path) -> Path:
    target = tmp_path / "kb"
    copy_kb(demo_kb, target)
    return target


def _ids(result) -> list[str]:
    return [i["id"] for i in _as_json(result)["items"]]


@pytest.mark.slow
def test_stored_sectors_are_section_names_and_every_name_of_one_filters_alike(kb) -> None:
    items = _as_json(smkb("list", "--json", kb=kb))["items"]
    assert {s for i in items for s in i["sectors"]} <= NAMES
    health = _ids(smkb("list", "--sector", HEALTH, "--json", kb=kb))
    assert len(health) >= 3
    for surface in ("healthcare", "Q", "q", "nurses", "Section Q"):
        assert _ids(smkb("list", "--sector", surface, "--json", kb=kb)) == health, surface
    search = [smkb("search", "robots", "--sector", s, "--json", kb=kb) for s in ("logistics", "H", "warehousing")]
    assert search[0].stdout and all(r.stdout == search[0].stdout for r in search)
    trends = [smkb("trends", "--sector", s, "--json", kb=kb).stdout for s in ("healthcare", "nurses")]
    assert json.loads(trends[0])["series"] and trends[0] == trends[1]
    stats = _as_json(smkb("stats", "--json", kb=kb))
    assert set(stats["sectors"]) <= NAMES and 0 < stats["sectors"][HEALTH] <= len(health)  # copies: once


@pytest.mark.slow
def test_an_unknown_sector_is_a_usage_error_listing_the_names(kb) -> None:
    item_id = _as_json(smkb("list", "--json", kb=kb))["items"][0]["id"]
    before = smkb("show", item_id, "--format", "json", "-k", "0", kb=kb).stdout
    for args in (
        ("list", "--sector", "bogus"),
        ("search", "robots", "--sector", "bogus"),
        ("trends", "--sector", "bogus"),
        ("tag", item_id, "--add", "kept", "--sector", "Q", "--sector", "bogus"),
    ):
        result = smkb(*args, kb=kb)
        assert result.exit_code == 2, args
        _assert_lists_the_names(result.stderr)
    assert smkb("show", item_id, "--format", "json", "-k", "0", kb=kb).stdout == before  # nothing written
    tagged = _as_json(smkb("tag", item_id, "--sector", "warehousing", "--sector", "Q", "--json", kb=kb))
    assert tagged["sectors"] == ["transport and logistics", HEALTH]


@pytest.mark.slow
def test_a_posts_unknown_label_becomes_a_tag_until_an_analyst_alias_places_it(kb, tmp_path) -> None:
    post = tmp_path / "0123456789abcdef0123456789abcdef.md"
    text = sorted(DEMO.glob("*.md"))[0].read_text(encoding="utf-8")
    sectors = "## Sectors\n* banking\n* space tourism\n"
    post.write_text(re.sub(r"## Sectors\n(\* .*\n)+", sectors, text).replace("## Summary\n", "## Summary\nOrbit. "))
    assert parse_signals_post(post.read_text()).sectors == ["banking", "space tourism"]
    assert smkb("ingest", str(post), kb=kb).exit_code == 0
    shown = _as_json(smkb("show", post.stem, "--format", "json", "-k", "0", kb=kb))
    assert shown["sectors"] == ["banking and insurance"] and shown["tags"] == ["sector:space tourism"]
    assert _ids(smkb("list", "--tag", "sector:space tourism", "--json", kb=kb)) == [post.stem]

    (kb / "corpus" / "sector_aliases.toml").write_text('"space tourism" = "R"  # arts, entertainment and recreation\n')
    listed = _as_json(smkb("sectors", "--json", kb=kb))
    assert listed["aliases_file"] == str(kb / "corpus" / "sector_aliases.toml")
    arts = next(s for s in listed["sectors"] if s["code"] == "R")
    assert arts["analyst_aliases"] == ["space tourism"] and arts["name"] == "arts, entertainment and recreation"
    assert len(listed["sectors"]) == 21 and {s["name"] for s in listed["sectors"]} == NAMES
    table = smkb("sectors", kb=kb)
    assert table.exit_code == 0 and "R  arts, entertainment and recreation" in table.stdout
    assert smkb("enrich", post.stem, kb=kb).exit_code == 0  # re-reads the post's own list
    shown = _as_json(smkb("show", post.stem, "--format", "json", "-k", "0", kb=kb))
    assert shown["sectors"] == ["banking and insurance", "arts, entertainment and recreation"] and shown["tags"] == []
    assert post.stem in _ids(smkb("list", "--sector", "space tourism", "--json", kb=kb))

    (kb / "corpus" / "sector_aliases.toml").write_text('"banking" = "R"\n')
    broken = smkb("sectors", kb=kb)
    assert broken.exit_code == 1 and broken.stderr.count("\n") == 1
    assert "sector_aliases.toml" in broken.stderr and "already means banking and insurance" in broken.stderr


@pytest.mark.slow
def test_an_old_export_is_restored_with_section_names(kb, tmp_path) -> None:
    exported = tmp_path / "old.jsonl"
    assert smkb("export", "--format", "jsonl", "-o", str(exported), kb=kb).exit_code == 0
    line = json.loads(exported.read_text().splitlines()[0])
    # As an export from before this change wrote it: labels as given, enrichment keyed by finer labels.
    line["sectors"] = line["record"]["unedited"]["sectors"] = ["banking", "space tourism"]
    line["analyst_edits"] = [{"field": "sectors", "value": ["nurses"], "edited_at": "2024-01-01T00:00:00Z"}]
    line["record"]["enrichment"] = {"backend": "offline", "version": 1, "sector_confidence": {"banking": 0.7}}
    old = tmp_path / "restore.jsonl"
    old.write_text(json.dumps(line) + "\n")
    fresh = tmp_path / "fresh"
    assert smkb("ingest", str(old), kb=fresh).exit_code == 0
    shown = _as_json(smkb("show", line["id"], "--format", "json", "-k", "0", kb=fresh))
    assert shown["sectors"] == [HEALTH] and "sector:space tourism" in shown["tags"]
    assert shown["enrichment"]["sector_confidence"] == {"banking and insurance": 0.7}
    assert _ids(smkb("list", "--sector", "banking", "--json", kb=fresh)) == []  # the analyst's edit wins
    assert {r["status"] for r in _as_json(smkb("ingest", str(old), "--json", kb=fresh))["items"]} == {"unchanged"}


TOKEN = "sector-token-0123456789abcdef"


@pytest.mark.slow
def test_the_web_page_filters_counts_and_checks_sectors_as_the_cli_does(kb) -> None:
    from starlette.testclient import TestClient

    from shadowmatch_kb.web.app import create_app

    stats = _as_json(smkb("stats", "--json", kb=kb))["sectors"]
    with TestClient(create_app(kb, analyst_token=TOKEN, warm=False, readers=1), raise_server_exceptions=False) as web:
        home = web.get("/").text
        counts = {
            name.replace("&amp;", "&"): int(count)
            for name, count in re.findall(r'">([^<]+)</a> <span class="count">(\d+) items?</span>', home)
        }
        assert len(counts) >= 10 and counts == stats  # the home page counts what `smkb stats` counts
        found = [web.get("/api/search", params={"q": "robots", "sector": s}).json() for s in ("logistics", "H")]
        assert found[0]["results"] and found[0] == found[1]
        page = web.get("/search", params={"q": "nurses", "sector": "nurses"})
        assert page.status_code == 200 and f'value="{HEALTH}"' in page.text
        trends = [web.get("/api/trends", params={"sector": s}).json() for s in ("Q", "healthcare")]
        assert trends[0]["series"] and trends[0] == trends[1]
        for url in ("/api/search?q=robots&sector=bogus", "/api/trends?sector=bogus"):
            answer = web.get(url)
            assert answer.status_code == 400 and "unknown sector 'bogus'" in answer.json()["error"], url
            assert all(name in answer.json()["error"] for name in NAMES)
        for url in ("/search?sector=bogus", "/trends?sector=bogus"):
            assert web.get(url).status_code == 400, url

        item_id = found[0]["results"][0]["id"]
        url, auth = f"/api/items/{item_id}/tags", {"Authorization": f"Bearer {TOKEN}"}
        before = web.get(f"/api/items/{item_id}").json()
        refused = web.post(url, json={"add": ["x"], "sectors": ["Q", "bogus"]}, headers=auth)
        assert refused.status_code == 400 and "unknown sector" in refused.json()["error"]
        assert web.get(f"/api/items/{item_id}").json()["tags"] == before["tags"]
        fixed = web.post(url, json={"sectors": ["nurses", "warehousing"]}, headers=auth).json()
        assert fixed["sectors"] == [HEALTH, "transport and logistics"]

        signed = web.post("/signin", data={"token": TOKEN}, follow_redirects=False)
        assert signed.status_code == 303
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', web.get(f"/items/{item_id}").text).group(1)
        form = {"action": "sectors", "value": "IT, telecoms and media, education", "csrf": csrf}
        assert web.post(f"/items/{item_id}/review", data=form, follow_redirects=False).status_code == 303
        assert web.get(f"/api/items/{item_id}").json()["sectors"] == ["IT, telecoms and media", "education"]
        form["value"] = "education, bogus"
        assert web.post(f"/items/{item_id}/review", data=form, follow_redirects=False).status_code == 400
