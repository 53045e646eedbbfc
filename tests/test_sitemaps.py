"""Issue 17, sitemaps: cut short, feeds listed as sitemaps, titles, robots.txt sitemap lines, media types."""

from __future__ import annotations

import gzip
import json

import pytest
from conftest import require_shared

from shadowmatch_kb.crawl.discover import DiscoveredLink, detect_kind, parse_feed, parse_sitemap, sitemaps_from_robots
from shadowmatch_kb.errors import InputError
from shadowmatch_kb.fetch.async_http import accepts_page, accepts_sitemap
from shadowmatch_kb.fetch.robots import RobotsPolicy

BASE = "https://s.example/sitemap.xml"
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def urls(links: list[DiscoveredLink]) -> list[str]:
    return [link.url for link in links]


def fifty_entries() -> bytes:
    """A urlset of 50 entries, each with a <loc>, a <lastmod> and a news title."""
    entries = "".join(
        f"<url><loc>https://s.example/page-{n:02d}</loc><lastmod>2024-05-{n % 28 + 1:02d}</lastmod>"
        f"<news:news><news:title>Story {n}</news:title></news:news></url>\n"
        for n in range(50)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f"{NEWS_NS}>\n{entries}</urlset>\n"
    ).encode()


EXPECTED_50 = [f"https://s.example/page-{n:02d}" for n in range(50)]


def cut_in_last_entry(marker: bytes, extra: int = 0) -> bytes:
    """The 50-entry sitemap cut just after ``marker`` (plus ``extra`` bytes) inside its 50th entry."""
    body = fifty_entries()
    last = body.rindex(b"<url>")
    return body[: body.index(marker, last) + len(marker) + extra]


# --- cut short -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cut",
    [
        cut_in_last_entry(b"<loc>https://s.example/pa"),  # in the middle of a <loc>
        cut_in_last_entry(b"<loc>"),  # right after <loc>
        cut_in_last_entry(b"</lo"),  # inside the end tag of <loc>
        cut_in_last_entry(b"</loc>"),  # after <loc>, before </url>
        cut_in_last_entry(b"<lastmod>2024-"),  # in the middle of <lastmod>
        cut_in_last_entry(b"<news:title>Sto"),  # in the middle of the news title
        cut_in_last_entry(b"</url", 0),  # in the last entry's own end tag
        cut_in_last_entry(b"<url>"),  # just after the last entry's start tag
    ],
)
def test_a_sitemap_cut_in_its_50th_entry_gives_the_49_before(cut):
    # ultimate-sitemap-parser behaviour: a sitemap that ends abruptly keeps the pages read before the break.
    links = parse_sitemap(cut, base_url=BASE)
    assert urls(links) == EXPECTED_50[:49]
    assert links[0] == DiscoveredLink("https://s.example/page-00", "2024-05-01", "Story 0", "article")
    assert links[48].title == "Story 48"


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (fifty_entries()[: fifty_entries().rindex(b"</urlset>")], EXPECTED_50),  # every entry, no </urlset>
        (fifty_entries()[: fifty_entries().rindex(b"</urlset>") + 5], EXPECTED_50),  # cut in </urlset>
        (b"<urlset><url><loc>https://a.example/</loc></url>", ["https://a.example/"]),
    ],
)
def test_a_sitemap_cut_short_keeps_its_complete_entries(cut, expected):
    assert urls(parse_sitemap(cut, base_url=BASE)) == expected


def test_a_sitemap_with_garbage_after_some_entries_keeps_those_before():
    body = fifty_entries()
    broken = body[: body.index(b"<url>", body.index(b"page-10"))] + b"<url><loc>https://s.example/x</loc>\x00<</url>"
    assert urls(parse_sitemap(broken, base_url=BASE)) == EXPECTED_50[:11]


def test_a_sitemap_index_cut_short_keeps_its_complete_children():
    index = (
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>https://s.example/a.xml</loc><lastmod>2024-01-02</lastmod></sitemap>"
        b"<sitemap><loc>https://s.example/b.xml</loc></sitemap>"
        b"<sitemap><loc>https://s.example/c.x"
    )
    assert parse_sitemap(index, base_url=BASE) == [
        DiscoveredLink("https://s.example/a.xml", "2024-01-02", None, "sitemap"),
        DiscoveredLink("https://s.example/b.xml", None, None, "sitemap"),
    ]


@pytest.mark.parametrize(
    "cut",
    [
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://s.e',
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
        b"<urlset><url><loc>https://a.example/</loc>",
        b"<catalog><url><loc>https://a.example/</loc></url>",  # complete entries, but not of a sitemap
    ],
)
def test_a_sitemap_cut_before_any_complete_entry_is_still_an_error(cut):
    with pytest.raises(InputError, match="not well-formed XML"):
        parse_sitemap(cut, base_url=BASE)


def test_a_real_sitemap_cut_short_gives_the_entries_before_the_break():
    whole = require_shared("feeds", "advertools_sitemap_testing", "regular_sitemap.xml").read_bytes()
    complete = parse_sitemap(whole, base_url=BASE)
    assert len(complete) == 5
    # Cut in the middle of the fourth <loc>: the first three entries survive, each exactly as before.
    fourth = whole.index(b"<loc>", whole.index(b"item=73") + 10)
    assert parse_sitemap(whole[: fourth + 12], base_url=BASE) == complete[:3]


# --- feeds listed as sitemaps --------------------------------------------------------------------


def test_rss_and_atom_feeds_are_read_as_sitemaps():
    # The sitemaps.org protocol: "You can provide an RSS (Real Simple Syndication) 2.0 or Atom 0.3 or 1.0
    # feed" as a sitemap; its entries' links are the pages.
    rss = require_shared("feeds", "trafilatura_test_resources", "feed2.rss").read_bytes()
    atom = require_shared("feeds", "trafilatura_test_resources", "feed1.atom").read_bytes()
    assert parse_sitemap(rss, base_url=BASE) == parse_feed(rss, base_url=BASE)
    assert parse_sitemap(atom, base_url=BASE) == parse_feed(atom, base_url=BASE)
    assert "http://example.org/2003/12/13/atom03" in urls(parse_sitemap(atom, base_url=BASE))
    assert parse_sitemap(gzip.compress(rss), base_url=BASE) == parse_feed(rss, base_url=BASE)
    assert all(link.kind == "article" for link in parse_sitemap(atom, base_url=BASE))


def test_a_small_rss_sitemap_made_here():
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>One</title><link>https://s.example/1</link><pubDate>Fri, 01 Mar 2024 10:00:00 GMT</pubDate>"
        b"</item></channel></rss>"
    )
    assert parse_sitemap(rss, base_url=BASE) == [DiscoveredLink("https://s.example/1", "2024-03-01", "One", "article")]


def test_an_html_page_is_still_not_a_sitemap():
    with pytest.raises(InputError, match="got an HTML page, not a sitemap"):
        parse_sitemap(b"<html><body><a href='https://a.example/'>a</a></body></html>", base_url=BASE)


# --- titles: markup stripped first, then entities unescaped ---------------------------------------


def rss_titled(title: str) -> bytes:
    item = f"<item><title>{title}</title><link>https://s.example/1</link></item>"
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{item}</channel></rss>'.encode()


def atom_titled(title: str) -> bytes:
    entry = f'<entry><title type="html">{title}</title><link href="https://s.example/1"/></entry>'
    return f'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>{entry}</feed>'.encode()


def news_titled(title: str) -> bytes:
    news = f"<news:news><news:title>{title}</news:title></news:news>"
    body = f"<url><loc>https://s.example/1</loc>{news}</url>"
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" {NEWS_NS}>{body}</urlset>'.encode()


def json_titled(title: str) -> bytes:
    items = [{"id": "1", "url": "https://s.example/1", "title": title}]
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": items}).encode()


TITLES = [
    ("Jobs &lt;AI&gt; will change", "Jobs <AI> will change"),  # an escaped "<AI>" is the title's text
    ("Jobs &amp;lt;AI&amp;gt; will change", "Jobs <AI> will change"),  # escaped twice by its publisher
    ("&lt;b&gt;AI&lt;/b&gt; will change jobs", "AI will change jobs"),  # escaped HTML markup is markup
    ("<![CDATA[<em>AI</em> &amp; work]]>", "AI & work"),
    ("Pay &lt; 5 &amp; hours &gt; 40", "Pay < 5 & hours > 40"),
]


@pytest.mark.parametrize(("written", "expected"), TITLES)
def test_titles_lose_markup_before_entities_are_unescaped(written, expected):
    assert parse_feed(rss_titled(written), base_url=BASE)[0].title == expected
    assert parse_feed(atom_titled(written), base_url=BASE)[0].title == expected
    assert parse_sitemap(news_titled(written), base_url=BASE)[0].title == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Jobs <AI> will change", "Jobs <AI> will change"),  # JSON Feed titles are plain text
        ("Jobs &lt;AI&gt; will change", "Jobs <AI> will change"),
        ("<b>AI</b> at work", "AI at work"),
    ],
)
def test_json_feed_titles(written, expected):
    assert parse_feed(json_titled(written), base_url=BASE)[0].title == expected


# --- robots.txt sitemap lines: one rule for sitemaps_from_robots and RobotsPolicy ----------------


SITEMAP_LINES = [
    "Sitemap: https://s.example/a.xml",
    "Site-map: https://s.example/a.xml",  # Google's robots.txt parser and protego accept "site-map"
    "sitemap : https://s.example/a.xml",  # RFC 9309 2.2: whitespace may stand around the colon
    "SITE-MAP:https://s.example/a.xml",
    "Sitemap https://s.example/a.xml",  # a missing colon: Google's robots.txt parser takes it for a sitemap line too
    "\ufeffSitemap: https://s.example/a.xml",  # behind a byte-order mark (Google's parser skips it)
]


@pytest.mark.parametrize("line", SITEMAP_LINES)
def test_sitemap_spellings_are_found_by_both_readers(line):
    text = f"{line}\nUser-agent: *\nDisallow: /private\n"
    assert sitemaps_from_robots(text, base_url="https://s.example/robots.txt") == ["https://s.example/a.xml"]
    assert RobotsPolicy.parse(text, "shadowmatch_kb/0.1").sitemaps == ["https://s.example/a.xml"]


def test_relative_sitemap_lines_are_resolved_only_by_discovery():
    text = "Site-map: /relative.xml\n"
    assert sitemaps_from_robots(text, base_url="https://s.example/robots.txt") == ["https://s.example/relative.xml"]
    # The sitemaps.org protocol: the Sitemap line holds the full URL; RobotsPolicy keeps only such lines.
    assert RobotsPolicy.parse(text, "shadowmatch_kb/0.1").sitemaps == []


# --- media types: gzipped sitemaps under other labels ---------------------------------------------


@pytest.mark.parametrize("media_type", ["binary/octet-stream", "application/x-gzip-compressed"])
def test_mislabelled_gzip_sitemaps_are_accepted_and_sniffed(media_type):
    assert accepts_sitemap(media_type) and not accepts_page(media_type)
    sitemap = fifty_entries()
    # The body decides: gzip magic or XML is a sitemap, anything else is refused by the parser.
    assert urls(parse_sitemap(gzip.compress(sitemap), base_url=BASE)) == EXPECTED_50
    assert detect_kind(gzip.compress(sitemap), media_type) == "sitemap"
    assert urls(parse_sitemap(sitemap, base_url=BASE)) == EXPECTED_50
    with pytest.raises(InputError, match="neither XML nor"):
        parse_sitemap(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", base_url=BASE)
