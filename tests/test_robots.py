"""robots.txt parsing and matching (RFC 9309), table by table; no network."""

from __future__ import annotations

import random
import time

import pytest
from conftest import SHARED_DATA, require_shared

from shadowmatch_kb.config import DEFAULT_USER_AGENT
from shadowmatch_kb.fetch.robots import (
    MAX_CRAWL_DELAY,
    MAX_ROBOTS_BYTES,
    RobotsPolicy,
    RobotsRule,
    policy_for_status,
    product_token,
    sitemap_lines,
)

UA = "shadowmatch_kb/0.1 (+https://github.com/shadowmatch/shadowmatch_kb)"


def policy(text: str, user_agent: str = UA) -> RobotsPolicy:
    return RobotsPolicy.parse(text, user_agent)


def test_our_user_agent_has_the_expected_product_token():
    assert product_token(DEFAULT_USER_AGENT) == "shadowmatch_kb"
    assert product_token("Googlebot-News/2.1 (compatible)") == "googlebot-news"
    assert product_token("  Mozilla/5.0") == "mozilla"
    assert product_token("/1.0") == ""


# Google's documented precedence examples (developers.google.com/search/docs/crawling-indexing/robots/
# robots_txt, "Order of precedence for rules"): the longest rule wins, Allow wins a tie.
PRECEDENCE = [
    ("/p", "/", "https://example.com/page", True),
    ("/folder", "/folder", "https://example.com/folder/page", True),
    ("/page", "/*.htm", "https://example.com/page.htm", False),
    ("/page", "/*.ph", "https://example.com/page.php5", True),
    ("/$", "/", "https://example.com/", True),
    ("/$", "/", "https://example.com/page.htm", False),
]


@pytest.mark.parametrize(("allow", "disallow", "url", "expected"), PRECEDENCE)
def test_longest_match_wins_and_allow_wins_ties(allow, disallow, url, expected):
    # Both orders: precedence must not depend on which line comes first.
    forward = policy(f"User-agent: *\nAllow: {allow}\nDisallow: {disallow}\n")
    backward = policy(f"User-agent: *\nDisallow: {disallow}\nAllow: {allow}\n")
    assert forward.allows(url) is expected
    assert backward.allows(url) is expected


# Google's documented path-matching examples: pattern, paths it matches, paths it does not.
MATCHING = [
    ("/", ["/", "/anything", "/a/b?c=d"], []),
    ("/*", ["/", "/anything", "/a/b?c=d"], []),
    ("/$", ["/"], ["/anything", "/?q=1"]),
    (
        "/fish",
        ["/fish", "/fish.html", "/fish/salmon.html", "/fishheads", "/fishheads/yummy.html", "/fish.php?id=anything"],
        ["/Fish.asp", "/catfish", "/?id=fish", "/desert/fish"],
    ),
    ("/fish*", ["/fish", "/fish.html", "/fishheads/yummy.html"], ["/Fish.asp", "/catfish"]),
    (
        "/fish/",
        ["/fish/", "/fish/?id=anything", "/fish/salmon.htm"],
        ["/fish", "/fish.html", "/animals/fish/", "/Fish/Salmon.asp"],
    ),
    (
        "/*.php",
        [
            "/index.php",
            "/filename.php",
            "/folder/filename.php",
            "/folder/filename.php?parameters",
            "/folder/any.php.file.html",
            "/filename.php/",
        ],
        ["/", "/windows.PHP"],
    ),
    (
        "/*.php$",
        ["/filename.php", "/folder/filename.php"],
        ["/filename.php?parameters", "/filename.php/", "/filename.php5", "/windows.PHP"],
    ),
    ("/fish*.php", ["/fish.php", "/fishheads/catfish.php?parameters"], ["/Fish.PHP"]),
    ("/a$b", ["/a$b", "/a$bc"], ["/a", "/ab"]),  # a `$` inside a pattern is a literal character
    ("/a*a$", ["/aa", "/aba", "/a/b/a"], ["/a", "/ab"]),  # the anchored tail may not overlap the head
    ("*.pdf$", ["/doc.pdf", "/x/y.pdf"], ["/doc.pdf?x=1", "/doc.pdfx"]),
]


@pytest.mark.parametrize(("pattern", "matching", "not_matching"), MATCHING)
def test_wildcards_and_end_anchor(pattern, matching, not_matching):
    rules = policy(f"User-agent: *\nDisallow: {pattern}\n")
    for path in matching:
        assert not rules.allows(path), f"{pattern!r} should match {path!r}"
    for path in not_matching:
        assert rules.allows(path), f"{pattern!r} should not match {path!r}"


# Percent-encoding: pattern and path compared in one spelling (RFC 9309 2.2.2).
ENCODING = [
    ("/%7Ejoe", "/~joe/index.html", False),
    ("/~joe", "/%7Ejoe/index.html", False),
    ("/~joe", "/%7ejoe/index.html", False),
    ("/f\u00f8\u00f8", "/f%C3%B8%C3%B8/bar", False),
    ("/f%c3%b8%c3%b8", "/f\u00f8\u00f8/bar", False),
    ("/foo/bar/%62%61%7A", "/foo/bar/baz", False),
    ("/a b", "/a%20b", False),
    ("/a%2Fb", "/a/b", True),  # an escaped reserved character stays escaped
    ("/a/b", "/a%2Fb", True),
    ("/100%", "/100%25", False),  # a lone % is the literal percent sign
    ("/search?q=caf\u00e9", "/search?q=caf%C3%A9&page=2", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), ENCODING)
def test_percent_encoding_is_normalised_on_both_sides(pattern, path, expected):
    assert policy(f"User-agent: *\nDisallow: {pattern}\n").allows(path) is expected


def test_query_is_part_of_the_matched_path_and_fragment_is_not():
    rules = policy("User-agent: *\nDisallow: /*sort=\n")
    assert not rules.allows("https://example.com/list?sort=date")
    assert rules.allows("https://example.com/list?page=2")
    assert rules.allows("https://example.com/list#sort=date")
    assert rules.allows("https://example.com/list?")


def test_absolute_urls_and_bare_paths_match_alike():
    rules = policy("User-agent: *\nDisallow: /private\n")
    for url in ("https://user@example.com:8443/private/x?y", "/private/x", "private/x", "//example.com/private"):
        assert not rules.allows(url), url
    for url in ("https://example.com", "https://example.com?private", "http://example.com/public", ""):
        assert rules.allows(url), url


GROUPS = """\
User-agent: *
Disallow: /everyone-else

User-agent: OtherBot
Disallow: /

User-agent: shadowmatch_kb
Disallow: /ours
Crawl-delay: 3
"""


def test_our_group_beats_the_star_group():
    rules = policy(GROUPS)
    assert not rules.allows("/ours/page")
    assert rules.allows("/everyone-else")  # the * group no longer applies to us
    assert rules.crawl_delay == 3.0


def test_other_agents_fall_back_to_the_star_group():
    rules = policy(GROUPS, "SomethingElse/1.0")
    assert not rules.allows("/everyone-else")
    assert rules.allows("/ours/page")
    assert rules.crawl_delay is None
    assert not policy(GROUPS, "OtherBot").allows("/anything")


@pytest.mark.parametrize(
    "agent_line", ["shadowmatch_kb", "ShadowMatch_KB", "SHADOWMATCH_KB", "shadowmatch_kb/2.0", "shadowmatch_kb (x)"]
)
def test_agent_lines_match_our_product_token_case_insensitively(agent_line):
    rules = policy(f"User-agent: *\nDisallow: /\n\nUser-agent: {agent_line}\nDisallow: /ours\n")
    assert rules.allows("/public") and not rules.allows("/ours")


@pytest.mark.parametrize("agent_line", ["shadowmatch", "shadowmatch_kbx", "kb", "shadowmatch-kb", "*bot"])
def test_other_product_tokens_are_not_ours(agent_line):
    # RFC 9309 matches whole product tokens; "shadowmatch" is another crawler's name, not a prefix of ours.
    rules = policy(f"User-agent: *\nDisallow: /star\n\nUser-agent: {agent_line}\nDisallow: /ours\n")
    assert not rules.allows("/star") and rules.allows("/ours")


def test_groups_for_our_agent_are_merged():
    text = """\
User-agent: shadowmatch_kb
Disallow: /a
Crawl-delay: 2

User-agent: *
Disallow: /star

user-agent: SHADOWMATCH_KB
Disallow: /b
Allow: /a/open
Crawl-delay: 9
"""
    rules = policy(text)
    assert not rules.allows("/a/x") and not rules.allows("/b/x")
    assert rules.allows("/a/open/x")  # an Allow in the second group outranks a Disallow in the first
    assert rules.allows("/star")
    assert rules.crawl_delay == 2.0  # the first value given to us


def test_star_groups_are_merged_too():
    rules = policy("User-agent: *\nDisallow: /a\n\nUser-agent: x\nDisallow: /\n\nUser-agent: *\nDisallow: /b\n")
    assert not rules.allows("/a") and not rules.allows("/b") and rules.allows("/c")


def test_consecutive_user_agent_lines_share_a_group():
    text = "User-agent: a\n\nUser-agent: shadowmatch_kb\nUser-agent: b\nDisallow: /shared\n"
    text += "User-agent: c\nDisallow: /c\n"
    rules = policy(text)
    assert not rules.allows("/shared")
    assert rules.allows("/c")  # a User-agent line after rules starts a new group
    assert not policy(text, "a").allows("/shared") and policy(text, "a").allows("/c")


def test_sitemap_between_user_agent_lines_does_not_split_the_group():
    text = "User-agent: a\nSitemap: https://example.com/s.xml\nUser-agent: shadowmatch_kb\nDisallow: /x\n"
    assert not policy(text).allows("/x") and not policy(text, "a").allows("/x")


def test_empty_disallow_in_our_group_allows_everything():
    rules = policy("User-agent: *\nDisallow: /\n\nUser-agent: shadowmatch_kb\nDisallow:\n")
    assert rules.allows("/anything") and rules.rules == []


def test_empty_disallow_for_everyone_allows_everything():
    assert policy("User-agent: *\nDisallow:\n").allows("/anything")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# nothing but a comment\n",
        "Disallow: /\n",  # a rule before any User-agent line belongs to no group
        "User-agent: otherbot\nDisallow: /\n",  # no group for us and no * group
    ],
)
def test_files_without_rules_for_us_allow_everything(text):
    assert policy(text).allows("/anything")


def test_robots_txt_itself_is_always_allowed():
    assert policy("User-agent: *\nDisallow: /robots.txt\nDisallow: /\n").allows("https://example.com/robots.txt")
    assert RobotsPolicy.deny_all().allows("/robots.txt")
    assert not RobotsPolicy.deny_all().allows("/robots.txt.bak")


SYNTAX = [
    ("comment after a rule", "User-agent: *\nDisallow: /a # not /a#b\n", "/a/x", False),
    ("commented-out group", "# User-agent: *\n# Disallow: /\nUser-agent: *\nDisallow: /z\n", "/a", True),
    ("commented-out rule", "User-agent: *\n#Disallow: /a\n", "/a", True),
    ("byte order mark", "\ufeffUser-agent: *\nDisallow: /a\n", "/a", False),
    ("CRLF line ends", "User-agent: *\r\nDisallow: /a\r\n", "/a", False),
    ("CR line ends", "User-agent: *\rDisallow: /a\r", "/a", False),
    ("upper-case keys", "USER-AGENT: *\nDISALLOW: /a\n", "/a", False),
    ("spaces around the colon", "User-agent :  *  \nDisallow  :   /a   \n", "/a", False),
    ("tabs and no space", "User-agent:\t*\nDisallow:/a\n", "/a", False),
    ("blank lines inside a group", "User-agent: *\n\n\nDisallow: /a\n", "/a", False),
    # Google's robots.txt parser and protego both read a missing colon as one (issue 17): obeyed.
    ("a line without a colon", "User-agent: *\nDisallow /a\n", "/a", False),
    ("unknown directives", "User-agent: *\nNoindex: /a\nHost: example.com\nClean-param: x\n", "/a", True),
    ("unknown directive keeps the group", "User-agent: *\nHost: example.com\nDisallow: /a\n", "/a", False),
    ("misspelled disallow", "User-agent: *\nDissallow: /a\n", "/a", False),
    ("misspelled user-agent", "Useragent: *\nDisallow: /a\n", "/a", False),
    ("pattern without a leading slash", "User-agent: *\nDisallow: a/\n", "/a/x", False),
    ("empty allow is no rule", "User-agent: *\nAllow:\nDisallow: /a\n", "/a", False),
]


@pytest.mark.parametrize(("name", "text", "path", "expected"), SYNTAX, ids=[case[0] for case in SYNTAX])
def test_syntax(name, text, path, expected):
    assert policy(text).allows(path) is expected


CRAWL_DELAYS = [
    ("2", 2.0, False),
    ("0.5", 0.5, False),
    (".25", 0.25, False),
    ("10.", 10.0, False),
    ("0", 0.0, False),
    (" 7 ", 7.0, False),
    ("60", 60.0, False),
    ("3600", MAX_CRAWL_DELAY, True),
    ("86400.5", MAX_CRAWL_DELAY, True),
    ("", None, False),
    ("abc", None, False),
    ("-1", None, False),
    ("nan", None, False),
    ("inf", None, False),
    ("1e3", None, False),
    ("1_0", None, False),
    ("5s", None, False),
    ("1,5", None, False),
]


@pytest.mark.parametrize(("value", "expected", "capped"), CRAWL_DELAYS)
def test_crawl_delay_parsing_and_capping(value, expected, capped):
    rules = policy(f"User-agent: *\nCrawl-delay: {value}\nDisallow: /x\n")
    assert rules.crawl_delay == expected
    assert rules.crawl_delay_capped is capped
    assert not rules.allows("/x")  # a Crawl-delay line does not disturb the group's rules


def test_invalid_crawl_delay_does_not_hide_a_later_valid_one():
    assert policy("User-agent: *\nCrawl-delay: soon\nCrawl-delay: 4\n").crawl_delay == 4.0


def test_first_crawl_delay_in_a_group_wins():
    assert policy("User-agent: *\nCrawl-delay: 2\nCrawl-delay: 9\n").crawl_delay == 2.0


def test_crawl_delay_comes_only_from_our_group():
    text = "User-agent: *\nCrawl-delay: 30\n\nUser-agent: shadowmatch_kb\nDisallow: /x\n"
    assert policy(text).crawl_delay is None
    assert policy(text, "AnyBot").crawl_delay == 30.0


def test_sitemaps_are_collected_from_every_group():
    text = """\
Sitemap: https://example.com/before.xml
User-agent: otherbot
Disallow: /
Sitemap: https://example.com/in-other-group.xml   # a comment
sitemap:https://example.com/no-space.xml
User-agent: *
SITEMAP: https://example.com/before.xml
Sitemap: /relative.xml
Sitemap:
"""
    assert policy(text).sitemaps == [
        "https://example.com/before.xml",
        "https://example.com/in-other-group.xml",
        "https://example.com/no-space.xml",
    ]


def test_sitemap_url_keeps_its_query_and_colons():
    text = "Sitemap: https://example.com:8080/sitemap.php?type=news&a=b:c\n"
    assert policy(text).sitemaps == ["https://example.com:8080/sitemap.php?type=news&a=b:c"]


def _padded(head: str, tail: str, size: int) -> str:
    """Return head + comment lines + tail, where the padding makes head+padding exactly `size` bytes."""
    filler_line = "# " + "x" * 97 + "\n"  # 100 bytes
    padding_bytes = size - len(head.encode())
    padding = filler_line * (padding_bytes // 100) + "#" * (padding_bytes % 100 - 1) + "\n"
    text = head + padding + tail
    assert len((head + padding).encode()) == size
    return text


def test_a_600_kib_file_is_read_up_to_512_kib():
    head = "User-agent: *\nDisallow: /early\nSitemap: https://example.com/early.xml\n"
    tail = "Disallow: /late\nSitemap: https://example.com/late.xml\n" + "# more\n" * 20_000
    text = _padded(head, tail, MAX_ROBOTS_BYTES)
    assert len(text.encode()) > 600 * 1024
    rules = policy(text)
    assert rules.truncated
    assert not rules.allows("/early")
    assert rules.allows("/late")
    assert rules.sitemaps == ["https://example.com/early.xml"]


def test_a_line_cut_by_the_size_cap_is_dropped_not_shortened():
    # "Disallow: /private" straddles the cap; read half, it would be "Disallow: /" and block the site.
    head = "User-agent: *\nDisallow: /early\n"
    text = _padded(head, "", MAX_ROBOTS_BYTES - len("Disallow: /")) + "Disallow: /private\n" + "#\n" * 10
    rules = policy(text)
    assert rules.truncated
    assert rules.allows("/public") and not rules.allows("/early")


def test_a_multibyte_character_cut_by_the_cap_does_not_break_parsing():
    text = "User-agent: *\nDisallow: /early\n" + "# \u00e9\u00e9\u00e9\u20ac\n" * 70_000
    rules = policy(text)
    assert rules.truncated and not rules.allows("/early")


def test_a_file_just_under_the_cap_is_read_whole():
    text = _padded("User-agent: *\n", "", MAX_ROBOTS_BYTES - len("Disallow: /late\n")) + "Disallow: /late\n"
    assert len(text.encode()) == MAX_ROBOTS_BYTES
    rules = policy(text)
    assert not rules.truncated and not rules.allows("/late")


GARBAGE = [
    "\x00" * 1000,
    ":" * 10_000,
    "User-agent: *\nDisallow: %\nDisallow: %%zz\nAllow: $\nDisallow: *$\nDisallow: $$\n",
    "User-agent:\nDisallow: /\n",
    "User-agent: *\nDisallow: /\ud800\n",  # a lone surrogate cannot be UTF-8 encoded
    "\ufeff\ufeff\ufeffUser-agent: *\n",
    "<html><body><h1>Not Found</h1></body></html>",
    "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "User-agent: *\nCrawl-delay: " + "9" * 5000 + "\n",
    "User-agent: *\nDisallow: /" + "*" * 10_000 + "\n",
]


@pytest.mark.parametrize("text", GARBAGE)
def test_garbage_never_raises(text):
    rules = policy(text)
    for url in ("/", "/a", "http://[::1", "::::", "?", "#frag", "//host", "/\ud800", "%", "/%zz"):
        assert isinstance(rules.allows(url), bool)


def test_random_garbage_never_raises():
    words = "User-agent: Disallow: Allow: Crawl-delay: Sitemap: * $ % %7E / # : shadowmatch_kb 1.5 ? a".split()
    pieces = [*words, "\n", "\r", " ", "\t", "\x00", "\ufeff", "\u00e9"]
    generator = random.Random(9309)
    for _ in range(500):
        text = "".join(generator.choice(pieces) for _ in range(generator.randint(0, 80)))
        rules = policy(text)
        url = "".join(generator.choice(pieces) for _ in range(generator.randint(0, 10)))
        assert isinstance(rules.allows(url), bool)
        assert rules.crawl_delay is None or 0 <= rules.crawl_delay <= MAX_CRAWL_DELAY


def test_hostile_wildcard_patterns_stay_fast():
    rules = policy("User-agent: *\nDisallow: /" + "*a" * 2000 + "*b\n")
    started = time.perf_counter()
    assert rules.allows("/" + "a" * 100_000)
    assert time.perf_counter() - started < 1.0


def test_rule_patterns_are_stored_normalised():
    assert RobotsRule.from_value(False, "/%7ejoe/f\u00f8*.php$").pattern == "/~joe/f%C3%B8*.php$"
    assert RobotsRule.from_value(True, "/a").specificity == 2


STATUSES = [
    (200, "User-agent: *\nDisallow: /x\n", {"/x": False, "/y": True}),
    (204, None, {"/x": True}),
    (404, None, {"/x": True, "/": True}),
    (403, "Forbidden", {"/x": True}),
    (401, None, {"/x": True}),
    (410, None, {"/x": True}),
    (429, None, {"/x": False, "/robots.txt": True}),
    (500, None, {"/x": False, "/": False, "/robots.txt": True}),
    (503, "User-agent: *\nDisallow:\n", {"/x": False}),
    (0, None, {"/x": False, "/": False}),
    (310, None, {"/x": True}),  # redirects not followed through: unavailable, like a 4xx
]


@pytest.mark.parametrize(("status", "text", "expected"), STATUSES)
def test_policy_for_status(status, text, expected):
    rules = policy_for_status(status, text, UA)
    for path, allowed in expected.items():
        assert rules.allows(path) is allowed, (status, path)


def test_allow_all_and_deny_all():
    assert RobotsPolicy.allow_all().allows("/anything")
    assert not RobotsPolicy.deny_all().allows("/anything")
    assert RobotsPolicy.allow_all().crawl_delay is None and RobotsPolicy.deny_all().sitemaps == []


def test_real_robots_txt_from_shared_data():
    path = require_shared("feeds", "advertools_sitemap_testing", "robots.txt")
    text = path.read_text(encoding="utf-8")
    ours = RobotsPolicy.parse(text, UA)
    assert ours.sitemaps == ["https://advertools.readthedocs.io/sitemap.xml"]
    assert ours.allows("/dont_crawl") and ours.allows("/index.php")  # the * group only allows
    google = RobotsPolicy.parse(text, "Googlebot/2.1")
    assert not google.allows("/dont_crawl/page")
    assert not google.allows("/index.php") and google.allows("/index.php?x=1")
    assert google.allows("/static/app.js")


def test_every_robots_txt_in_shared_data_parses():
    if not SHARED_DATA.exists():
        pytest.skip(f"{SHARED_DATA} is absent (real test data lives in ../shared/data beside the checkout)")
    files = [path for path in SHARED_DATA.rglob("*robots*.txt") if path.is_file()]
    if not files:
        pytest.skip(f"no robots.txt files under {SHARED_DATA}")
    for path in files:
        rules = RobotsPolicy.parse(path.read_text(encoding="utf-8", errors="replace"), UA)
        assert rules.allows("/robots.txt")
        assert all(url.startswith(("http://", "https://")) for url in rules.sitemaps)


# --- issue 17: lines without a colon, whole product tokens, empty queries, broken byte-order marks ---


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        # Google's robots.txt parser: whitespace stands for a missing colon when the line is two words.
        ("user-agent shadowmatch_kb\ndisallow /\n", "/anything", False),
        ("User-agent *\nDisallow /private\n", "/private/x", False),
        ("User-agent *\nDisallow /private\n", "/public", True),
        ("User-agent: *\nDisallow\t/tabbed\n", "/tabbed", False),
        # Our reading beyond both peers: Google's parser and protego would split at the value's colon and
        # lose the line; the two-word form they both accept is read instead (the polite choice).
        ("User-agent: *\nDisallow /a:b\n", "/a:b/c", False),
        ("User-agent: *\nDisallow /b\nAllow /b/open\n", "/b/open/x", True),
        # Google's robots.txt parser: three words are no directive at all.
        ("User-agent: *\nDisallow /a /b\n", "/a", True),
    ],
)
def test_a_missing_colon_is_read_as_one(text, path, expected):
    assert policy(text).allows(path) is expected


def test_a_missing_colon_in_the_user_agent_line_names_our_group():
    # protego behaviour: "user-agent FooBot" opens a group for FooBot.
    text = "User-agent: *\nDisallow: /star\n\nuser-agent FooBot\ndisallow /\n"
    assert not policy(text, "FooBot/2.0").allows("/page")
    assert policy(text).allows("/page") and not policy(text).allows("/star")


def test_our_product_token_is_compared_whole():
    assert product_token("Bot2/1.0") == "bot2"  # RFC 9309 2.2.1: the crawler's product token is compared whole
    assert product_token("Foo_Bot/1.0 (+https://example.com)") == "foo_bot"
    assert product_token("news.bot;x") == "news.bot"  # an HTTP token ends at ";" (RFC 9110 5.6.2)
    text = """\
User-agent: Bot
Disallow: /only-bot

User-agent: Bot3
Disallow: /only-bot3

User-agent: Bot2
Disallow: /only-bot2

User-agent: *
Disallow: /star
"""
    rules = policy(text, "Bot2/1.0 (+https://example.com/bot)")
    # Before issue 17 "Bot2/1.0" became "bot" and merged the groups of Bot, Bot2 and Bot3.
    assert rules.allows("/only-bot") and rules.allows("/only-bot3")
    assert not rules.allows("/only-bot2")  # protego behaviour: "Bot2" names the crawler Bot2
    assert rules.allows("/star")  # our own group replaces the * group (RFC 9309 2.2.1)


def test_group_values_are_still_cut_at_other_characters():
    # Google's robots.txt parser (RFC 9309 2.2.1): "User-agent: shadowmatch_kb/2.0" and
    # "User-agent: shadowmatch_kb;v=2" name shadowmatch_kb.
    for line in ("shadowmatch_kb/2.0", "shadowmatch_kb;v=2", "shadowmatch_kb2"):
        assert not policy(f"User-agent: {line}\nDisallow: /x\n").allows("/x"), line


@pytest.mark.parametrize(
    ("rule", "path", "expected"),
    [
        # Google's robots.txt parser keeps an empty query ("/path?") in the URL it matches.
        ("/path?", "/path", True),
        ("/path?", "/path?", False),
        ("/path?", "/path?x=1", False),
        ("/path?", "https://example.com/path?", False),
        ("/path?$", "/path?", False),
        ("/path?$", "/path?x", True),
        ("/path$", "/path?", True),
    ],
)
def test_a_rule_with_an_empty_query(rule, path, expected):
    assert policy(f"User-agent: *\nDisallow: {rule}\n").allows(path) is expected


@pytest.mark.parametrize(
    "prefix",
    [
        "\ufeff",  # a whole byte-order mark, decoded as UTF-8
        "\ufffd",  # the bytes EF BB alone, decoded as UTF-8 with replacement
        "\u00ef\u00bb\u00bf",  # a whole byte-order mark read as cp1252
        "\u00ef\u00bb",  # the bytes EF BB read as cp1252
        "\u00ef",  # the byte EF alone read as cp1252
    ],
)
def test_a_broken_byte_order_mark_keeps_the_first_group(prefix):
    # Google's robots.txt parser skips any prefix of the UTF-8 byte-order mark.
    rules = policy(prefix + "User-agent: *\nDisallow: /private\n")
    assert not rules.allows("/private")


def test_a_partial_byte_order_mark_through_the_fetchers_decoding():
    from shadowmatch_kb.fetch.decode import decode_body

    # The bytes EF BB are not UTF-8 before "U", so decode_body falls back to cp1252.
    text = decode_body(b"\xef\xbbUser-agent: *\r\nDisallow: /private\r\n", None)
    assert not policy(text).allows("/private")


@pytest.mark.parametrize(
    "line",
    [
        "Sitemap: https://example.com/s.xml",
        "Site-map: https://example.com/s.xml",  # Google's robots.txt parser and protego
        "sitemap : https://example.com/s.xml",
        "Site map: https://example.com/s.xml",
        "Sitemap https://example.com/s.xml",  # a missing colon: Google's parser takes it for a sitemap line too
    ],
)
def test_sitemap_spellings(line):
    assert policy(f"User-agent: *\n{line}\n").sitemaps == ["https://example.com/s.xml"]
    assert sitemap_lines(f"{line}\n") == ["https://example.com/s.xml"]
