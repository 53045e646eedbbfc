"""`smkb crawl` against a real site on 127.0.0.1 built from real pages, feeds and sitemaps.

One module-wide scenario registers a feed, a sitemap index and a site, crawls twice (one article
changed in between) and keeps what the server saw; the tests below assert on it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SHARED_DATA, require_shared, smkb
from crawl_site import CrawlSite, SeenRequest

from shadowmatch_kb.config import DEFAULT_USER_AGENT
from shadowmatch_kb.ingest.readers import item_id_for
from shadowmatch_kb.store.sqlite import SqliteStore

CRAWL_DELAY = 0.1
CHANGED = "/articles/korea-solar-costs.html"


@dataclass
class Scenario:
    site: CrawlSite
    kb: Path
    first: dict
    first_exit: int
    first_seen: list[SeenRequest]
    second: dict
    second_exit: int
    second_seen: list[SeenRequest]


def _crawl_json(kb: Path, *args: str) -> tuple[dict, int]:
    result = smkb("crawl", "--json", "--delay", "0", "--timeout", "1", *args, kb=kb)
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout), result.exit_code


def _register(kb: Path, site: CrawlSite) -> None:
    for args in (
        ("news", site.url("/feed.xml"), "--kind", "feed"),
        ("maps", site.url("/sitemap_index.xml"), "--kind", "sitemap"),
        ("site", site.url("/site/"), "--kind", "site", "--max-depth", "3"),
    ):
        result = smkb("sources", "add", *args, "--allow-private", kb=kb)
        assert result.exit_code == 0, result.stderr


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Scenario:
    require_shared("extraction", "zyte")
    require_shared("feeds")
    site = CrawlSite(SHARED_DATA, crawl_delay=CRAWL_DELAY, timeout_hint=1.0)
    site.start()
    try:
        kb = tmp_path_factory.mktemp("crawl") / "kb"
        _register(kb, site)
        first, first_exit = _crawl_json(kb)
        first_seen = site.seen()
        # The changed page keeps the real article, with a correction added.
        body = _page(site, CHANGED).replace(
            b"</body>", b"<p>Correction: an earlier version misstated a figure.</p></body>"
        )
        site.change(CHANGED, body)
        site.reset_log()
        second, second_exit = _crawl_json(kb)
        yield Scenario(site, kb, first, first_exit, first_seen, second, second_exit, site.seen())
    finally:
        site.stop()


def _page(site: CrawlSite, path: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(site.url(path), timeout=5) as response:
        return response.read()


def _outcomes(kb: Path) -> dict[str, tuple[str, str | None, str | None]]:
    store = SqliteStore(kb / "corpus" / "kb.sqlite")
    try:
        rows = store.db.execute("SELECT url, outcome, reason, item_id FROM crawl_urls").fetchall()
    finally:
        store.close()
    return {row[0].split("/", 3)[3]: (row[1], row[2], row[3]) for row in rows}


def _store(kb: Path) -> SqliteStore:
    return SqliteStore(kb / "corpus" / "kb.sqlite")


# ----- the first crawl ----------------------------------------------------------------------------


def test_first_crawl_reports_every_outcome(scenario: Scenario) -> None:
    report = scenario.first
    # Some URLs failed (404, 500, a loop, a huge page, a slow one): exit 1 after crawling the rest.
    assert scenario.first_exit == 1
    assert set(report["sources"]) == {"news", "maps", "site"}
    counts = report["counts"]
    assert counts["added"] >= 14 and counts["listed"] == 4  # feed, sitemap index, sitemap, news sitemap
    assert counts["duplicate"] == 1 and counts["updated"] == 0
    assert sum(report["sources"]["news"].values()) >= 11  # the feed and its 10 articles
    assert report["remaining"] == 0 and report["stopped"] is None
    reasons = {failure["url"].split("/", 3)[3]: failure["reason"] for failure in report["failures"]}
    assert set(reasons) == {"missing.html", "error.html", "loop/a", "huge.html", "slow.html"}
    assert reasons["missing.html"] == "HTTP 404 Not Found"
    assert "500" in reasons["error.html"] and "after 4 attempts" in reasons["error.html"]
    assert "redirect loop" in reasons["loop/a"]
    assert "larger than" in reasons["huge.html"]
    assert "timed out" in reasons["slow.html"]
    for failure in report["failures"]:
        assert "\n" not in failure["reason"] and failure["source"] == "site"


def test_pages_that_are_not_articles_are_skipped_with_a_reason(scenario: Scenario) -> None:
    outcomes = _outcomes(scenario.kb)
    assert outcomes["paper.pdf"][:2] == ("skipped", "not a page: application/pdf")
    assert outcomes["photo.png"][:2] == ("skipped", "not a page: image/png")
    assert outcomes["private/secret.html"][:2] == ("skipped", "disallowed by robots.txt")
    skipped = {entry["url"].split("/", 3)[3]: entry["reason"] for entry in scenario.first["skipped"]}
    assert skipped["short.html"].startswith("not an article: only")
    assert skipped["tags/index.html"].startswith("not an article: an index page")


def test_robots_txt_is_obeyed_and_nothing_leaves_the_site(scenario: Scenario) -> None:
    for seen in (scenario.first_seen, scenario.second_seen):
        paths = [request.path for request in seen]
        assert not [path for path in paths if path.startswith("/private/")]
        # robots.txt once per crawl, before anything else on the site.
        assert paths.count("/robots.txt") == 1 and paths[0] == "/robots.txt"
        # An honest user agent on every request, naming the tool and where to learn about it.
        assert {request.headers["user-agent"] for request in seen} == {DEFAULT_USER_AGENT}
    outcomes = _outcomes(scenario.kb)
    assert not [url for url in outcomes if "example.org" in url or url.startswith("mailto")]


def test_crawl_delay_is_kept_between_all_requests(scenario: Scenario) -> None:
    for seen in (scenario.first_seen, scenario.second_seen):
        starts = sorted(request.at for request in seen)
        gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
        assert len(gaps) > 20
        # Every request, retries and redirect hops included, starts Crawl-delay after the last one. The
        # server logs arrivals, which a new connection or a busy core can shift by a few hundredths,
        # so the check is on nearly all gaps and on their mean; ignoring the delay fails both.
        kept = [gap for gap in gaps if gap >= CRAWL_DELAY * 0.9]
        assert len(kept) >= 0.9 * len(gaps), sorted(gaps)[:8]
        assert sum(gaps) / len(gaps) >= CRAWL_DELAY * 0.98


def test_retries_honour_retry_after_and_back_off(scenario: Scenario) -> None:
    busy = [r.at for r in scenario.first_seen if r.path == "/busy.html"]
    assert len(busy) == 2 and busy[1] - busy[0] >= 1.0  # 429 with Retry-After: 1, then 200
    assert len([r for r in scenario.first_seen if r.path == "/flaky.html"]) == 2  # 503 once, then 200
    errors = [r.at for r in scenario.first_seen if r.path == "/error.html"]
    assert len(errors) == 4  # the first try and three retries
    waits = [b - a for a, b in zip(errors, errors[1:], strict=False)]
    assert waits[1] > waits[0] * 1.5 and waits[2] > waits[1] * 1.5  # exponential backoff
    outcomes = _outcomes(scenario.kb)
    assert outcomes["busy.html"][0] in ("added", "unchanged") and outcomes["flaky.html"][0] in ("added", "unchanged")


def test_one_item_per_canonical_url_and_per_text(scenario: Scenario) -> None:
    site = scenario.site
    outcomes = _outcomes(scenario.kb)
    # The ?utm_source link was canonicalised to the article's own URL: one frontier row, one item.
    assert not [url for url in outcomes if "utm_" in url]
    # A redirect lands on the article it points to: the same item, not a second one.
    redirect_item = outcomes["redirect/start"][2]
    assert redirect_item == item_id_for(site.url(site.redirect_target))
    # Byte-identical copy at another URL: counted as a duplicate and not stored again.
    copy_path, original_path = next(iter(site.copy_of.items()))
    outcome, reason, item_id = outcomes[copy_path.lstrip("/")]
    assert outcome in ("duplicate", "unchanged") and item_id == item_id_for(site.url(original_path))
    store = _store(scenario.kb)
    try:
        ids = set(store.content_hashes())
        assert item_id_for(site.url(copy_path)) not in ids
        # The syndicated copy in another template is stored, linked to its original.
        syndicated, original = next(iter(site.syndicated_of.items()))
        copy = store.get(item_id_for(site.url(syndicated)))
        assert copy.duplicate_of == item_id_for(site.url(original))
        stats = store.stats()
        assert stats["duplicates"] == 1 and stats["unique_items"] == stats["items"] - 1
    finally:
        store.close()


def test_depth_limit_and_encodings_and_language(scenario: Scenario) -> None:
    site = scenario.site
    store = _store(scenario.kb)
    try:
        deepest = store.get(item_id_for(site.url("/site/section/deeper/deepest.html")))
        assert deepest.title
        latin1 = store.get(item_id_for(site.url("/latin1.html")))
        assert latin1.language == "de"
        assert "ä" in latin1.text or "ü" in latin1.text or "ö" in latin1.text
        assert "Ã" not in latin1.text
        broken = store.get(item_id_for(site.url("/broken-utf8.html")))
        assert "â€" not in broken.text and "\u2019" in broken.text
        for item in store.get_many(list(store.content_hashes())).values():
            assert item.language, item.url
    finally:
        store.close()


def test_raw_pages_are_kept_compressed(scenario: Scenario) -> None:
    site = scenario.site
    store = _store(scenario.kb)
    try:
        path = site.article_paths[0]
        raw = store.raw_input(item_id_for(site.url(path)))
        assert raw is not None and raw.media_type == "text/html"
        assert raw.content == _page(site, path)
        stored = store.db.execute("SELECT length(compressed) FROM raw_inputs WHERE input = ?", (site.url(path),))
        assert stored.fetchone()[0] < len(raw.content) / 2
    finally:
        store.close()


def test_crawled_items_are_searchable(scenario: Scenario) -> None:
    result = smkb("search", "WeWork layoffs", "--json", kb=scenario.kb)
    assert result.exit_code == 0, result.stderr
    titles = [hit["title"] for hit in json.loads(result.stdout)["results"]]
    assert any("WeWork" in title for title in titles[:2])
    # The syndicated copy is counted once: only one WeWork result.
    assert sum("WeWork" in title for title in titles) == 1


def test_crawled_items_are_enriched_with_grounded_rows(scenario: Scenario) -> None:
    store = _store(scenario.kb)
    try:
        # Both crawls enrich what they store, the page changed by the second one included.
        assert store.db.execute("SELECT count(*) FROM items WHERE enrichment IS NULL").fetchone()[0] == 0
        items = [store.get(row[0]) for row in store.db.execute("SELECT id FROM items WHERE duplicate_of IS NULL")]
    finally:
        store.close()
    english = [item for item in items if item.language == "en"]
    assert english and all(item.summary and item.keywords and len(item.themes) == 3 for item in english)
    wework = next(item for item in items if "WeWork" in item.title)
    assert wework.signals and all(row.evidence in wework.text for row in wework.signals)


# ----- the second crawl ---------------------------------------------------------------------------


def test_second_crawl_fetches_only_what_changed(scenario: Scenario) -> None:
    counts = scenario.second["counts"]
    assert counts["added"] == 0 and counts["updated"] == 1
    assert counts["unchanged"] >= 20
    article_requests = [r for r in scenario.second_seen if r.path.startswith("/articles/")]
    assert article_requests and all("if-none-match" in r.headers for r in article_requests)
    store = _store(scenario.kb)
    try:
        # Re-extracted from the new bytes, which are kept as the item's raw page.
        raw = store.raw_input(item_id_for(scenario.site.url(CHANGED)))
        assert raw is not None and b"Correction: an earlier version misstated a figure." in raw.content
    finally:
        store.close()


def test_second_crawl_revisits_listings_through_their_kept_bodies(scenario: Scenario) -> None:
    paths = {r.path for r in scenario.second_seen}
    # The feed and the start page answered 304, yet the pages they list were still checked.
    assert {"/feed.xml", "/site/", "/site/section/deeper/deepest.html"} <= paths
    assert set(scenario.site.article_paths) <= paths


# ----- smaller crawls -----------------------------------------------------------------------------


@pytest.fixture
def site():
    require_shared("extraction", "zyte")
    require_shared("feeds")
    with CrawlSite(SHARED_DATA, crawl_delay=0.0, timeout_hint=1.0) as running:
        yield running


def _library_crawl(kb: Path, **options):
    from shadowmatch_kb.crawl.run import CrawlOptions
    from shadowmatch_kb.fetch.async_http import FetchOptions
    from shadowmatch_kb.kb import KnowledgeBase

    with KnowledgeBase.open(kb) as opened:
        opened.pipeline._sync = lambda progress: None  # these tests look at the record, not the index
        return opened.crawl(
            options=CrawlOptions(
                delay=0.0,
                workers=0,
                fetch=FetchOptions(user_agent=opened.config.user_agent, timeout=1.0, backoff=0.05),
                **options,
            )
        )


def test_max_pages_stops_and_the_next_crawl_resumes(site: CrawlSite, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    assert smkb("sources", "add", "news", site.url("/feed.xml"), "--allow-private", kb=kb).exit_code == 0
    first = _library_crawl(kb, max_pages=4)
    assert first.stopped == "--max-pages 4 reached"
    assert first.counts["added"] == 3 and first.remaining == 7
    second = _library_crawl(kb)
    assert second.resumed == 7 and second.counts["added"] == 7 and second.remaining == 0
    # The three articles of the first crawl were only checked again (304), not re-extracted.
    assert second.counts["unchanged"] == 4  # the feed and the first three articles


def test_since_skips_older_feed_entries(site: CrawlSite, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SMKB_USER_AGENT", "labour-watch/2.0 (+mailto:analyst@example.org)")
    kb = tmp_path / "kb"
    assert smkb("sources", "add", "news", site.url("/feed.xml"), "--allow-private", kb=kb).exit_code == 0
    report = _library_crawl(kb, since="2099-01-01")
    assert report.older_than_since == 10 and report.counts["added"] == 0
    assert [r.path for r in site.seen()] == ["/robots.txt", "/feed.xml"]
    assert {r.headers["user-agent"] for r in site.seen()} == {"labour-watch/2.0 (+mailto:analyst@example.org)"}


def test_site_crawl_respects_max_depth_and_deny_patterns(site: CrawlSite, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    args = ("sources", "add", "site", site.url("/site/"), "--kind", "site", "--max-depth", "1", "--allow-private")
    assert smkb(*args, "--deny", "/(loop|slow|huge|error|busy|flaky)", kb=kb).exit_code == 0
    _library_crawl(kb)
    paths = {r.path for r in site.seen()}
    assert "/site/section/" in paths and "/site/section/deeper/" not in paths
    assert not {"/loop/a", "/slow.html", "/huge.html", "/error.html"} & paths


def test_private_addresses_are_refused_unless_the_source_allows_them(
    site: CrawlSite, tmp_path: Path, monkeypatch
) -> None:
    from shadowmatch_kb.fetch import pinned

    async def rebinding(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]  # a public-looking name that resolves to this machine

    monkeypatch.setattr(pinned, "resolve_host", rebinding)
    kb = tmp_path / "kb"
    port = site.base_url.rsplit(":", 1)[1]
    assert smkb("sources", "add", "sneaky", f"http://news.example:{port}/feed.xml", kb=kb).exit_code == 0
    report = _library_crawl(kb)
    assert report.counts["added"] == 0
    assert site.seen() == []
    # robots.txt could not be read (refused), so RFC 9309 says: fetch nothing from that site.
    assert report.counts["skipped"] == 1 and "robots.txt could not be read" in " ".join(report.notes)


def test_a_second_crawl_at_once_is_refused(site: CrawlSite, tmp_path: Path) -> None:
    from shadowmatch_kb.store.lock import WriteLock

    kb = tmp_path / "kb"
    assert smkb("sources", "add", "news", site.url("/feed.xml"), "--allow-private", kb=kb).exit_code == 0
    with WriteLock(kb / "corpus" / "crawl.lock"):
        result = smkb("crawl", kb=kb)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: another `smkb crawl` is running on {kb.resolve()}; wait for it"


def test_a_killed_crawl_leaves_a_consistent_record_and_resumes(site: CrawlSite, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    args = ("sources", "add", "site", site.url("/site/"), "--kind", "site", "--max-depth", "3", "--allow-private")
    assert smkb(*args, "--deny", "/(slow|huge|error|busy|flaky)", kb=kb).exit_code == 0
    command = [sys.executable, "-m", "shadowmatch_kb", "--kb", str(kb), "crawl", "--delay", "0.3", "--json"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 30
    while len([r for r in site.seen() if r.path.startswith("/articles/")]) < 3:
        assert time.monotonic() < deadline and process.poll() is None, process.stderr.read() if process.stderr else ""
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert smkb("doctor", kb=kb).exit_code == 0
    report = _library_crawl(kb)
    assert report.resumed > 0 and report.remaining == 0
    store = _store(kb)
    try:
        assert store.check() == []
        queued = store.db.execute("SELECT count(*) FROM crawl_urls WHERE queued = 1").fetchone()[0]
        assert queued == 0
        # Every article of the site is stored exactly once despite the kill.
        for path in site.article_paths[:4]:
            assert store.state(item_id_for(site.url(path))) is not None
    finally:
        store.close()


# ----- the command line -----------------------------------------------------------------------------


def test_crawl_without_sources_is_a_clear_error(tmp_path: Path) -> None:
    result = smkb("crawl", kb=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no sources registered")


def test_crawl_of_an_unknown_source_names_the_known_ones(tmp_path: Path) -> None:
    assert smkb("sources", "add", "ilo", "https://www.ilo.org/rss", kb=tmp_path).exit_code == 0
    result = smkb("crawl", "nope", kb=tmp_path)
    assert result.exit_code == 1
    assert "no source named nope (registered: ilo)" in result.stderr


def test_crawl_rejects_a_bad_date(tmp_path: Path) -> None:
    assert smkb("crawl", "--since", "last week", kb=tmp_path).exit_code == 2
