"""Discovery: real feeds and sitemaps from ../shared/data/feeds/, and small hostile or odd inputs."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest
from conftest import require_shared

from shadowmatch_kb.crawl.discover import (
    MAX_DECOMPRESSED_BYTES,
    DiscoveredLink,
    detect_kind,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
)
from shadowmatch_kb.errors import InputError

BASE = "https://news.example.org/feeds/main.xml"


def shared_feed(*parts: str) -> bytes:
    return require_shared("feeds", *parts).read_bytes()


def feedjira(name: str) -> bytes:
    return shared_feed("feedjira_sample_feeds", name)


def advertools(name: str) -> bytes:
    return shared_feed("advertools_sitemap_testing", name)


def trafilatura(name: str) -> bytes:
    return shared_feed("trafilatura_test_resources", name)


def urls(links: list[DiscoveredLink]) -> list[str]:
    return [link.url for link in links]


def rss(items: str) -> bytes:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def urlset(body: str) -> bytes:
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'.encode()


# --- real feeds ----------------------------------------------------------------------------------


def test_rss_two_feed_gives_link_date_and_title():
    links = parse_feed(trafilatura("feed2.rss"), base_url=BASE)
    assert links == [DiscoveredLink("http://www.example.com/blog/post/1", "2009-09-06", "Example entry", "article")]


def test_atom_entry_with_only_a_self_link_is_skipped():
    links = parse_feed(trafilatura("feed1.atom"), base_url=BASE)
    # The second entry has only rel="self" (the entry's Atom document) and an urn: id, no article link.
    assert urls(links) == ["http://example.org/2003/12/13/atom03"]
    assert links[0].published == "2003-12-13"
    assert links[0].title == "Atom-Powered Robots Run Amok"


def test_rss_with_comments_keeps_all_thirty_items_in_order():
    links = parse_feed(feedjira("RSSWithComments.xml"), base_url=BASE)
    assert len(links) == 30
    assert links[0].url == (
        "https://aws.amazon.com/blogs/aws/announcing-aws-lambda-function-urls-built-in-https-endpoints-"
        "for-single-function-microservices/"
    )
    assert links[0].published == "2022-04-06"
    assert links[-1].url == "https://www.masteringemacs.org/article/whats-new-in-emacs-28-1"
    assert {link.kind for link in links} == {"article"}


def test_relative_atom_links_are_resolved_against_the_feed_url():
    links = parse_feed(feedjira("SamRuby.xml"), base_url="http://intertwingly.net/blog/index.atom")
    assert len(links) == 20
    assert links[0] == DiscoveredLink("http://intertwingly.net/blog/2013/01/30/Plex", "2013-01-30", "Plex", "article")
    assert all(link.url.startswith("http://intertwingly.net/") for link in links)


def test_feedburner_orig_link_replaces_the_redirector():
    links = parse_feed(feedjira("GiantRobotsSmashingIntoOtherGiantRobots.xml"), base_url=BASE)
    assert urls(links) == [
        "https://robots.thoughtbot.com/tell-don-t-ask-in-elixir",
        "https://robots.thoughtbot.com/avoiding-out-of-memory-crashes-on-mobile",
        "https://robots.thoughtbot.com/you-aint-gonna-need-process",
    ]
    assert [link.published for link in links] == ["2016-12-21", "2016-12-20", "2016-12-19"]


def test_google_alerts_redirects_are_unwrapped_and_titles_lose_markup():
    links = parse_feed(feedjira("google_alerts_atom.xml"), base_url=BASE)
    assert len(links) == 20
    assert not any("google.com/url" in link.url for link in links)
    assert links[0].url.startswith("https://www.aglobalmarketresearch.com/report-offers-prediction-of-automotive")
    assert links[0].title is not None and "<b>" not in links[0].title and "Automotive Slack Market" in links[0].title
    assert links[-1].url == "https://mspoweruser.com/latest-research-shows-microsoft-teams-is-stomping-slack/"


def test_feed_starting_with_a_blank_line_still_parses():
    content = feedjira("TechCrunch.xml")
    assert content.startswith(b"\n<?xml")
    links = parse_feed(content, base_url=BASE)
    assert len(links) == 20
    assert links[0].published == "2011-11-02"


def test_atom_feed_wrapped_in_an_xhtml_page_is_still_read():
    links = parse_feed(feedjira("DuplicateContentAtomFeed.xml"), base_url=BASE)
    assert len(links) == 10
    assert links[0].url == "http://www.tablix.org/~avian/blog/archives/2014/07/down_time/"
    assert links[0].published == "2014-07-21"


def test_an_unreadable_secondary_date_does_not_hide_pub_date():
    links = parse_feed(feedjira("InvalidDateFormat.xml"), base_url=BASE)
    assert [(link.url, link.published) for link in links] == [
        ("http://example.com/item0", "2017-10-16"),
        ("http://example.com/item1", "2017-10-17"),
    ]


def test_json_feed_version_1():
    links = parse_feed(feedjira("json_feed.json"), base_url="http://inessential.com/feed.json")
    assert len(links) == 20
    assert links[0] == DiscoveredLink(
        "http://inessential.com/2017/06/02/james_dempsey_and_the_breakpoints_benefi",
        "2017-06-02",
        "James Dempsey and the Breakpoints Benefit App Camp for Girls",
        "article",
    )
    assert links[-1].url == "http://inessential.com/2017/03/25/my_cocoaconf_yosemite_2017_talk"


def test_json_feed_version_1_1_with_escaped_slashes():
    content = feedjira("json_feed_with_escaped_uris.json")
    assert b"https:\\/\\/jsonfeed.org\\/version\\/1.1" in content
    links = parse_feed(content, base_url="https://lukedorny.com/feed")
    assert len(links) == 30
    assert links[0] == DiscoveredLink("https://lukedorny.com/updates/new-font", "2025-01-05", "New Font", "article")


def test_npr_json_feed():
    links = parse_feed(trafilatura("feed.json"), base_url="https://feeds.npr.org/1019/feed.json")
    assert len(links) == 25
    assert links[0].url.startswith("https://www.npr.org/2021/10/29/1050315385/keller-rinaudo-")
    assert links[0].published == "2021-10-29"


FEED_FILES = [
    ("feedjira_sample_feeds", name)
    for name in (
        "AmazonWebServicesBlog.xml",
        "DuplicateContentAtomFeed.xml",
        "FeedBurnerXHTML.xml",
        "GiantRobotsSmashingIntoOtherGiantRobots.xml",
        "GoogleDocsList.xml",
        "HuffPostCanada.xml",
        "InvalidDateFormat.xml",
        "PaulDixExplainsNothing.xml",
        "RSSWithComments.xml",
        "SamRuby.xml",
        "TechCrunch.xml",
        "TenderLovemaking.xml",
        "TypePadNews.xml",
        "google_alerts_atom.xml",
        "itunes.xml",
        "json_feed.json",
        "json_feed_with_escaped_uris.json",
        "youtube_atom.xml",
    )
] + [("trafilatura_test_resources", name) for name in ("feed1.atom", "feed2.rss", "feed.json")]


@pytest.mark.parametrize("folder,name", FEED_FILES)
def test_every_shared_feed_is_detected_and_gives_unique_dated_http_links(folder, name):
    content = shared_feed(folder, name)
    assert detect_kind(content, None) == "feed"
    links = parse_feed(content, base_url=BASE)
    assert links, name
    assert len(set(urls(links))) == len(links)
    assert all(link.url.startswith(("http://", "https://")) for link in links)
    assert all(link.kind == "article" for link in links)
    assert all(link.published is None or len(link.published) == 10 for link in links)
    assert any(link.published for link in links), name


# --- real sitemaps -------------------------------------------------------------------------------


def test_regular_sitemap_with_lastmod_in_several_forms():
    links = parse_sitemap(advertools("regular_sitemap.xml"), base_url="http://www.example.com/sitemap.xml")
    assert [(link.url, link.published) for link in links] == [
        ("http://www.example.com/", "2005-01-01"),
        ("http://www.example.com/catalog?item=12&desc=vacation_hawaii", None),
        ("http://www.example.com/catalog?item=73&desc=vacation_new_zealand", "2004-12-23"),
        ("http://www.example.com/catalog?item=74&desc=vacation_newfoundland", "2004-12-23"),
        ("http://www.example.com/catalog?item=83&desc=vacation_usa", "2004-11-23"),
    ]
    assert {link.kind for link in links} == {"article"}


def test_gzip_is_detected_by_magic_bytes_not_by_the_name():
    plain_named_gz = advertools("regular_sitemap.xml.gz")
    assert plain_named_gz.startswith(b"<?xml")  # named .gz, served plain
    assert urls(parse_sitemap(plain_named_gz, base_url=BASE)) == urls(
        parse_sitemap(advertools("regular_sitemap.xml"), base_url=BASE)
    )
    zipped = advertools("zipped_sitemap.xml.gz")
    assert zipped[:2] == b"\x1f\x8b"
    assert detect_kind(zipped, "application/x-gzip") == "sitemap"
    links = parse_sitemap(zipped, base_url=BASE)
    assert len(links) == 5
    assert links[0] == DiscoveredLink("http://www.gzipped.com/", "2005-01-01", None, "article")


def test_gzipped_sitemap_equals_its_plain_twin():
    plain = parse_sitemap(trafilatura("sitemap.xml"), base_url=BASE)
    assert len(plain) == 84
    assert plain[0] == DiscoveredLink("https://www.sitemaps.org/", "2016-11-21", None, "article")
    assert parse_sitemap(trafilatura("sitemap.xml.gz"), base_url=BASE) == plain


def test_sitemap_index_gives_child_sitemaps():
    links = parse_sitemap(advertools("sitemap_index.xml"), base_url=BASE)
    assert [(link.url, link.published, link.kind) for link in links] == [
        ("https://advertools.readthedocs.io/sitemap.xml", "2020-05-20", "sitemap"),
        ("http://www.example.com/sitemap.xml", "2020-05-20", "sitemap"),
        (
            "https://raw.githubusercontent.com/eliasdabbas/advertools/master/tests/data/sitemap_testing/"
            "sitemap_index.xml",
            None,
            "sitemap",
        ),
        ("https://www.google.com/adwords/sitemap_us.xml", "2020-05-20", "sitemap"),
    ]


def test_sitemap_index_with_cdata_and_blank_lines():
    links = parse_sitemap(trafilatura("sitemap2.xml"), base_url=BASE)
    assert links == [
        DiscoveredLink("http://www.example.com/sitemap1.xml.gz", "2004-10-01", None, "sitemap"),
        DiscoveredLink("http://www.example.com/sitemap2.xml.gz", "2005-01-01", None, "sitemap"),
    ]


def test_news_sitemap_gives_publication_date_and_title():
    links = parse_sitemap(advertools("news_sitemap.xml"), base_url="https://www.nytimes.com/sitemaps/news.xml")
    assert len(links) == 6
    # The <loc> carries a trailing space; the <lastmod> (2020-05-19) is later than the publication date.
    assert links[0] == DiscoveredLink(
        "https://www.nytimes.com/interactive/2020/05/11/magazine/quarantine-insanity.html",
        "2020-05-11",
        "Quarantine Was Driving Me Crazy — So I Decided to Lose My Mind on Purpose",
        "article",
    )
    assert links[-1].url == "https://www.nytimes.com/2020/05/19/arts/music/germany-music-coronavirus.html"
    assert all(link.title for link in links)


def test_image_video_and_hreflang_extensions_do_not_add_links():
    images = parse_sitemap(advertools("image_sitemap.xml"), base_url=BASE)
    assert urls(images) == ["http://example.com/sample.html", "http://example.com/sample_2.html"]
    videos = parse_sitemap(advertools("video_sitemap.xml"), base_url=BASE)
    assert len(videos) == 6
    assert videos[0].published == "2020-05-05"
    assert all(link.url.endswith("_video.html") for link in videos)
    hreflang = parse_sitemap(trafilatura("sitemap-hreflang.xml"), base_url=BASE)
    assert urls(hreflang) == [
        "http://www.example.com/english/page.html",
        "http://www.example.com/deutsch/page.html",
        "http://www.example.com/schweiz-deutsch/page.html",
    ]


def test_malformed_shared_sitemap_is_an_input_error():
    with pytest.raises(InputError) as caught:
        parse_sitemap(advertools("error_sitemap.xml"), base_url=BASE)
    assert caught.value.source == BASE
    assert "not well-formed XML" in caught.value.reason
    assert "\n" not in str(caught.value)


def test_robots_txt_from_the_shared_data():
    robots = advertools("robots.txt").decode()
    assert sitemaps_from_robots(robots, base_url="https://advertools.readthedocs.io/robots.txt") == [
        "https://advertools.readthedocs.io/sitemap.xml"
    ]


@pytest.mark.parametrize(
    "name",
    [
        "image_sitemap.xml",
        "news_sitemap.xml",
        "regular_sitemap.xml",
        "regular_sitemap.xml.gz",
        "sitemap_index.xml",
        "video_sitemap.xml",
        "zipped_sitemap.xml.gz",
    ],
)
def test_shared_sitemaps_are_detected_as_sitemaps(name):
    assert detect_kind(advertools(name), "text/xml") == "sitemap"


def test_a_source_serving_the_other_kind_gets_a_clear_error():
    # The sitemaps.org protocol accepts an RSS or Atom feed as a sitemap (issue 17): its entries' links.
    assert urls(parse_sitemap(trafilatura("feed2.rss"), base_url=BASE)) == ["http://www.example.com/blog/post/1"]
    with pytest.raises(InputError, match="got a sitemap, not a feed"):
        parse_feed(trafilatura("sitemap.xml"), base_url=BASE)
    with pytest.raises(InputError, match="got a sitemap, not a feed"):
        parse_feed(advertools("zipped_sitemap.xml.gz"), base_url=BASE)


# --- small inputs: feeds -------------------------------------------------------------------------


def test_relative_links_duplicates_and_linkless_items_in_rss():
    content = rss(
        "<item><title>One</title><link>/news/1</link><pubDate>Fri, 01 Mar 2024 23:30:00 -0500</pubDate></item>"
        "<item><title>No link</title><description>only text</description></item>"
        "<item><title>Two</title><link>news/2?x=1&amp;y=2</link></item>"
        "<item><title>One again</title><link>https://news.example.org/news/1</link></item>"
        "<item><title>Mail</title><link>mailto:editor@example.org</link></item>"
        "<item><title>Script</title><link>javascript:alert(1)</link></item>"
    )
    links = parse_feed(content, base_url=BASE)
    assert links == [
        # The publisher's own day, not the UTC day (2024-03-02) the time zone would shift it to.
        DiscoveredLink("https://news.example.org/news/1", "2024-03-01", "One", "article"),
        DiscoveredLink("https://news.example.org/feeds/news/2?x=1&y=2", None, "Two", "article"),
    ]


def test_atom_dates_keep_the_publishers_day_and_fall_back_to_updated():
    content = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id><updated>2024-01-01T00:00:00Z</updated>
<entry><title>Late</title><id>urn:1</id><link href="https://a.example/late"/>
  <published>2024-03-01T23:30:00-05:00</published><updated>2024-03-05T10:00:00Z</updated></entry>
<entry><title>Updated only</title><id>urn:2</id><link rel="alternate" href="https://a.example/upd"/>
  <updated>2023-12-31T23:59:59+14:00</updated></entry>
</feed>"""
    links = parse_feed(content, base_url=BASE)
    assert [(link.url, link.published) for link in links] == [
        ("https://a.example/late", "2024-03-01"),
        ("https://a.example/upd", "2023-12-31"),
    ]


def test_rss_1_0_rdf_feed():
    content = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
 <channel rdf:about="https://r.example/"><title>R</title><link>https://r.example/</link></channel>
 <item rdf:about="https://r.example/a"><title>A</title><link>https://r.example/a</link>
  <dc:date>2022-02-02T10:00:00+01:00</dc:date></item>
</rdf:RDF>"""
    assert detect_kind(content, None) == "feed"
    assert parse_feed(content, base_url=BASE) == [DiscoveredLink("https://r.example/a", "2022-02-02", "A", "article")]


def test_gzipped_feed():
    links = parse_feed(gzip.compress(rss("<item><link>https://g.example/1</link></item>")), base_url=BASE)
    assert urls(links) == ["https://g.example/1"]


def test_json_feed_by_hand():
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [
            {"id": "1", "url": "/posts/1", "title": " First <em>post</em> ", "date_published": "2024-05-06T07:08:09Z"},
            {"id": "2", "external_url": "https://elsewhere.example/story", "date_modified": "2024-05-07"},
            {"id": "3", "content_text": "no link at all"},
            {"id": "4", "url": "https://news.example.org/posts/1"},
            "not an object",
            {"id": "5", "url": "ftp://files.example/x", "date_published": "2024-02-30T00:00:00Z"},
        ],
    }
    links = parse_feed(json.dumps(document).encode(), base_url=BASE)
    assert links == [
        DiscoveredLink("https://news.example.org/posts/1", "2024-05-06", "First post", "article"),
        DiscoveredLink("https://elsewhere.example/story", "2024-05-07", None, "article"),
    ]


@pytest.mark.parametrize(
    "content",
    [
        rss(""),
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>empty</title></feed>',
        b'{"version": "https://jsonfeed.org/version/1", "title": "empty", "items": []}',
    ],
)
def test_empty_but_valid_feeds_give_no_links(content):
    assert parse_feed(content, base_url=BASE) == []


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"", "empty response"),
        (b"   \n", "empty response"),
        (bytes(range(256)) * 4, "not an RSS, Atom or JSON feed"),
        (b"just some words, not a feed", "not an RSS, Atom or JSON feed"),
        (b"<html><head><title>Home</title></head><body><p>hi</p></body></html>", "got an HTML page, not a feed"),
        (b'{"title": "no version"}', "JSON but not a JSON Feed"),
        (b"[1, 2, 3]", "not an RSS, Atom or JSON feed"),
        (b"{not json", "invalid JSON"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": {}}', "items is not a list"),
        (b"[" * 100_000, "not an RSS, Atom or JSON feed"),
        (b"{" + b'"a":[' * 100_000, "invalid JSON"),
        (b'<rss version="2.0"><channel><item><title>cut off', "malformed feed"),
        (b"\x1f\x8b\x08\x00garbage", "gzip data"),
    ],
)
def test_garbage_feeds_are_one_line_input_errors(content, reason):
    with pytest.raises(InputError) as caught:
        parse_feed(content, base_url=BASE)
    assert caught.value.source == BASE
    assert reason in caught.value.reason
    assert "\n" not in str(caught.value)


def test_feed_body_naming_a_local_file_is_not_opened(tmp_path: Path):
    # feedparser opens a file when handed bytes that name one; a server must not be able to steer that.
    secret = tmp_path / "feed.xml"
    secret.write_bytes(rss("<item><link>https://secret.example/leak</link></item>"))
    with pytest.raises(InputError):
        parse_feed(str(secret).encode(), base_url=BASE)


def test_feed_with_entity_declarations_is_refused_without_expansion():
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    content = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{laughs}]>'
        "<rss version='2.0'><channel><item><title>&l9;</title><link>https://a.example/1</link></item></channel></rss>"
    ).encode()
    started = time.monotonic()
    with pytest.raises(InputError, match="declares XML entities"):
        parse_feed(content, base_url=BASE)
    assert time.monotonic() - started < 2


# --- small inputs: sitemaps ----------------------------------------------------------------------


def test_relative_duplicate_and_non_http_locs():
    content = urlset(
        "<url><loc>  https://a.example/1  </loc><lastmod>2024-06-01T12:00:00+02:00</lastmod></url>"
        "<url><loc>/relative/2</loc></url>"
        "<url><loc>https://a.example/1</loc><lastmod>2025-01-01</lastmod></url>"
        "<url><loc>ftp://files.example/3</loc></url>"
        "<url><loc>javascript:alert(1)</loc></url>"
        "<url><loc>mailto:someone@example.org</loc></url>"
        "<url><loc>data:text/html,hi</loc></url>"
        "<url><loc></loc></url>"
        "<url><lastmod>2024-01-01</lastmod></url>"
        "<url><loc>http://b.example/a page</loc><lastmod>not a date</lastmod></url>"
    )
    links = parse_sitemap(content, base_url="https://a.example/sitemap.xml")
    assert [(link.url, link.published) for link in links] == [
        ("https://a.example/1", "2024-06-01"),
        ("https://a.example/relative/2", None),
        ("http://b.example/a%20page", None),
    ]


def test_gzipped_sitemap_made_here_including_several_members():
    first = urlset("<url><loc>https://z.example/1</loc></url>")
    second = b"\n"  # a second gzip member continues the same file
    content = gzip.compress(first) + gzip.compress(second)
    assert urls(parse_sitemap(content, base_url=BASE)) == ["https://z.example/1"]


def test_truncated_gzip_is_an_input_error():
    content = gzip.compress(urlset("<url><loc>https://z.example/1</loc></url>" * 50))
    with pytest.raises(InputError, match="truncated gzip data"):
        parse_sitemap(content[: len(content) // 2], base_url=BASE)


def test_gzip_bomb_over_the_cap_is_refused():
    bomb = gzip.compress(b" " * (MAX_DECOMPRESSED_BYTES + 1), compresslevel=1)
    assert len(bomb) < MAX_DECOMPRESSED_BYTES // 100
    with pytest.raises(InputError, match="expands past 50 MB"):
        parse_sitemap(bomb, base_url=BASE)
    with pytest.raises(InputError, match="expands past 50 MB"):
        parse_feed(bomb, base_url=BASE)


def test_plain_body_over_the_cap_is_refused():
    with pytest.raises(InputError, match="larger than"):
        parse_sitemap(b" " * (MAX_DECOMPRESSED_BYTES + 1), base_url=BASE)


def test_billion_laughs_sitemap_is_refused_without_expansion():
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    content = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY l0 "lol">{laughs}]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>https://a.example/&l9;</loc></url></urlset>"
    ).encode()
    started = time.monotonic()
    with pytest.raises(InputError, match="declares XML entities"):
        parse_sitemap(content, base_url=BASE)
    assert time.monotonic() - started < 2


def test_external_entity_is_never_read(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    content = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
        "<urlset><url><loc>https://a.example/&xxe;</loc></url></urlset>"
    ).encode()
    with pytest.raises(InputError) as caught:
        parse_sitemap(content, base_url=BASE)
    assert "TOPSECRET" not in str(caught.value)


def test_a_harmless_doctype_is_fine():
    content = b'<?xml version="1.0"?><!DOCTYPE urlset><urlset><url><loc>https://a.example/x</loc></url></urlset>'
    assert urls(parse_sitemap(content, base_url=BASE)) == ["https://a.example/x"]


def test_missing_or_foreign_namespaces_and_comments_are_tolerated():
    content = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- generated -->
<urlset xmlns="http://www.google.com/schemas/sitemap/0.84">
  <url>
    <!-- a comment inside -->
    <loc>
      https://ns.example/old-namespace
    </loc>
  </url>
</urlset>"""
    assert urls(parse_sitemap(content, base_url=BASE)) == ["https://ns.example/old-namespace"]
    bare = b"<sitemapindex><sitemap><loc>https://ns.example/child.xml</loc></sitemap></sitemapindex>"
    assert parse_sitemap(bare, base_url=BASE) == [DiscoveredLink("https://ns.example/child.xml", None, None, "sitemap")]


def test_news_sitemap_by_hand_prefers_publication_date():
    content = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>https://n.example/a</loc><lastmod>2024-02-02</lastmod>
        <news:news><news:publication><news:name>N</news:name><news:language>en</news:language></news:publication>
        <news:publication_date>2024-01-31T23:00:00-08:00</news:publication_date>
        <news:title>  AI &amp; the   future of work </news:title></news:news></url>
    </urlset>"""
    assert parse_sitemap(content, base_url=BASE) == [
        DiscoveredLink("https://n.example/a", "2024-01-31", "AI & the future of work", "article")
    ]


@pytest.mark.parametrize(
    "lastmod,published",
    [
        ("2024-03-01", "2024-03-01"),
        ("  2024-03-01T10:00Z ", "2024-03-01"),
        ("2024-03-01T23:30:00-05:00", "2024-03-01"),
        ("2024-03-01T00:30:00+14:00", "2024-03-01"),
        ("2024-03-01T10:00:00.123456+01:00", "2024-03-01"),
        ("2024-03-01Z", "2024-03-01"),
        ("20240301", "2024-03-01"),
        ("Fri, 01 Mar 2024 23:30:00 -0500", "2024-03-01"),
        ("2024-03", None),
        ("2024", None),
        ("2024-02-30", None),
        ("0000-00-00", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_w3c_datetimes_become_the_day_as_written(lastmod, published):
    content = urlset(f"<url><loc>https://d.example/</loc><lastmod>{lastmod}</lastmod></url>")
    assert parse_sitemap(content, base_url=BASE)[0].published == published


@pytest.mark.parametrize(
    "content",
    [
        urlset(""),
        urlset("\n  \n"),
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>',
    ],
)
def test_empty_urlset_or_index_gives_no_links(content):
    assert parse_sitemap(content, base_url=BASE) == []


def test_plain_text_sitemap():
    content = b"\xef\xbb\xbfhttps://t.example/1\r\n\r\n  https://t.example/2  \nnot a url\nhttps://t.example/1\n"
    assert detect_kind(content, "text/plain") == "sitemap"
    assert parse_sitemap(content, base_url=BASE) == [
        DiscoveredLink("https://t.example/1", None, None, "article"),
        DiscoveredLink("https://t.example/2", None, None, "article"),
    ]


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"", "empty response"),
        (bytes(range(256)) * 4, "neither XML nor"),
        (b"\x00\x01\x02binary", "neither XML nor"),
        (b"hello world\nno urls here", "no line is an http(s) URL"),
        # A sitemap cut inside its only entry has nothing complete to give (issue 17; the same input cut
        # after </url> gives that entry, see test_a_sitemap_cut_short_keeps_its_complete_entries).
        (b"<urlset><url><loc>https://a.example/</loc>", "not well-formed XML"),
        (b"<html><body><a href='https://a.example/'>a</a></body></html>", "got an HTML page, not a sitemap"),
        (b"<!DOCTYPE html><p>unclosed", "got an HTML page, not a sitemap"),
        (b"<catalog><book/></catalog>", "not a sitemap: the root element is <catalog>"),
        (b'{"urls": ["https://a.example/"]}', "no line is an http(s) URL"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xffnot deflate", "corrupt gzip data"),
    ],
)
def test_garbage_sitemaps_are_one_line_input_errors(content, reason):
    with pytest.raises(InputError) as caught:
        parse_sitemap(content, base_url=BASE)
    assert caught.value.source == BASE
    assert reason in caught.value.reason
    assert "\n" not in str(caught.value)


# --- robots.txt and detect_kind ------------------------------------------------------------------


def test_sitemap_lines_of_robots_txt():
    robots = """# robots for r.example
User-agent: *
Disallow: /private
SITEMAP: https://r.example/sitemap_index.xml
sitemap:https://r.example/news.xml   # the news one
  Sitemap : /relative-sitemap.xml
Sitemap: https://r.example/news.xml
Sitemap: ftp://r.example/nope.xml
Sitemap:
Sitemaps: https://r.example/not-this-key.xml
Disallow: /sitemap: not a sitemap line
"""
    assert sitemaps_from_robots(robots, base_url="https://r.example/robots.txt") == [
        "https://r.example/sitemap_index.xml",
        "https://r.example/news.xml",
        "https://r.example/relative-sitemap.xml",
    ]
    assert sitemaps_from_robots("User-agent: *\nDisallow:\n", base_url="https://r.example/robots.txt") == []


@pytest.mark.parametrize(
    "content,content_type,kind",
    [
        (rss(""), None, "feed"),
        (b'<?xml version="1.0"?>\n<!-- c -->\n<feed xmlns="http://www.w3.org/2005/Atom"/>', "text/html", "feed"),
        (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', None, "feed"),
        (b'{"version":"https:\\/\\/jsonfeed.org\\/version\\/1","items":[]}', None, "feed"),
        (gzip.compress(rss("")), None, "feed"),
        (urlset(""), "text/html", "sitemap"),
        (gzip.compress(b"<sitemapindex/>"), "application/octet-stream", "sitemap"),
        (b"https://t.example/1\nhttps://t.example/2\n", None, "sitemap"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ELEMENT x ANY>]><urlset/>', None, "sitemap"),
        (b"<!DOCTYPE html>\n<html><body>hi</body></html>", None, "html"),
        (b"\n\n<HTML><BODY>shouting</BODY></HTML>", None, "html"),
        (b"<p>fragment</p>", "text/html; charset=utf-8", "html"),
        (b"<p>fragment</p>", None, "unknown"),
        (b"anything", "application/rss+xml; charset=utf-8", "feed"),
        (b'{"a": 1}', "application/json", "unknown"),
        (b"", None, "unknown"),
        (b"\x1f\x8b\x08garbage", None, "unknown"),
        (bytes(range(256)), None, "unknown"),
    ],
)
def test_detect_kind(content, content_type, kind):
    assert detect_kind(content, content_type) == kind
