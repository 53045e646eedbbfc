"""A broad table of robots.txt cases: text, URL, user agent, the expected answer, and where it comes from.

Each row names the source of its expectation in a comment: an RFC 9309 section, Google's robots.txt
parser behaviour (google/robotstxt, the reference its authors wrote the RFC beside), or protego
behaviour (the parser Scrapy uses). The cases are written here; none is copied from those projects.
Every row must pass; the last test prints how many there are when run with ``-s``.
"""

from __future__ import annotations

import pytest

from shadowmatch_kb.crawl.discover import sitemaps_from_robots
from shadowmatch_kb.fetch.robots import RobotsPolicy

OURS = "shadowmatch_kb/0.1 (+https://github.com/shadowmatch/shadowmatch_kb)"
ALLOW, DENY = True, False

# (name, robots.txt, URL, user agent, expected)
CASES: list[tuple[str, str, str, str, bool]] = [
    # --- groups and user agents ---
    # RFC 9309 2.2.1: the group naming our product token applies, case-insensitively.
    ("own group", "User-agent: Shadowmatch_KB\nDisallow: /x\n", "/x", OURS, DENY),
    # RFC 9309 2.2.1: with no group for us, the "*" group applies.
    ("star group", "User-agent: *\nDisallow: /x\n", "/x", OURS, DENY),
    # RFC 9309 2.2.1: our own group replaces the "*" group entirely.
    ("own group beats star", "User-agent: *\nDisallow: /\n\nUser-agent: shadowmatch_kb\nAllow: /\n", "/x", OURS, ALLOW),
    # RFC 9309 2.2.1: groups naming us twice are merged.
    ("merged groups", "User-agent: shadowmatch_kb\nDisallow: /a\n\nUser-agent: shadowmatch_kb\nDisallow: /b\n",
     "/b/1", OURS, DENY),
    # RFC 9309 2.1: consecutive user-agent lines share the rules that follow.
    ("shared rules", "User-agent: other\nUser-agent: shadowmatch_kb\nDisallow: /s\n", "/s", OURS, DENY),
    # RFC 9309 2.2.1: another crawler's group does not apply to us.
    ("other crawler", "User-agent: otherbot\nDisallow: /\n", "/x", OURS, ALLOW),
    # RFC 9309 2.2.1: a prefix of our name is another crawler's name.
    ("prefix of our name", "User-agent: shadowmatch\nDisallow: /\n", "/x", OURS, ALLOW),
    # Google's robots.txt parser behaviour: the group value is cut at the first character outside [A-Za-z_-].
    ("group value with a version", "User-agent: shadowmatch_kb/2.0\nDisallow: /\n", "/x", OURS, DENY),
    # Google's robots.txt parser behaviour: "* anything" is still the catch-all group.
    ("star with a comment word", "User-agent: * everyone\nDisallow: /x\n", "/x", OURS, DENY),
    # RFC 9309 2.2.1 (issue 17): our product token is compared whole, "Bot2" is not "Bot".
    ("Bot2 ignores Bot", "User-agent: Bot\nDisallow: /\n\nUser-agent: *\nAllow: /\n", "/x", "Bot2/1.0", ALLOW),
    ("Bot2 ignores Bot3", "User-agent: Bot3\nDisallow: /\n", "/x", "Bot2/1.0", ALLOW),
    # protego behaviour (issue 17): "User-agent: Bot2" names the crawler Bot2 as written.
    ("Bot2 obeys Bot2", "User-agent: Bot\nDisallow: /b\n\nUser-agent: Bot2\nDisallow: /b2\n", "/b2/x", "Bot2/1.0",
     DENY),
    ("Bot2 not merged with Bot", "User-agent: Bot\nDisallow: /b\n\nUser-agent: Bot2\nDisallow: /b2\n", "/b/x",
     "Bot2/1.0", ALLOW),
    # RFC 9309 2.2.2: rules before any user-agent line belong to no group.
    ("rule without a group", "Disallow: /\nUser-agent: *\nAllow: /\n", "/x", OURS, ALLOW),
    # --- lines without a colon (issue 17) ---
    # Google's robots.txt parser behaviour: two words without a colon read as "key: value".
    ("no colon in disallow", "User-agent: *\nDisallow /private\n", "/private/x", OURS, DENY),
    ("no colon in user-agent", "user-agent FooBot\ndisallow /\n", "/x", "FooBot/1.0", DENY),
    ("no colon anywhere, star", "User-agent *\nDisallow /\n", "/x", OURS, DENY),
    # Google's robots.txt parser behaviour (two words), applied although the value holds a colon, where
    # Google and protego would split the line and lose it: our polite reading, stricter than both.
    ("no colon, colon in value", "User-agent: *\nDisallow /a:b\n", "/a:b", OURS, DENY),
    # Google's robots.txt parser behaviour: three words without a colon are no directive.
    ("three words", "User-agent: *\nDisallow /a /b\n", "/a", OURS, ALLOW),
    # --- byte-order marks (issue 17) ---
    # Google's robots.txt parser behaviour: a byte-order mark, whole or any prefix of it, is skipped (here as
    # the text those bytes become when decoded as UTF-8, with replacement, or as cp1252).
    ("whole BOM", "\ufeffUser-agent: *\nDisallow: /x\n", "/x", OURS, DENY),
    ("BOM as cp1252", "\u00ef\u00bb\u00bfUser-agent: *\nDisallow: /x\n", "/x", OURS, DENY),
    ("partial BOM EF BB as cp1252", "\u00ef\u00bbUser-agent: *\nDisallow: /x\n", "/x", OURS, DENY),
    ("partial BOM EF as cp1252", "\u00efUser-agent: *\nDisallow: /x\n", "/x", OURS, DENY),
    ("partial BOM as replacement", "\ufffdUser-agent: *\nDisallow: /x\n", "/x", OURS, DENY),
    # --- matching ---
    # RFC 9309 2.2.2: the longest match wins.
    ("longest match", "User-agent: *\nDisallow: /a\nAllow: /a/b\n", "/a/b/c", OURS, ALLOW),
    # RFC 9309 2.2.2: an allow wins a tie of equal length.
    ("allow wins a tie", "User-agent: *\nDisallow: /a\nAllow: /a\n", "/a", OURS, ALLOW),
    # RFC 9309 2.2.3: "*" matches any run of characters.
    ("star in a rule", "User-agent: *\nDisallow: /*.pdf\n", "/docs/x.pdf", OURS, DENY),
    # RFC 9309 2.2.3: "$" anchors the end.
    ("dollar anchor", "User-agent: *\nDisallow: /*.pdf$\n", "/x.pdf?download=1", OURS, ALLOW),
    ("dollar anchor matches", "User-agent: *\nDisallow: /*.pdf$\n", "/x.pdf", OURS, DENY),
    # RFC 9309 2.2.2: paths compare case-sensitively.
    ("case-sensitive path", "User-agent: *\nDisallow: /Private\n", "/private", OURS, ALLOW),
    # RFC 9309 2.2.2: percent-encoded unreserved characters compare as themselves.
    ("percent-encoded tilde", "User-agent: *\nDisallow: /%7Ejoe\n", "/~joe/x", OURS, DENY),
    # RFC 9309 2.2.2: non-ASCII characters compare in their UTF-8 percent-encoding.
    ("UTF-8 path", "User-agent: *\nDisallow: /caf\u00e9\n", "/caf%C3%A9/menu", OURS, DENY),
    # RFC 9309 2.2.2: the query is part of the matched path.
    ("query matched", "User-agent: *\nDisallow: /*?sort=\n", "/list?sort=date", OURS, DENY),
    # Google's robots.txt parser behaviour (issue 17): an empty query "/path?" is kept in the URL.
    ("empty query rule, bare path", "User-agent: *\nDisallow: /path?\n", "/path", OURS, ALLOW),
    ("empty query rule, empty query", "User-agent: *\nDisallow: /path?\n", "/path?", OURS, DENY),
    ("empty query rule, a query", "User-agent: *\nDisallow: /path?\n", "/path?x", OURS, DENY),
    ("anchored path, empty query", "User-agent: *\nDisallow: /path$\n", "https://example.com/path?", OURS, ALLOW),
    # RFC 9309 2.2.2: the fragment is never matched ("#" in the file would start a comment).
    ("fragment ignored", "User-agent: *\nDisallow: /*top\n", "/page#top", OURS, ALLOW),
    # RFC 9309 2.2.2: /robots.txt itself is always allowed.
    ("robots.txt allowed", "User-agent: *\nDisallow: /\n", "/robots.txt", OURS, ALLOW),
    # RFC 9309 2.2.2: an empty Disallow allows everything.
    ("empty disallow", "User-agent: *\nDisallow:\n", "/x", OURS, ALLOW),
    # --- syntax ---
    # RFC 9309 2.2: keys are case-insensitive, whitespace around the colon is allowed.
    ("key case and spaces", "USER-AGENT :  *\nDISALLOW  :  /x\n", "/x", OURS, DENY),
    # RFC 9309 2.2: "#" starts a comment.
    ("comment after a rule", "User-agent: *\nDisallow: /x # /y\n", "/y", OURS, ALLOW),
    # RFC 9309 2.2: CR, LF and CRLF all end lines.
    ("CR line ends", "User-agent: *\rDisallow: /x\r", "/x", OURS, DENY),
    # Google's robots.txt parser and protego behaviour: frequent misspellings are understood.
    ("misspelled disallow", "User-agent: *\nDissallow: /x\n", "/x", OURS, DENY),
    ("misspelled user-agent", "Useragent: *\nDisallow: /x\n", "/x", OURS, DENY),
    ("user agent with a space", "User agent: *\nDisallow: /x\n", "/x", OURS, DENY),
    # RFC 9309 2.2.4: other records must not interfere with the rules, so an unknown one keeps the group.
    ("unknown directive", "User-agent: *\nHost: example.com\nDisallow: /x\n", "/x", OURS, DENY),
    # RFC 9309 2.2.4: a sitemap line, another record, does not end the group either.
    ("sitemap inside a group", "User-agent: *\nSitemap: https://example.com/s.xml\nDisallow: /x\n", "/x", OURS,
     DENY),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "url", "agent", "expected"), CASES, ids=[case[0] for case in CASES])
def test_robots_case(name: str, text: str, url: str, agent: str, expected: bool) -> None:
    assert RobotsPolicy.parse(text, agent).allows(url) is expected


# (name, robots.txt, the sitemap URLs both readers find)
SITEMAP_CASES: list[tuple[str, str, list[str]]] = [
    # RFC 9309 2.2.4 and the sitemaps.org protocol: a Sitemap line stands apart from the groups.
    ("plain", "Sitemap: https://e.example/s.xml\n", ["https://e.example/s.xml"]),
    # Google's robots.txt parser and protego behaviour (issue 17): "Site-map" is a sitemap line too.
    ("site-map", "Site-map: https://e.example/s.xml\n", ["https://e.example/s.xml"]),
    # RFC 9309 2.2: whitespace around the colon (issue 17: "sitemap :").
    ("space before the colon", "sitemap : https://e.example/s.xml\n", ["https://e.example/s.xml"]),
    # Google's robots.txt parser behaviour (issue 17): a missing colon, two words; the URL's own colon
    # does not make it a "key: value" line (Google's parser would keep "//e.example/s.xml" as the value).
    ("no colon", "Sitemap https://e.example/s.xml\n", ["https://e.example/s.xml"]),
    # Google's robots.txt parser behaviour: behind a partial byte-order mark.
    ("partial BOM", "\u00ef\u00bbSitemap: https://e.example/s.xml\n", ["https://e.example/s.xml"]),
    # The sitemaps.org protocol: a robots.txt may list several sitemaps; each is kept once, in order.
    ("repeated", "Sitemap: https://e.example/a.xml\nsitemap: https://e.example/b.xml\nSitemap: https://e.example/a.xml\n",
     ["https://e.example/a.xml", "https://e.example/b.xml"]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "expected"), SITEMAP_CASES, ids=[case[0] for case in SITEMAP_CASES])
def test_sitemap_case(name: str, text: str, expected: list[str]) -> None:
    assert RobotsPolicy.parse(text, OURS).sitemaps == expected
    assert sitemaps_from_robots(text, base_url="https://e.example/robots.txt") == expected


def test_how_many_cases(capsys: pytest.CaptureFixture[str]) -> None:
    passed = sum(
        1 for _, text, url, agent, expected in CASES if RobotsPolicy.parse(text, agent).allows(url) is expected
    )
    with capsys.disabled():
        print(f"\nrobots.txt table: {passed} of {len(CASES)} cases pass, plus {len(SITEMAP_CASES)} sitemap cases")
    assert passed == len(CASES)
