"""A small real website on 127.0.0.1 for crawler tests, built from the real files in ../shared/data.

``CrawlSite`` is a threaded HTTP/1.1 server that logs every request (method, path with query, lower-cased
headers, ``time.monotonic()``) before any deliberate delay. It serves real news articles with strong ETags
and Last-Modified (304 on ``If-None-Match`` / ``If-Modified-Since``); a real RSS, Atom and JSON Feed and a
real urlset, sitemap index and gzipped news sitemap, their links rewritten to this site; and a start page
``/site/`` linking to every awkward case a crawler meets (redirects, a loop, 404, 500, 503 then 200, 429
then 200, slow, 12 MB, PDF, PNG, windows-1252, broken UTF-8, too short, a tag index, a near-duplicate, an
exact copy, a robots-disallowed page, an external link, ``mailto:`` and ``#fragment``). Relative links in
the real pages are resolved against their original address, so only the site's own pages link back in.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
import struct
import sys
import threading
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

__all__ = ["CrawlSite", "SeenRequest", "running_site"]

ZYTE = Path("extraction", "zyte")
LATIN1_PAGE = Path("extraction", "trafilatura_eval", "html", "automobilwoche.de-VW-Betriebsversammlung.html.gz")
RSS_FILE = Path("feeds", "feedjira_sample_feeds", "TechCrunch.xml")
ATOM_FILE = Path("feeds", "feedjira_sample_feeds", "AmazonWebServicesBlog.xml")
JSON_FEED_FILE = Path("feeds", "feedjira_sample_feeds", "json_feed.json")
URLSET_FILE = Path("feeds", "advertools_sitemap_testing", "regular_sitemap.xml")
INDEX_FILE = Path("feeds", "advertools_sitemap_testing", "sitemap_index.xml")
NEWS_FILE = Path("feeds", "advertools_sitemap_testing", "news_sitemap.xml")

# Short name -> Zyte page id (prefix). English news pages about work and business that the project's
# extractor turns into more than 1,000 characters; two stories about one event are never both here.
ARTICLES = {
    "gannett-local-news": "8634d121",  # LA Times: the Gannett/GateHouse merger and local news
    "future-of-banking": "2f42ef1d",  # Wired: The Future of Banking Is ... You're Broke
    "wework-layoffs": "bc13ff87",  # The Real Deal: WeWork employees to be laid off this week
    "indiana-teachers-rally": "7de52419",  # Detroit News: teachers pack Indiana Statehouse
    "apple-enterprise": "291a8bf3",  # CRN: Tim Cook on Apple being pulled into the enterprise
    "instagram-analytics": "d48aeb9c",  # Wired: Chasing Instagram analytics
    "disney-plus-glitches": "098bb3e9",  # LA Times: exec on Disney+ glitches
    "hibernating-astronauts": "e1c7023e",  # phys.org: hibernating astronauts, smaller spacecraft
    "korea-solar-costs": "b0cf2bbf",  # pv magazine: South Korea's roadmap to cheaper solar
    "retire-early": "f81c6c05",  # Business Insider: how to retire early
}
# The special pages that answer with a whole article, each a story not served anywhere else.
SPECIAL_ARTICLES = {
    "/site/section/deeper/deepest.html": "d1c57d78",  # SpaceNews: NASA adds five lunar lander companies
    "/private/secret.html": "4648a420",  # Experience: introducing a new CEO
    "/flaky.html": "65408257",  # Moneycontrol: economy in stress, markets on a high
    "/busy.html": "3c5bf8db",  # Live Science: most detailed universe simulation
    "/slow.html": "c00962aa",  # The Space Review: a bigger role for a big rocket
}
BROKEN_UTF8_ARTICLE = "ad9e9e59"  # GiveWell: a grant to Evidence Action Beta
START_ARTICLES = ["gannett-local-news", "future-of-banking", "wework-layoffs", "indiana-teachers-rally"]
UTM_ARTICLE = "gannett-local-news"
SYNDICATED_ARTICLE = "wework-layoffs"
COPIED_ARTICLE = "future-of-banking"
REDIRECT_TARGET = "/articles/apple-enterprise.html"
URLSET_EXTRAS = ["/redirect/start", "/private/secret.html"]
SPECIAL_LINKS = [
    "/redirect/start", "/loop/a", "/missing.html", "/error.html", "/flaky.html", "/busy.html", "/slow.html",
    "/huge.html", "/paper.pdf", "/photo.png", "/latin1.html", "/broken-utf8.html", "/short.html",
    "/tags/index.html", "/private/secret.html",
]  # fmt: skip
EXTERNAL_LINK = "https://example.org/x"
HUGE_BLOCKS = 184  # of about 64 KiB each: just over 12 MB, past a 10 MB page limit
# Fixed dates keep ETags and Last-Modified the same from run to run.
_EPOCH = datetime(2019, 11, 20, 12, 0, tzinfo=UTC).timestamp()
_HTML = "text/html; charset=utf-8"
_XML = "application/xml; charset=utf-8"
_ZYTE_TITLE = re.compile(rb'<meta[^>]+property=["\']og:title["\'][^>]+content=["\']([^"\']+)|<title[^>]*>([^<]+)', re.I)
_LINK_TAG = re.compile(r"<(?:a|area|link)\b[^>]*>", re.I | re.S)
_HREF = re.compile(r"""(\bhref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_NOT_RELATIVE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//|#|$)", re.I)


@dataclass(frozen=True)
class SeenRequest:
    """One request the site received."""

    method: str
    path: str  # with the query string, as sent
    headers: dict[str, str]  # names lower-cased
    at: float  # time.monotonic() when the request was read


@dataclass
class _Resource:
    body: bytes
    content_type: str
    etag: str
    last_modified: float  # seconds since the epoch, whole seconds

    @classmethod
    def of(cls, body: bytes, content_type: str, last_modified: float) -> _Resource:
        return cls(body, content_type, f'"{hashlib.sha256(body).hexdigest()[:24]}"', float(int(last_modified)))


# --- real files --------------------------------------------------------------------------------------


def _zyte(shared: Path, page_id: str, truth: dict[str, Any]) -> tuple[bytes, str, str]:
    """A Zyte page's HTML (links made absolute), its original URL and its path under shared."""
    (path,) = sorted((shared / ZYTE / "html").glob(f"{page_id}*.html.gz"))
    url = truth[path.name.removesuffix(".html.gz")]["url"]
    return _absolutize(gzip.decompress(path.read_bytes()), url), url, str(path.relative_to(shared))


def _absolutize(raw: bytes, original_url: str) -> bytes:
    """Resolve relative links in a real page against where it came from, so they lead off this site."""

    def fix_href(match: re.Match[str]) -> str:
        value = next(group for group in match.groups()[1:] if group is not None)
        if _NOT_RELATIVE.match(value):
            return match.group(0)
        return f'{match.group(1)}"{html.escape(urljoin(original_url, html.unescape(value.strip())))}"'

    # Latin-1 maps bytes to characters one to one, so any page's bytes come back untouched elsewhere.
    text = raw.decode("latin-1")
    text = _LINK_TAG.sub(lambda tag: _HREF.sub(fix_href, tag.group(0)), text)
    return text.encode("latin-1")


def _title_of(raw: bytes) -> str:
    match = _ZYTE_TITLE.search(raw)
    found = (match.group(1) or match.group(2)) if match else b""
    return " ".join(html.unescape(found.decode("utf-8", "replace")).split())


def _rewrite_blocks(text: str, pattern: str, urls: list[str], fix: Any) -> str:
    """Keep the first len(urls) item/entry blocks, each rewritten by fix(block, url); drop the others."""
    blocks = list(re.finditer(pattern, text, re.S))
    if len(blocks) < len(urls):
        raise ValueError(f"the real file has {len(blocks)} items, fewer than the {len(urls)} needed")
    out, last = [], 0
    for index, block in enumerate(blocks):
        out.append(text[last : block.start()])
        if index < len(urls):
            out.append(fix(block.group(0), urls[index]))
        last = block.end()
    out.append(text[last:])
    # Dropping blocks leaves their indentation behind as blank lines; harmless, and still valid XML.
    return "".join(out)


def _rss(raw: bytes, urls: list[str]) -> bytes:
    def fix(block: str, url: str) -> str:
        block = re.sub(r"<link>[^<]*</link>", f"<link>{url}</link>", block)
        # FeedBurner keeps the publisher's address in origLink, and readers prefer it to <link>.
        return re.sub(r"(<feedburner:origLink>)[^<]*(</feedburner:origLink>)", rf"\g<1>{url}\g<2>", block)

    return _rewrite_blocks(raw.decode("utf-8"), r"<item>.*?</item>", urls, fix).encode("utf-8")


def _atom(raw: bytes, urls: list[str]) -> bytes:
    def fix(block: str, url: str) -> str:
        return re.sub(r'(<link rel="(?:alternate|replies)"[^>]*href=")[^"]*', rf"\g<1>{url}", block)

    return _rewrite_blocks(raw.decode("utf-8"), r"<entry>.*?</entry>", urls, fix).encode("utf-8")


def _json_feed(raw: bytes, urls: list[str]) -> bytes:
    document = json.loads(raw)
    document["items"] = [dict(item, url=url) for item, url in zip(document["items"], urls, strict=False)]
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _locs(raw: bytes, urls: list[str], block: str) -> bytes:
    """Point the <loc> of the first len(urls) <url>/<sitemap> blocks at urls, dropping the rest."""

    def fix(text: str, url: str) -> str:
        # Keep the real file's stray whitespace around the address; parsers must cope with it.
        return re.sub(r"(<loc>\s*)(?:<!\[CDATA\[)?[^<\s\]]+(?:\]\]>)?(\s*</loc>)", rf"\g<1>{url}\g<2>", text)

    return _rewrite_blocks(raw.decode("utf-8"), rf"<{block}>.*?</{block}>", urls, fix).encode("utf-8")


# --- pages written here ------------------------------------------------------------------------------


def _page(title: str, body: str, *, site: str = "Harbour Lane Review") -> bytes:
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)} | {site}'
        f'</title>\n</head>\n<body>\n<header><a href="/site/">{site}</a></header>\n<main>\n<h1>{html.escape(title)}'
        f"</h1>\n{body}\n</main>\n<footer><p>{site}, 12 Harbour Lane.</p></footer>\n</body>\n</html>\n"
    ).encode()


def _links(items: list[tuple[str, str]]) -> str:
    rows = "".join(f'<li><a href="{html.escape(href)}">{html.escape(text)}</a></li>\n' for href, text in items)
    return f"<ul>\n{rows}</ul>"


def _start_page(titles: dict[str, str]) -> bytes:
    articles = [(f"/articles/{name}.html", titles[f"/articles/{name}.html"]) for name in START_ARTICLES]
    utm = f"/articles/{UTM_ARTICLE}.html?utm_source=newsletter"
    partners = [
        (f"/syndicated/{SYNDICATED_ARTICLE}.html", "Partner edition"),
        (f"/copy/{COPIED_ARTICLE}.html", "Mirror"),
    ]
    sections = {
        "Latest stories": [*articles, (utm, "From this week's newsletter")],
        "Sections": [("/site/section/", "Business section"), ("/tags/index.html", "All topics")],
        "From our partners": partners,
        "Elsewhere on this site": [(path, path.strip("/")) for path in SPECIAL_LINKS],
    }
    lists = "".join(f"<h2>{heading}</h2>\n{_links(items)}\n" for heading, items in sections.items())
    footer = (
        f'<p><a href="{EXTERNAL_LINK}">A friend of the site</a> · <a href="mailto:desk@harbourlane.invalid">'
        'Write to the desk</a> · <a href="#top">Back to top</a></p>'
    )
    return _page("Front page", f'<p id="top">Stories about work, picked by our editors.</p>\n{lists}{footer}')


def _tags_page() -> bytes:
    topics = (
        "automation, remote work, hiring, layoffs, unions, wages, skills, training, apprenticeships, retail, "
        "banking, insurance, logistics, farming, health care, teaching, local news, media, streaming, space, "
        "energy, solar, manufacturing, cars, retirement, pensions, start-ups, office space, gig work, "
        "management, diversity, productivity, software, data, privacy, regulation, trade, tariffs, markets, careers"
    ).split(", ")
    rows = "".join(
        f'<li><a href="/articles/{name}.html">{topic.capitalize()}</a> — {3 + index % 7} stories this month.</li>\n'
        for index, (topic, name) in enumerate(zip(topics, list(ARTICLES) * 4, strict=True))
    )
    return _page("All topics", f'<ul class="topics">\n{rows}</ul>')


def _syndicated_page(text: str, title: str, original_url: str) -> bytes:
    paragraphs = "".join(f"<p>{html.escape(part.strip())}</p>\n" for part in text.split("\n") if part.strip())
    host = urlsplit(original_url).hostname
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)} - Workday Wire</title>\n</head>\n<body>\n"
        '<div class="masthead"><a href="/site/">Workday Wire</a> · <a href="/site/section/">Business</a> · '
        '<a href="/tags/index.html">Topics</a></div>\n<div class="story">\n'
        f'<h1>{html.escape(title)}</h1>\n<p class="byline">Workday Wire partner desk</p>\n{paragraphs}'
        f"<p><em>This story first appeared on {host} and is republished with permission.</em></p>\n</div>\n"
        '<div class="rail"><h3>Sign up</h3><p>Get the Workday Wire briefing every morning.</p></div>\n'
        '<div class="legal">Workday Wire · Terms · Privacy · Contact</div>\n</body>\n</html>\n'
    ).encode()


def _pdf() -> bytes:
    stream = b"BT /F1 18 Tf 72 720 Td (Working paper: how tasks change when software arrives) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)  # where each object starts
    trailer = b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, len(out))
    return out + b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + xref + trailer


def _png(size: int = 8) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixel = [[bytes((40 * x % 256, 120, (200 - 20 * y) % 256)) for x in range(size)] for y in range(size)]
    rows = b"".join(b"\x00" + b"".join(row) for row in pixel)  # filter type 0 before each row
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


_HUGE_HEAD = b'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Complete archive</title>\n'
_HUGE_HEAD += b"</head>\n<body>\n<h1>Complete archive</h1>\n"
_HUGE_PARAGRAPH = b"<p>Every notice the works council has posted since the archive began, in one page.</p>\n"
_HUGE_BLOCK = _HUGE_PARAGRAPH * (65536 // len(_HUGE_PARAGRAPH))
_HUGE_TAIL = b"</body>\n</html>\n"
HUGE_SIZE = len(_HUGE_HEAD) + len(_HUGE_BLOCK) * HUGE_BLOCKS + len(_HUGE_TAIL)
# path -> (status, Location) of the answers that never change; "{base}" stands for the site's URL.
_FIXED: dict[str, tuple[int, str | None]] = {
    "/redirect/start": (301, "{base}/redirect/middle"),
    "/redirect/middle": (302, REDIRECT_TARGET),  # relative on purpose: clients resolve it themselves
    "/loop/a": (302, "/loop/b"),
    "/loop/b": (302, "/loop/a"),
    "/error.html": (500, None),
}
# path -> (status, headers) of the very first answer; every later request gets the page itself.
_FIRST_FAILS: dict[str, tuple[int, dict[str, str]]] = {
    "/flaky.html": (503, {}),
    "/busy.html": (429, {"Retry-After": "1"}),
}
SHORT_PAGE = _page("Office notice", "<p>Our office is closed on Monday for the holiday. It opens again on Tuesday.</p>")


def _not_modified(headers: dict[str, str], resource: _Resource) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since; ETags compare weakly here."""
    if "if-none-match" in headers:
        tags = [tag.strip() for tag in headers["if-none-match"].split(",")]
        return "*" in tags or any(tag.removeprefix("W/") == resource.etag for tag in tags)
    if "if-modified-since" in headers:
        try:
            since = parsedate_to_datetime(headers["if-modified-since"])
        except (TypeError, ValueError):
            return False  # an unreadable date is ignored, as the RFC says
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return resource.last_modified <= since.timestamp()
    return False


def _status_page(status: int) -> bytes:
    phrase = HTTPStatus(status).phrase
    return _page(phrase, f"<p>{status} {phrase}.</p>")


def _break_utf8(body: bytes) -> bytes:
    """Spoil four apostrophes in the text: three become cp1252 bytes, one loses its last byte."""
    start = body.index(b"<p")
    head, text = body[:start], body[start:]
    for bad in (b"\x92", b"\x92", b"\x92", b"\xe2\x80"):
        index = text.index("\u2019".encode())
        text = text[:index] + bad + text[index + 3 :]
    return head + text


# --- the server ------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, site: CrawlSite) -> None:
        self.site = site
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.site._record_error()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every response carries Content-Length
    timeout = 60  # an idle keep-alive connection is closed after this long
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self.server.site._serve(self)

    def do_HEAD(self) -> None:  # noqa: N802
        self.server.site._serve(self)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Say nothing on stderr: the site keeps its own log."""

    def reply(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str] | None = None) -> None:
        """Send one complete response; HEAD and 304 get the headers only."""
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status != 304:
            self.wfile.write(body)


class CrawlSite:
    """A threaded HTTP server on 127.0.0.1 serving a small site, recording every request."""

    def __init__(self, shared_data: Path, *, crawl_delay: float = 0.2, timeout_hint: float = 1.0) -> None:
        self.shared_data = Path(shared_data)
        self.crawl_delay = crawl_delay
        self.timeout_hint = timeout_hint
        self.errors: list[str] = []  # exceptions raised while serving (never a client hanging up)
        self.article_paths = [f"/articles/{name}.html" for name in ARTICLES]
        self.feed_paths = list(self.article_paths)  # the items of /feed.xml, /atom.xml and /feed.json
        self.sitemap_paths = self.article_paths[:3] + URLSET_EXTRAS
        self.news_sitemap_paths = self.article_paths[3:9]
        self.redirect_target = REDIRECT_TARGET
        self.copy_of = {f"/copy/{COPIED_ARTICLE}.html": f"/articles/{COPIED_ARTICLE}.html"}
        self.syndicated_of = {f"/syndicated/{SYNDICATED_ARTICLE}.html": f"/articles/{SYNDICATED_ARTICLE}.html"}
        self.titles: dict[str, str] = {}  # path -> title, for every page made from a real article
        self.original_urls: dict[str, str] = {}  # path -> where the real page was published
        self.sources: dict[str, str] = {}  # path -> the file under shared_data it was made from
        self._resources: dict[str, _Resource] = {}
        self._log: list[SeenRequest] = []
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._server = _Server(self)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        try:
            self._build()
        except BaseException:
            self._server.server_close()
            raise

    def url(self, path: str) -> str:
        """Return the absolute URL of a path on this site."""
        return self.base_url + path

    # --- building the pages ---

    def _add(self, path: str, body: bytes, content_type: str) -> None:
        # One minute apart, so If-Modified-Since tests can tell pages' ages apart.
        self._resources[path] = _Resource.of(body, content_type, _EPOCH + 60 * len(self._resources))

    def _add_real_article(self, path: str, page_id: str, truth: dict[str, Any], spoil: Any = None) -> None:
        body, url, source = _zyte(self.shared_data, page_id, truth)
        self._add(path, spoil(body) if spoil else body, _HTML)
        self.titles[path], self.original_urls[path], self.sources[path] = _title_of(body), url, source

    def _build(self) -> None:
        shared = self.shared_data
        truth = json.loads((shared / ZYTE / "ground-truth.json").read_text(encoding="utf-8"))
        for path, page_id in [*zip(self.article_paths, ARTICLES.values(), strict=True), *SPECIAL_ARTICLES.items()]:
            self._add_real_article(path, page_id, truth)
        self._add_real_article("/broken-utf8.html", BROKEN_UTF8_ARTICLE, truth, spoil=_break_utf8)
        rows = (shared / LATIN1_PAGE.parent.parent / "index.tsv").read_text(encoding="utf-8").splitlines()
        latin1_url = next(row.split("\t")[0] for row in rows if f"\t{LATIN1_PAGE.name.removesuffix('.gz')}\t" in row)
        latin1 = _absolutize(gzip.decompress((shared / LATIN1_PAGE).read_bytes()), latin1_url)
        self._add("/latin1.html", latin1, "text/html")  # the charset is declared only inside the page
        self.original_urls["/latin1.html"], self.sources["/latin1.html"] = latin1_url, str(LATIN1_PAGE)

        (copy_path, copied), (syndicated_path, original) = *self.copy_of.items(), *self.syndicated_of.items()
        self._add(copy_path, self._resources[copied].body, _HTML)
        text = next(page["articleBody"] for key, page in truth.items() if key.startswith(ARTICLES[SYNDICATED_ARTICLE]))
        self._add(syndicated_path, _syndicated_page(text, self.titles[original], self.original_urls[original]), _HTML)

        deepest = "/site/section/deeper/deepest.html"
        self._add("/site/", _start_page(self.titles), _HTML)
        section = _links([("/site/section/deeper/", "More from the business desk"), ("/site/", "Front page")])
        self._add("/site/section/", _page("Business", f"<p>The business desk.</p>\n{section}"), _HTML)
        deeper = _links([(deepest, self.titles[deepest]), ("/site/section/", "Business")])
        self._add("/site/section/deeper/", _page("Business archive", f"<p>Older stories.</p>\n{deeper}"), _HTML)
        self._add("/tags/index.html", _tags_page(), _HTML)
        self._add("/short.html", SHORT_PAGE, _HTML)
        self._add("/paper.pdf", _pdf(), "application/pdf")
        self._add("/photo.png", _png(), "image/png")
        self._add("/robots.txt", self._robots(), "text/plain; charset=utf-8")

        urls = [self.url(path) for path in self.feed_paths]
        self._add("/feed.xml", _rss((shared / RSS_FILE).read_bytes(), urls), "application/rss+xml; charset=utf-8")
        self._add("/atom.xml", _atom((shared / ATOM_FILE).read_bytes(), urls), "application/atom+xml; charset=utf-8")
        feed_json = _json_feed((shared / JSON_FEED_FILE).read_bytes(), urls)
        self._add("/feed.json", feed_json, "application/feed+json; charset=utf-8")
        urlset = _locs((shared / URLSET_FILE).read_bytes(), [self.url(p) for p in self.sitemap_paths], "url")
        self._add("/sitemap.xml", urlset, _XML)
        news = _locs((shared / NEWS_FILE).read_bytes(), [self.url(p) for p in self.news_sitemap_paths], "url")
        self._add("/sitemap-news.xml.gz", gzip.compress(news, mtime=0), "application/gzip")
        children = [self.url("/sitemap.xml"), self.url("/sitemap-news.xml.gz")]
        self._add("/sitemap_index.xml", _locs((shared / INDEX_FILE).read_bytes(), children, "sitemap"), _XML)
        made_from = [RSS_FILE, ATOM_FILE, JSON_FEED_FILE, URLSET_FILE, NEWS_FILE, INDEX_FILE]
        feeds = ["/feed.xml", "/atom.xml", "/feed.json", "/sitemap.xml", "/sitemap-news.xml.gz", "/sitemap_index.xml"]
        self.sources.update({path: str(file) for path, file in zip(feeds, made_from, strict=True)})
        self.sources.update({copy_path: self.sources[copied], syndicated_path: self.sources[original]})

    def _robots(self) -> bytes:
        delay = f"{self.crawl_delay:.3f}".rstrip("0").rstrip(".") or "0"
        lines = ["User-agent: *", "Disallow: /private/", f"Crawl-delay: {delay}"]
        return "\n".join([*lines, "", f"Sitemap: {self.url('/sitemap_index.xml')}", ""]).encode()

    # --- lifecycle and the log ---

    def start(self) -> None:
        """Serve requests in a daemon thread until stop()."""
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="crawl-site", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop serving, wake any deliberately slow answer and close the listening socket."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> CrawlSite:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def seen(self, path_prefix: str = "") -> list[SeenRequest]:
        """Return the requests so far (oldest first) whose path starts with path_prefix."""
        with self._lock:
            return [request for request in self._log if request.path.startswith(path_prefix)]

    def paths_seen(self) -> list[str]:
        """Return the path (with query) of every request so far, oldest first."""
        with self._lock:
            return [request.path for request in self._log]

    def reset_log(self) -> None:
        """Forget the requests seen so far (the flaky and busy pages stay recovered)."""
        with self._lock:
            self._log.clear()

    def change(self, path: str, body: bytes, *, content_type: str | None = None) -> None:
        """Replace a page's body (new ETag, later Last-Modified); a new path becomes a new page."""
        with self._lock:
            old = self._resources.get(path)
            if content_type is None and old is not None:
                content_type = old.content_type
            elif content_type is None:
                suffix = path.rsplit("/", 1)[-1].rpartition(".")[2]
                content_type = {"xml": _XML, "json": "application/feed+json", "txt": "text/plain"}.get(suffix, _HTML)
            # At least a second past the old date: HTTP dates have whole seconds.
            stamp = max(time.time(), old.last_modified + 1 if old else 0.0)
            self._resources[path] = _Resource.of(body, content_type, stamp)

    def _record_error(self) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            with self._lock:
                self.errors.append(traceback.format_exc())

    # --- answering ---

    def _serve(self, handler: _Handler) -> None:
        path = handler.path.split("?", 1)[0]
        headers = {name.lower(): value for name, value in handler.headers.items()}
        with self._lock:
            self._log.append(SeenRequest(handler.command, handler.path, headers, time.monotonic()))
            self._hits[path] += 1
            first = self._hits[path] == 1
            resource = self._resources.get(path)
        try:
            if path in _FIXED:
                status, location = _FIXED[path]
                extra = {"Location": location.format(base=self.base_url)} if location else {}
                handler.reply(status, _status_page(status), _HTML, extra)
            elif path in _FIRST_FAILS and first:
                status, extra = _FIRST_FAILS[path]
                handler.reply(status, _status_page(status), _HTML, extra)
            elif path == "/huge.html":
                self._stream_huge(handler)
            elif resource is None:
                handler.reply(404, _status_page(404), _HTML)
            else:
                if path == "/slow.html":
                    # Already logged; stop() cuts the wait short so that shutting down stays quick.
                    self._stopping.wait(self.timeout_hint + 1.0)
                self._send(handler, resource, headers)
        except ConnectionError:
            handler.close_connection = True  # the client hung up, as clients with a size or time limit do

    def _send(self, handler: _Handler, resource: _Resource, headers: dict[str, str]) -> None:
        validators = {"ETag": resource.etag, "Last-Modified": formatdate(resource.last_modified, usegmt=True)}
        if _not_modified(headers, resource):
            handler.reply(304, b"", None, validators)
        else:
            handler.reply(200, resource.body, resource.content_type, validators)

    def _stream_huge(self, handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", _HTML)
        handler.send_header("Content-Length", str(HUGE_SIZE))
        handler.end_headers()
        if handler.command == "HEAD":
            return
        # Block by block, so the 12 MB are never held in memory.
        handler.wfile.write(_HUGE_HEAD)
        for _ in range(HUGE_BLOCKS):
            if self._stopping.is_set():
                handler.close_connection = True
                return
            handler.wfile.write(_HUGE_BLOCK)
        handler.wfile.write(_HUGE_TAIL)


@contextmanager
def running_site(shared_data: Path, *, crawl_delay: float = 0.2, timeout_hint: float = 1.0) -> Iterator[CrawlSite]:
    """Run a CrawlSite for the length of a with-block; a fixture can ``yield`` from inside it."""
    site = CrawlSite(shared_data, crawl_delay=crawl_delay, timeout_hint=timeout_hint)
    site.start()
    try:
        yield site
    finally:
        site.stop()
