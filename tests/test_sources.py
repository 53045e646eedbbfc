"""The crawl registry as the README tours it: `smkb sources add|list|remove|starter`, and its file."""

from __future__ import annotations

import json
import threading
import tomllib
import typing
from datetime import date
from importlib.resources import files
from pathlib import Path

import pytest
from conftest import REPO, smkb

from shadowmatch_kb.cli import sources as sources_cli
from shadowmatch_kb.crawl.sources import (
    KINDS,
    Source,
    add_source,
    load_sources,
    load_starter_sources,
    new_source,
    save_sources,
)
from shadowmatch_kb.errors import InputError
from shadowmatch_kb.fetch.safety import canonicalize_url
from shadowmatch_kb.store.lock import WriteLock

FIELDS = {"name", "kind", "url", "allow_private", "allow", "deny", "max_depth", "same_site", "tags", "added"}


def as_json(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def one_line_error(result, code: int = 1) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    return lines[0]


def registry(kb: Path) -> Path:
    return kb / "corpus" / "sources.toml"


def listed(kb: Path) -> list[dict]:
    return as_json(smkb("sources", "list", "--json", kb=kb))["sources"]


@pytest.fixture
def kb(tmp_path) -> Path:
    return tmp_path / "kb"  # not created: `sources add` must make corpus/ itself


# ----- add, list, remove ---------------------------------------------------------------------


def test_add_each_kind_then_list(kb):
    feed = as_json(smkb("sources", "add", "ilo-feed", "https://www.ilo.org/feed.xml", "--json", kb=kb))["source"]
    assert set(feed) == FIELDS
    assert feed["name"] == "ilo-feed"
    assert feed["kind"] == "feed"  # the default kind
    assert feed["url"] == "https://www.ilo.org/feed.xml"
    assert feed["allow_private"] is False
    assert feed["allow"] == [] and feed["deny"] == [] and feed["tags"] == []
    assert feed["added"] == date.today().isoformat()
    assert (kb / "corpus").is_dir() and registry(kb).is_file()

    sitemap = as_json(
        smkb("sources", "add", "oecd-map", "https://www.oecd.org/sitemap.xml", "--kind", "sitemap",
             "--allow", r"^https://www\.oecd\.org/en/publications/", "--tag", "oecd", "--json", kb=kb)
    )["source"]  # fmt: skip
    assert sitemap["kind"] == "sitemap"
    assert sitemap["allow"] == [r"^https://www\.oecd\.org/en/publications/"]
    assert sitemap["tags"] == ["oecd"]

    site = as_json(
        smkb("sources", "add", "local-site", "http://127.0.0.1:8765/start", "--kind", "site", "--allow-private",
             "--max-depth", "3", "--allow", "/news/", "--allow", "/blog/", "--deny", r"\.pdf$",
             "-t", "test", "-t", "loopback", "--json", kb=kb)
    )["source"]  # fmt: skip
    assert site["kind"] == "site"
    assert site["url"] == "http://127.0.0.1:8765/start"
    assert site["allow_private"] is True
    assert site["max_depth"] == 3
    assert site["same_site"] is True
    assert site["allow"] == ["/news/", "/blog/"]
    assert site["deny"] == [r"\.pdf$"]
    assert site["tags"] == ["test", "loopback"]

    assert listed(kb) == [feed, sitemap, site]  # file order, every field as `add` reported it


def test_list_prints_a_table_and_an_empty_registry_is_fine(kb):
    empty = smkb("sources", "list", "--json", kb=kb)
    assert as_json(empty) == {"sources": []}
    assert not (kb / "corpus").exists()  # reading never creates a knowledge base

    smkb("sources", "add", "mit-ai", "https://www.technologyreview.com/topic/artificial-intelligence/feed", kb=kb)
    smkb("sources", "add", "osha", "https://osha.europa.eu/en/themes/digitalisation-work", "--kind", "site", kb=kb)
    table = smkb("sources", "list", kb=kb)
    assert table.exit_code == 0
    rows = [line.split() for line in table.stdout.splitlines()]
    assert rows[0][:3] == ["name", "kind", "url"]
    assert rows[1][:2] == ["mit-ai", "feed"] and rows[2][:2] == ["osha", "site"]
    assert "depth 2" in table.stdout
    assert "2 source(s)" in table.stderr


def test_url_is_canonicalised(kb):
    typed = "HTTPS://WWW.WEForum.org:443/stories/jobs/?utm_source=x&page=2#top"
    added = as_json(smkb("sources", "add", "wef", typed, "--json", kb=kb))["source"]
    assert added["url"] == "https://www.weforum.org/stories/jobs/?page=2"


def test_remove_and_unknown_name(kb):
    smkb("sources", "add", "one", "https://one.example.org/feed", kb=kb)
    smkb("sources", "add", "two", "https://two.example.org/feed", kb=kb)
    removed = as_json(smkb("sources", "remove", "one", "--json", kb=kb))["removed"]
    assert removed["name"] == "one" and removed["url"] == "https://one.example.org/feed"
    assert [s["name"] for s in listed(kb)] == ["two"]

    again = smkb("sources", "remove", "one", kb=kb)
    assert "'one'" in one_line_error(again)
    assert [s["name"] for s in listed(kb)] == ["two"]

    text = smkb("sources", "remove", "two", kb=kb)
    assert text.exit_code == 0 and "two" in text.stdout
    assert listed(kb) == []


def test_registry_persists_across_runs_and_command_kb_option(kb):
    smkb("sources", "add", "brookings", "https://www.brookings.edu/topics/artificial-intelligence/", "--kind", "site",
         "--kb", str(kb))  # fmt: skip
    # A later run, in another process's shoes: read back from disk, through the CLI and the library.
    assert [s["name"] for s in as_json(smkb("sources", "list", "--json", "--kb", str(kb)))["sources"]] == ["brookings"]
    [source] = load_sources(registry(kb))
    assert source.kind == "site" and source.max_depth == 2 and source.same_site is True
    assert source.added == date.today()


# ----- the file itself -----------------------------------------------------------------------


def test_the_file_is_toml_a_person_can_edit(kb):
    smkb("sources", "add", "site-a", "https://a.example.org/", "--kind", "site", "--allow", r"/news/\d+", kb=kb)
    smkb("sources", "add", "feed-b", "https://b.example.org/rss", kb=kb)
    text = registry(kb).read_text()
    data = tomllib.loads(text)
    assert [entry["name"] for entry in data["source"]] == ["site-a", "feed-b"]
    assert data["source"][0]["allow"] == [r"/news/\d+"]
    assert text.startswith("# ") and "[[source]]" in text
    assert r"'/news/\d+'" in text  # a regular expression is written without doubled backslashes

    # A person changes a depth, notes something in the header and adds a source by hand.
    edited = text.replace("max_depth = 2", "max_depth = 4")
    edited = "# Analyst note: reviewed in March.\n" + edited
    edited += '\n[[source]]\nname = "by-hand"\nkind = "sitemap"\nurl = "https://c.example.org/sitemap.xml"\n'
    registry(kb).write_text(edited)

    sources = {s["name"]: s for s in listed(kb)}
    assert sources["site-a"]["max_depth"] == 4
    assert sources["by-hand"]["kind"] == "sitemap" and sources["by-hand"]["added"] is None

    # Rewriting keeps the header comments and everything the person changed.
    smkb("sources", "add", "feed-d", "https://d.example.org/atom.xml", kb=kb)
    rewritten = registry(kb).read_text()
    assert rewritten.startswith("# Analyst note: reviewed in March.\n# The crawl registry")
    assert [s["name"] for s in listed(kb)] == ["site-a", "feed-b", "by-hand", "feed-d"]
    assert {s["name"]: s for s in listed(kb)}["site-a"]["max_depth"] == 4
    assert not [p.name for p in registry(kb).parent.iterdir() if p.name.endswith(".tmp")]


MALFORMED = [
    ('[[source]]\nname = "x\n', ["not valid TOML", "line 2"]),
    ('[[source]]\nname = "a"\nurl = "https://a.org/"\n\n[[source]]\nname = "b"\nkind = "rss"\nurl = "https://b.org/"\n',
     ["line 5", "source 'b'", "kind", "'rss'"]),
    ('[[source]]\nname = "a"\nurl = "https://a.org/"\nmax_dept = 3\n', ["line 1", "max_dept", "unknown field"]),
    ('[[source]]\nname = "a"\nurl = "ftp://a.org/"\n', ["line 1", "url", "ftp"]),
    ('[[source]]\nname = "a"\n', ["line 1", "url: missing"]),
    ('[[source]]\nname = "a"\nurl = "https://a.org/"\n[[source]]\nname = "a"\nurl = "https://b.org/"\n',
     ["line 4", "already registered"]),
    ('[[source]]\nname = "a"\nurl = "https://a.org/"\n[[source]]\nname = "b"\nurl = "https://a.org/#x"\n',
     ["line 4", "already registered as source 'a'"]),
    ('[[source]]\nname = "a"\nkind = "site"\nurl = "https://a.org/"\nmax_depth = "two"\n', ["max_depth", "'two'"]),
    ('[[source]]\nname = "a"\nkind = "site"\nurl = "https://a.org/"\nallow = ["(unclosed"]\n',
     ["allow", "regular expression"]),
    ('[[source]]\nname = "a"\nurl = "https://a.org/"\nmax_depth = 5\n', ["max_depth", "site"]),
    ('[[source]]\nname = "a"\nurl = "https://a.org/"\nallow_private = "yes"\n', ["allow_private", "true or false"]),
    ('title = "my sources"\n', ["unknown top-level key 'title'"]),
    ("source = 3\n", ["[[source]]"]),
]  # fmt: skip


@pytest.mark.parametrize(("content", "expected"), MALFORMED)
def test_a_malformed_registry_is_one_clear_line(kb, content, expected):
    registry(kb).parent.mkdir(parents=True)
    registry(kb).write_text(content)
    message = one_line_error(smkb("sources", "list", kb=kb))
    assert str(registry(kb)) in message
    for fragment in expected:
        assert fragment in message
    # A command that would rewrite it refuses too, and leaves the person's file as it was.
    one_line_error(smkb("sources", "add", "zzz", "https://z.example.org/feed", kb=kb))
    assert registry(kb).read_text() == content


def test_a_registry_that_is_not_utf8_is_one_clear_line(kb):
    registry(kb).parent.mkdir(parents=True)
    registry(kb).write_bytes(b'[[source]]\nname = "caf\xe9"\n')
    assert "UTF-8" in one_line_error(smkb("sources", "list", kb=kb))


def test_awkward_strings_survive_a_round_trip(tmp_path):
    path = tmp_path / "corpus" / "sources.toml"
    awkward = new_source(
        "awkward",
        'https://example.org/a?q="x"',
        "site",
        allow=['^https://x\\.org/it\'s"here"', "tab\there", "new\nline", "del\x7f", "caf\u00e9 \U0001f600", r"\\"],
        deny=["plain"],
        tags=['say "hi"', "back\\slash", "it's", "\u00fcber"],
    )
    save_sources(path, [awkward])
    tomllib.loads(path.read_text())  # valid TOML
    assert load_sources(path) == [awkward]


# ----- refused input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://files.example.org/feed.xml", "scheme is ftp"),
        ("file:///etc/passwd", "scheme is file"),
        ("javascript:alert(1)", "scheme is javascript"),
        ("www.example.org/feed", "no scheme"),
        ("https://", "no host"),
        ("https://user:secret@example.org/feed", "user name or password"),
        ("https://example.org:99999/feed", "port"),
        ("https://exa mple.org/", "spaces"),
    ],
)
def test_bad_urls_are_refused(kb, url, fragment):
    message = one_line_error(smkb("sources", "add", "bad", url, kb=kb))
    assert fragment in message and "url" in message
    assert not registry(kb).exists()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/feed", "http://localhost/feed", "http://10.1.2.3/", "http://[::1]/"]
)
def test_private_addresses_need_allow_private(kb, url):
    refused = smkb("sources", "add", "local", url, kb=kb)
    assert "--allow-private" in one_line_error(refused)
    allowed = as_json(smkb("sources", "add", "local", url, "--allow-private", "--json", kb=kb))["source"]
    assert allowed["allow_private"] is True
    assert "allow_private = true" in registry(kb).read_text()


@pytest.mark.parametrize("name", ["ILO", "_ilo", "ilo news", "ilo.news", "x" * 65, "", "café"])
def test_bad_names_are_refused(kb, name):
    message = one_line_error(smkb("sources", "add", name, "https://example.org/feed", kb=kb))
    assert "name" in message
    assert not registry(kb).exists()


def test_names_and_urls_are_unique(kb):
    smkb("sources", "add", "ilo", "https://www.ilo.org/feed.xml", kb=kb)
    same_name = smkb("sources", "add", "ilo", "https://other.example.org/feed", kb=kb)
    assert "already registered" in one_line_error(same_name)
    # The same URL under another name, even spelled differently, is the same source.
    same_url = smkb("sources", "add", "ilo-again", "https://WWW.ILO.org/feed.xml?utm_medium=rss#latest", kb=kb)
    assert "already registered as source 'ilo'" in one_line_error(same_url)
    assert [s["name"] for s in listed(kb)] == ["ilo"]


def test_usage_errors_exit_2(kb):
    assert smkb("sources", "add", "x", "https://x.org/", "--kind", "rss", kb=kb).exit_code == 2
    assert smkb("sources", "add", "x", "https://x.org/", "--max-depth", "-1", "--kind", "site", kb=kb).exit_code == 2
    assert "--kind site" in one_line_error(smkb("sources", "add", "x", "https://x.org/", "--max-depth", "3", kb=kb), 2)
    assert smkb("sources", "add", "x", kb=kb).exit_code == 2
    assert not registry(kb).exists()


def test_bad_patterns_and_depths_are_refused(kb):
    bad_regex = smkb("sources", "add", "x", "https://x.org/", "--kind", "site", "--allow", "(unclosed", kb=kb)
    assert "regular expression" in one_line_error(bad_regex)
    too_deep = smkb("sources", "add", "x", "https://x.org/", "--kind", "site", "--max-depth", "50", kb=kb)
    assert "max_depth" in one_line_error(too_deep)
    assert "tags" in one_line_error(smkb("sources", "add", "x", "https://x.org/", "--tag", " ", kb=kb))
    assert not registry(kb).exists()


# ----- the starter registry ------------------------------------------------------------------


def test_the_starter_registry_parses_and_is_all_https():
    starter = load_starter_sources()
    assert len(starter) >= 8
    assert len({s.name for s in starter}) == len(starter)
    assert len({s.url for s in starter}) == len(starter)
    assert {s.kind for s in starter} == set(KINDS)
    for source in starter:
        assert source.url.startswith("https://"), source
        assert source.url == canonicalize_url(source.url)
        assert source.allow_private is False
        assert source.added is None  # dated when a knowledge base registers it
    names = " ".join(s.name for s in starter)
    assert "ilo" in names and "oecd" in names


def test_the_starter_registry_ships_in_the_package():
    assert files("shadowmatch_kb.crawl").joinpath("starter_sources.toml").is_file()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "*.toml" in pyproject["tool"]["setuptools"]["package-data"]["shadowmatch_kb.crawl"]


def test_starter_adds_everything_once(kb):
    starter = load_starter_sources()
    first = as_json(smkb("sources", "starter", "--json", kb=kb))
    assert [s["name"] for s in first["added"]] == [s.name for s in starter]
    assert first["skipped"] == []
    assert all(s["added"] == date.today().isoformat() for s in first["added"])
    assert listed(kb) == first["added"]

    second = as_json(smkb("sources", "starter", "--json", kb=kb))
    assert second["added"] == []
    assert [s["name"] for s in second["skipped"]] == [s.name for s in starter]
    assert all("already registered" in s["reason"] for s in second["skipped"])
    assert len(listed(kb)) == len(starter)


def test_starter_skips_what_is_registered_under_another_name(kb):
    taken = load_starter_sources()[0]
    smkb("sources", "add", "my-own", taken.url, "--kind", taken.kind, kb=kb)
    result = smkb("sources", "starter", kb=kb)
    assert result.exit_code == 0
    assert f"skipped  {taken.name}" in result.stdout
    assert "1 skipped" in result.stderr
    names = [s["name"] for s in listed(kb)]
    assert names[0] == "my-own" and taken.name not in names
    assert len(names) == len(load_starter_sources())


# ----- library details -----------------------------------------------------------------------


def test_allow_and_deny_decide_which_urls_a_source_takes():
    source = new_source("s", "https://a.org/start", "site", allow=[r"/news/", r"/blog/"], deny=[r"\.pdf$"])
    assert source.accepts("https://a.org/start")  # its own URL, though no allow pattern matches it
    assert source.accepts("https://a.org/news/1")
    assert source.accepts("https://a.org/blog/2")
    assert not source.accepts("https://a.org/about")
    assert not source.accepts("https://a.org/news/report.pdf")  # deny wins over allow
    everything = new_source("t", "https://a.org/feed", deny=["/private/"])
    assert everything.accepts("https://b.org/any") and not everything.accepts("https://a.org/private/x")


def test_new_source_names_the_field_at_fault():
    with pytest.raises(InputError) as caught:
        new_source("ok", "https://a.org/", "feed", max_depth=4)
    assert "max_depth" in str(caught.value) and "site" in str(caught.value)
    with pytest.raises(InputError, match="unknown field"):
        new_source("ok", "https://a.org/", "feed", colour="red")


def test_the_cli_offers_exactly_the_library_kinds():
    assert typing.get_args(sources_cli.Kind) == KINDS


def test_writers_take_turns_under_the_kb_write_lock(kb):
    path = registry(kb)
    errors: list[BaseException] = []

    def add(n: int) -> None:
        try:
            add_source(path, new_source(f"s{n}", f"https://s{n}.example.org/feed"), lock_timeout=30)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(s.name for s in load_sources(path)) == sorted(f"s{n}" for n in range(12))  # no update lost


def test_a_held_write_lock_makes_add_wait_then_fail_cleanly(kb, monkeypatch):
    smkb("sources", "add", "first", "https://first.example.org/feed", kb=kb)
    before = registry(kb).read_text()
    monkeypatch.setenv("SMKB_LOCK_TIMEOUT", "0.3")
    with WriteLock(kb / "corpus" / "write.lock", timeout=5):
        blocked = smkb("sources", "add", "second", "https://second.example.org/feed", kb=kb)
    assert "another smkb command" in one_line_error(blocked)
    assert registry(kb).read_text() == before


def test_help_and_readme():
    for args in (["sources"], ["sources", "add"], ["sources", "list"], ["sources", "remove"], ["sources", "starter"]):
        result = smkb(*args, "--help")
        assert result.exit_code == 0 and "Usage:" in result.stdout
    readme = (REPO / "README.md").read_text()
    for command in ("add", "list", "remove", "starter"):
        assert f"smkb sources {command}" in readme


def test_sources_type_is_a_plain_dataclass():
    source = Source(name="a", url="https://a.org/")
    assert source.kind == "feed" and source.max_depth == 2 and source.same_site is True and source.added is None
