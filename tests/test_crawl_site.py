"""The crawl test site itself: every page answers as the crawler tests expect, checked with plain http.client."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import pytest
from conftest import SHARED_DATA, require_shared
from crawl_site import HUGE_SIZE, SPECIAL_ARTICLES, CrawlSite, _absolutize, running_site
from lxml import html as lxml_html

from shadowmatch_kb.crawl.discover import parse_feed, parse_sitemap
from shadowmatch_kb.extract.html import extract_article
from shadowmatch_kb.fetch.async_http import DEFAULT_USER_AGENT
from shadowmatch_kb.fetch.decode import decode_body
from shadowmatch_kb.fetch.robots import RobotsPolicy

TIMEOUT_HINT = 0.3


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes


def _require_data() -> None:
    require_shared("extraction", "zyte")
    require_shared("extraction", "trafilatura_eval")
    require_shared("feeds")


@pytest.fixture(scope="module")
def site() -> Iterator[CrawlSite]:
    _require_data()
    with running_site(SHARED_DATA, timeout_hint=TIMEOUT_HINT) as running:
        yield running
    assert running.errors == []


@pytest.fixture
def fresh_site() -> Iterator[CrawlSite]:
    """A site of its own, for tests that change pages or rely on a page's first answer."""
    _require_data()
    with running_site(SHARED_DATA, timeout_hint=TIMEOUT_HINT) as running:
        yield running
    assert running.errors == []


def connect(site: CrawlSite, timeout: float = 5.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", urlsplit(site.base_url).port, timeout=timeout)


def ask(conn: http.client.HTTPConnection, path: str, method: str = "GET", **headers: str) -> Reply:
    conn.request(method, path, headers={name.replace("_", "-"): value for name, value in headers.items()})
    response = conn.getresponse()
    body = response.read()
    return Reply(response.status, {name.lower(): value for name, value in response.getheaders()}, body)


def get(site: CrawlSite, path: str, method: str = "GET", **headers: str) -> Reply:
    conn = connect(site)
    try:
        return ask(conn, path, method, **headers)
    finally:
        conn.close()


def hrefs(body: bytes) -> list[str]:
    return [str(href) for href in lxml_html.fromstring(body).xpath("//a/@href")]


def article_text(reply: Reply, url: str) -> str:
    charset = reply.headers["content-type"].partition("charset=")[2] or None
    return extract_article(decode_body(reply.body, charset), url=url).text


def shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 4]) for i in range(len(words) - 3)}


def ground_truth() -> dict[str, dict[str, str]]:
    return json.loads((SHARED_DATA / "extraction" / "zyte" / "ground-truth.json").read_text(encoding="utf-8"))


# --- robots, feeds, sitemaps ------------------------------------------------------------------------


def test_robots_txt_disallows_private_sets_the_delay_and_names_the_sitemap_index(site: CrawlSite) -> None:
    reply = get(site, "/robots.txt")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/plain")
    policy = RobotsPolicy.parse(reply.body.decode(), DEFAULT_USER_AGENT)
    assert not policy.allows(site.url("/private/secret.html"))
    assert all(policy.allows(site.url(path)) for path in [*site.article_paths, "/site/", "/flaky.html"])
    assert policy.crawl_delay == pytest.approx(0.2)
    assert policy.sitemaps == [site.url("/sitemap_index.xml")]


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/feed.xml", "application/rss+xml"),
        ("/atom.xml", "application/atom+xml"),
        ("/feed.json", "application/feed+json"),
    ],
)
def test_each_feed_lists_exactly_the_site_articles_with_titles_and_dates(
    site: CrawlSite, path: str, media_type: str
) -> None:
    reply = get(site, path)
    assert reply.status == 200 and reply.headers["content-type"].split(";")[0] == media_type
    links = parse_feed(reply.body, base_url=site.url(path))
    assert [link.url for link in links] == [site.url(article) for article in site.feed_paths]
    assert all(link.title and link.published for link in links)
    assert get(site, path, If_None_Match=reply.headers["etag"]).status == 304


def test_sitemap_index_leads_to_a_urlset_and_a_gzipped_news_sitemap(site: CrawlSite) -> None:
    index = get(site, "/sitemap_index.xml")
    assert index.headers["content-type"].startswith("application/xml")
    children = parse_sitemap(index.body, base_url=site.url("/sitemap_index.xml"))
    assert [(link.url, link.kind) for link in children] == [
        (site.url("/sitemap.xml"), "sitemap"),
        (site.url("/sitemap-news.xml.gz"), "sitemap"),
    ]
    urlset = parse_sitemap(get(site, "/sitemap.xml").body, base_url=site.url("/sitemap.xml"))
    assert [link.url for link in urlset] == [site.url(path) for path in site.sitemap_paths]
    assert {"/redirect/start", "/private/secret.html"} <= set(site.sitemap_paths)

    news = get(site, "/sitemap-news.xml.gz")
    assert news.headers["content-type"] == "application/gzip" and news.body[:2] == b"\x1f\x8b"
    assert b"sitemap-news" in gzip.decompress(news.body)  # still the real news sitemap's namespace
    links = parse_sitemap(news.body, base_url=site.url("/sitemap-news.xml.gz"))
    assert [link.url for link in links] == [site.url(path) for path in site.news_sitemap_paths]
    assert all(link.title and link.published for link in links)
    assert get(site, "/sitemap-news.xml.gz", If_None_Match=news.headers["etag"]).status == 304


# --- articles and validators ------------------------------------------------------------------------


def test_articles_are_the_real_pages_and_extract_to_their_real_text(site: CrawlSite) -> None:
    truth = ground_truth()
    host = urlsplit(site.base_url).netloc
    for path in site.article_paths:
        reply = get(site, path)
        assert reply.status == 200 and reply.headers["content-type"] == "text/html; charset=utf-8"
        text = article_text(reply, site.url(path))
        assert len(text) > 1000, path
        page_id = site.sources[path].rsplit("/", 1)[-1].removesuffix(".html.gz")
        # Precision, not recall: the extractor keeps only part of some pages, but all it keeps is the story.
        found = shingles(text)
        assert len(found & shingles(truth[page_id]["articleBody"])) / len(found) > 0.8, path
        # Relative links now lead back to the original publisher, never into this site.
        links = [urljoin(site.url(path), href) for href in hrefs(reply.body) if not href.startswith("#")]
        assert links and not [link for link in links if urlsplit(link).netloc == host], path


def test_special_pages_that_serve_an_article_extract_to_more_than_1000_characters(site: CrawlSite) -> None:
    paths = [p for p in SPECIAL_ARTICLES if p not in ("/flaky.html", "/busy.html", "/slow.html")]
    for path in [*paths, "/latin1.html", "/broken-utf8.html", *site.copy_of, *site.syndicated_of]:
        reply = get(site, path)
        assert reply.status == 200, path
        assert len(article_text(reply, site.url(path))) > 1000, path


def test_conditional_requests_get_304_and_head_gets_headers_only(site: CrawlSite) -> None:
    path = site.article_paths[0]
    first = get(site, path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert re.fullmatch(r'"[0-9a-f]{24}"', etag)

    not_modified = get(site, path, If_None_Match=etag)
    assert (not_modified.status, not_modified.body, not_modified.headers["etag"]) == (304, b"", etag)
    assert get(site, path, If_None_Match=f'"other", W/{etag}').status == 304
    assert get(site, path, If_Modified_Since=modified).status == 304
    # If-None-Match decides when both are sent, so a stale tag means a full answer.
    assert get(site, path, If_None_Match='"stale"', If_Modified_Since=modified).status == 200
    earlier = formatdate(parsedate_to_datetime(modified).timestamp() - 86400, usegmt=True)
    assert get(site, path, If_Modified_Since=earlier).body == first.body
    assert get(site, path, If_Modified_Since="not a date").status == 200

    head = get(site, path, "HEAD")
    assert (head.status, head.body, head.headers["content-length"]) == (200, b"", str(len(first.body)))


def test_change_gives_a_new_etag_and_a_later_last_modified(fresh_site: CrawlSite) -> None:
    path = fresh_site.article_paths[1]
    before = get(fresh_site, path)
    new_body = before.body.replace(b"</body>", b"<p>Updated: a correction was added.</p></body>")
    fresh_site.change(path, new_body)

    after = get(fresh_site, path, If_None_Match=before.headers["etag"])
    assert (after.status, after.body) == (200, new_body)
    assert after.headers["etag"] != before.headers["etag"]
    older, newer = (parsedate_to_datetime(reply.headers["last-modified"]) for reply in (before, after))
    assert newer > older
    assert get(fresh_site, path, If_Modified_Since=before.headers["last-modified"]).status == 200
    assert get(fresh_site, path, If_None_Match=after.headers["etag"]).status == 304

    fresh_site.change("/articles/new-story.html", b"<html><body><p>New.</p></body></html>")
    added = get(fresh_site, "/articles/new-story.html")
    assert (added.status, added.headers["content-type"]) == (200, "text/html; charset=utf-8")


# --- the start page and its links -----------------------------------------------------------------


def test_start_page_links_to_every_case(site: CrawlSite) -> None:
    links = hrefs(get(site, "/site/").body)
    expected = [
        *[f"/articles/{name}.html" for name in ("gannett-local-news", "future-of-banking", "wework-layoffs")],
        "/articles/gannett-local-news.html?utm_source=newsletter",
        "/site/section/", "/private/secret.html", "https://example.org/x", "mailto:desk@harbourlane.invalid",
        "#top", "/redirect/start", "/loop/a", "/missing.html", "/error.html", "/flaky.html", "/busy.html",
        "/slow.html", "/huge.html", "/paper.pdf", "/photo.png", "/latin1.html", "/broken-utf8.html",
        "/short.html", "/tags/index.html", *site.syndicated_of, *site.copy_of,
    ]  # fmt: skip
    assert [href for href in expected if href not in links] == []


def test_the_deepest_page_is_three_links_from_the_start(site: CrawlSite) -> None:
    deepest = "/site/section/deeper/deepest.html"
    assert "/site/section/deeper/" in hrefs(get(site, "/site/section/").body)
    assert deepest in hrefs(get(site, "/site/section/deeper/").body)
    for shallower in ("/site/", "/site/section/", "/tags/index.html"):
        assert deepest not in hrefs(get(site, shallower).body)
    assert get(site, deepest).status == 200


def test_tag_index_is_forty_links_with_teasers_and_short_page_is_two_sentences(site: CrawlSite) -> None:
    tags = lxml_html.fromstring(get(site, "/tags/index.html").body)
    items = tags.xpath("//ul[@class='topics']/li")
    assert len(items) == 40
    assert all(item.xpath("a/@href")[0] in site.article_paths for item in items)
    assert all(len(item.text_content()) < 80 for item in items)
    short = lxml_html.fromstring(get(site, "/short.html").body).xpath("//main/p")
    assert [len(re.findall(r"[.!?](?:\s|$)", p.text_content())) for p in short] == [2]


def test_copy_is_identical_and_syndicated_is_the_same_story_in_another_template(site: CrawlSite) -> None:
    (copy_path, original_path), (syndicated_path, story_path) = *site.copy_of.items(), *site.syndicated_of.items()
    copy, original = get(site, copy_path), get(site, original_path)
    assert copy.body == original.body and copy.headers["etag"] == original.headers["etag"]

    syndicated, story = get(site, syndicated_path), get(site, story_path)
    assert b"This story first appeared on therealdeal.com" in syndicated.body
    assert syndicated.body != story.body
    ours, theirs = shingles(article_text(syndicated, syndicated_path)), shingles(article_text(story, story_path))
    assert len(ours & theirs) / len(theirs) > 0.8


# --- redirects and failures -----------------------------------------------------------------------


def test_redirect_chain_and_loop(site: CrawlSite) -> None:
    start = get(site, "/redirect/start")
    assert (start.status, start.headers["location"]) == (301, site.url("/redirect/middle"))
    middle = get(site, "/redirect/middle")
    assert (middle.status, middle.headers["location"]) == (302, site.redirect_target)
    assert get(site, site.redirect_target).status == 200
    assert get(site, "/loop/a").headers["location"] == "/loop/b"
    assert get(site, "/loop/b").headers["location"] == "/loop/a"


def test_missing_and_error_pages(site: CrawlSite) -> None:
    for path, status in [("/missing.html", 404), ("/no/such/page", 404), ("/error.html", 500), ("/error.html", 500)]:
        reply = get(site, path)
        assert (reply.status, reply.headers["content-type"]) == (status, "text/html; charset=utf-8"), path
        assert reply.headers["content-length"] == str(len(reply.body))


def test_flaky_and_busy_fail_once_then_serve_an_article(fresh_site: CrawlSite) -> None:
    assert get(fresh_site, "/flaky.html").status == 503
    busy = get(fresh_site, "/busy.html")
    assert (busy.status, busy.headers["retry-after"]) == (429, "1")
    for path in ("/flaky.html", "/busy.html"):
        reply = get(fresh_site, path)
        assert reply.status == 200 and len(article_text(reply, path)) > 1000


def test_slow_page_answers_only_after_the_timeout_hint(fresh_site: CrawlSite) -> None:
    began = time.monotonic()
    with pytest.raises(TimeoutError):
        get_with_timeout(fresh_site, "/slow.html", TIMEOUT_HINT)
    gave_up = time.monotonic()
    (logged,) = fresh_site.seen("/slow.html")
    assert began <= logged.at < gave_up  # logged on arrival, not after the wait

    began = time.monotonic()
    assert get(fresh_site, "/slow.html").status == 200
    assert time.monotonic() - began >= TIMEOUT_HINT + 0.9


def get_with_timeout(site: CrawlSite, path: str, timeout: float) -> Reply:
    conn = connect(site, timeout=timeout)
    try:
        return ask(conn, path)
    finally:
        conn.close()


# --- other content types --------------------------------------------------------------------------


def test_huge_page_is_valid_html_over_12_mb_streamed_with_its_length(site: CrawlSite) -> None:
    head = get(site, "/huge.html", "HEAD")
    assert head.headers["content-length"] == str(HUGE_SIZE) and HUGE_SIZE > 12_000_000
    reply = get(site, "/huge.html")
    assert len(reply.body) == HUGE_SIZE
    assert reply.body.startswith(b"<!DOCTYPE html>") and reply.body.endswith(b"</html>\n")
    # A client that stops reading early must not upset the server.
    conn = connect(site)
    conn.request("GET", "/huge.html")
    conn.getresponse().read(1_000_000)
    conn.close()
    assert get(site, "/short.html").status == 200


def test_pdf_and_png_are_what_they_say(site: CrawlSite) -> None:
    pdf = get(site, "/paper.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body.startswith(b"%PDF-1.4") and pdf.body.rstrip().endswith(b"%%EOF")
    xref_at = int(pdf.body.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf.body[xref_at:].startswith(b"xref")

    png = get(site, "/photo.png")
    assert png.headers["content-type"] == "image/png" and png.body.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png.body[16:24])
    idat_length = struct.unpack(">I", png.body[33:37])[0]
    assert png.body[37:41] == b"IDAT"
    assert len(zlib.decompress(png.body[41 : 41 + idat_length])) == height * (1 + 3 * width)


def test_latin1_page_declares_its_charset_only_in_a_meta_tag(site: CrawlSite) -> None:
    reply = get(site, "/latin1.html")
    assert reply.headers["content-type"] == "text/html"
    with pytest.raises(UnicodeDecodeError):
        reply.body.decode("utf-8")
    assert b'<meta charset="windows-1252">' in reply.body[:1024]
    assert b"\x96" in reply.body  # an en dash, a byte only windows-1252 gives meaning to
    assert "Aufsichtsräten" in reply.body.decode("cp1252")


def test_broken_utf8_page_is_the_real_page_with_four_bad_sequences(site: CrawlSite) -> None:
    reply = get(site, "/broken-utf8.html")
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    with pytest.raises(UnicodeDecodeError):
        reply.body.decode("utf-8")
    text = reply.body.decode("utf-8", errors="replace")
    assert text.count("\ufffd") == 4
    raw = gzip.decompress((SHARED_DATA / site.sources["/broken-utf8.html"]).read_bytes())
    real = _absolutize(raw, site.original_urls["/broken-utf8.html"])
    assert text.replace("\ufffd", "\u2019") == real.decode("utf-8")


# --- the log and the connection -------------------------------------------------------------------


def test_log_records_every_request_with_its_time(fresh_site: CrawlSite) -> None:
    fresh_site.reset_log()
    began = time.monotonic()
    get(fresh_site, "/site/?page=2", X_Probe="yes")
    get(fresh_site, "/robots.txt", "HEAD")
    get(fresh_site, "/missing.html")
    ended = time.monotonic()

    seen = fresh_site.seen()
    assert [(r.method, r.path) for r in seen] == [
        ("GET", "/site/?page=2"),
        ("HEAD", "/robots.txt"),
        ("GET", "/missing.html"),
    ]
    assert seen[0].headers["x-probe"] == "yes" and "host" in seen[0].headers
    assert began <= seen[0].at <= seen[1].at <= seen[2].at <= ended
    assert [r.path for r in fresh_site.seen("/site/")] == ["/site/?page=2"]
    assert fresh_site.paths_seen() == ["/site/?page=2", "/robots.txt", "/missing.html"]
    fresh_site.reset_log()
    assert fresh_site.seen() == []


def test_one_connection_carries_many_requests(site: CrawlSite) -> None:
    conn = connect(site)
    try:
        first = ask(conn, site.article_paths[2])
        sock = conn.sock
        statuses = [
            ask(conn, "/missing.html").status,
            ask(conn, site.article_paths[2], If_None_Match=first.headers["etag"]).status,
            ask(conn, "/feed.xml", "HEAD").status,
            ask(conn, "/redirect/start").status,
        ]
        assert statuses == [404, 304, 200, 301]
        assert conn.sock is sock
    finally:
        conn.close()


def test_stop_closes_the_port_at_once(fresh_site: CrawlSite) -> None:
    began = time.monotonic()
    fresh_site.stop()
    assert time.monotonic() - began < 1.0
    with pytest.raises(ConnectionRefusedError):
        get(fresh_site, "/site/")
    fresh_site.stop()  # a second stop is harmless


def test_the_site_is_built_the_same_every_time(site: CrawlSite) -> None:
    with running_site(SHARED_DATA) as again:
        # Feeds, sitemaps and robots.txt name the port, so only the pages without it are compared.
        for path in ("/articles/retire-early.html", "/site/", "/tags/index.html", "/latin1.html", "/photo.png"):
            ours, theirs = get(site, path, "HEAD"), get(again, path, "HEAD")
            assert ours.headers["etag"] == theirs.headers["etag"], path
            assert ours.headers["last-modified"] == theirs.headers["last-modified"], path
        assert again.titles == site.titles
