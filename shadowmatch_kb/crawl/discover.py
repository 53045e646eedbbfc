"""Discovery: turn a fetched feed, sitemap or robots.txt into the links the crawler fetches next.

Pure parsing, no network. RSS 0.9x/1.0/2.0 and Atom go through feedparser, JSON Feed 1 and 1.1 are
read with ``json``, sitemaps (``<urlset>``, ``<sitemapindex>``, news sitemaps, plain-text sitemaps)
with lxml's XML parser set up so that a hostile document cannot expand entities, read local files
or reach the network. Gzipped bodies are recognised by their magic bytes, whatever the URL says,
and decompressed up to ``MAX_DECOMPRESSED_BYTES``.

Dates become ``YYYY-MM-DD`` on the publisher's own calendar day (the date as written, before any
time-zone shift); a date that cannot be read becomes ``None``, never an error. Only absolute
http(s) links come out, resolved against the document's URL and without repeats.

Anything that is not what it claims to be raises ``InputError(base_url, reason)`` with a one-line
reason; an empty but valid feed or sitemap gives ``[]``.
"""

from __future__ import annotations

import html
import io
import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from lxml import etree

from shadowmatch_kb.errors import InputError

__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "DiscoveredLink",
    "detect_kind",
    "parse_feed",
    "parse_sitemap",
    "sitemaps_from_robots",
]

# The sitemap protocol caps one sitemap at 50 MB uncompressed; anything larger is a mistake or a bomb.
MAX_DECOMPRESSED_BYTES = 50 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
# Enough of a document to see past an XML declaration, comments and a DOCTYPE to the root element.
_SNIFF_BYTES = 64 * 1024
_FEED_ROOTS = frozenset({"rss", "rdf", "feed"})
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
_HTML_ROOTS = frozenset({"html", "head", "body"})
_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/")
# JSON writers may escape slashes, so the sniffer accepts both spellings.
_JSON_FEED_MARK = re.compile(r"jsonfeed\.org\\?/version")
_TAG_NAME = re.compile(r"<([A-Za-z_][\w.:-]*)")
_SUBSET_END = re.compile(r"\]\s*>")
_DOCTYPE_HTML = re.compile(r"<!doctype\s+html", re.IGNORECASE)
_EMBEDDED_FEED = re.compile(r"<feed\s[^>]*xmlns=[\"']http://www\.w3\.org/2005/Atom[\"']|<rss\s[^>]*version=")
_ISO_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?=$|[Tt\sZz+])")
_MARKUP = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL_LINE = re.compile(r"^https?://\S+$", re.IGNORECASE)
_WHITESPACE = b" \t\r\n"
_ENTITIES_REFUSED = "the {kind} declares XML entities, which no {kind} needs (refused)"


@dataclass(frozen=True, slots=True)
class DiscoveredLink:
    """One link found in a feed or sitemap: an article to fetch, or a child sitemap to read next."""

    url: str
    published: str | None = None
    title: str | None = None
    kind: str = "article"


# --- bytes: gzip, text, the root element ---------------------------------------------------------


def _gunzip(content: bytes, *, source: str, limit: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """Decompress gzip data (every member) up to ``limit`` bytes; other data is returned as it is."""
    if not content.startswith(_GZIP_MAGIC):
        if len(content) > limit:
            raise InputError(source, f"larger than the {limit // 2**20} MB a sitemap or feed may be")
        return content
    out = bytearray()
    data = content
    while data.startswith(_GZIP_MAGIC):
        decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = data
        try:
            while not decompressor.eof:
                # Never ask for more than one byte past the cap, so a bomb costs at most the cap in memory.
                chunk = decompressor.decompress(pending, limit + 1 - len(out))
                out += chunk
                if len(out) > limit:
                    raise InputError(source, f"gzip data expands past {limit // 2**20} MB (refused)")
                pending = decompressor.unconsumed_tail
                if not chunk and not pending:
                    break
        except zlib.error as exc:
            raise InputError(source, f"corrupt gzip data: {exc}") from exc
        if not decompressor.eof:
            raise InputError(source, "truncated gzip data")
        # Concatenated members are one file to gzip; bytes after the last member are padding, ignored.
        data = decompressor.unused_data
    return bytes(out)


def _sniff_text(content: bytes) -> str:
    """The first bytes of a possibly gzipped document as text, for looking only (never fails)."""
    head = content[:_SNIFF_BYTES]
    if head.startswith(_GZIP_MAGIC):
        try:
            head = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(content, _SNIFF_BYTES)
        except zlib.error:
            return ""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    return head.decode("utf-8", errors="replace").lstrip("\ufeff")


def _scan_prolog(text: str) -> tuple[str | None, str]:
    """Return the root element's local name (lower case) and the prolog before it."""
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if text.startswith("<?", pos):
            stop = _end_after(text, "?>", pos)
        elif text.startswith("<!--", pos):
            stop = _end_after(text, "-->", pos)
        elif text.startswith("<!", pos):
            # A DOCTYPE; its internal subset in [...] may itself contain ">".
            close = text.find(">", pos)
            bracket = text.find("[", pos)
            if bracket != -1 and (close == -1 or bracket < close):
                found = _SUBSET_END.search(text, bracket)
                stop = found.end() if found else -1
            else:
                stop = close + 1 if close != -1 else -1
        else:
            match = _TAG_NAME.match(text, pos)
            name = match.group(1).rsplit(":", 1)[-1].lower() if match else None
            return name, text[:pos]
        if stop == -1:
            return None, text
        pos = stop


def _end_after(text: str, marker: str, start: int) -> int:
    found = text.find(marker, start)
    return found + len(marker) if found != -1 else -1


def _declares_entities(prolog: str) -> bool:
    # Entities can only be declared in the DTD before the root element; no feed or sitemap needs one,
    # and refusing them outright rules out "billion laughs" expansion and external-entity reads.
    return "<!ENTITY" in prolog


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def detect_kind(content: bytes, content_type: str | None) -> str:
    """Say whether a body is a "feed", a "sitemap", an "html" page or "unknown", sniffing bytes first."""
    text = _sniff_text(content).lstrip()
    if text.startswith("{"):
        return "feed" if _JSON_FEED_MARK.search(text) else "unknown"
    if text.startswith("<"):
        root, prolog = _scan_prolog(text)
        if root in _FEED_ROOTS:
            return "feed"
        if root in _SITEMAP_ROOTS:
            return "sitemap"
        if root in _HTML_ROOTS or _DOCTYPE_HTML.search(prolog):
            # Some publishers wrap their Atom or RSS in an XHTML page; feed readers (and feedparser) cope.
            return "feed" if _EMBEDDED_FEED.search(text) else "html"
    elif text and _URL_LINE.match(text.splitlines()[0].strip()):
        return "sitemap"
    # Servers label feeds text/xml and sitemaps text/plain, so the header only settles what sniffing could not.
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in _FEED_TYPES:
        return "feed"
    if media_type in _HTML_TYPES:
        return "html"
    return "unknown"


def _refuse_other_kind(content: bytes, *, expected: str, source: str) -> None:
    found = detect_kind(content, None)
    if found == "html":
        raise InputError(source, f"got an HTML page, not a {expected}")
    if found in ("feed", "sitemap") and found != expected:
        raise InputError(source, f"got a {found}, not a {expected}")


# --- links, dates, titles ------------------------------------------------------------------------


def _absolute_http(link: object, base_url: str) -> str | None:
    """Resolve a link against the document's URL; None unless the result is an http(s) URL with a host."""
    if not isinstance(link, str):
        return None
    link = link.strip().replace(" ", "%20")
    if not link or _CONTROL.search(link):
        return None
    try:
        url = urljoin(base_url, link)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _unwrap_redirect(url: str) -> str:
    # Google Alerts feeds wrap every article in a google.com/url?url=... redirect; keep the article itself.
    parts = urlsplit(url)
    if parts.hostname in ("www.google.com", "google.com") and parts.path == "/url":
        query = parse_qs(parts.query)
        for key in ("url", "q"):
            target = _absolute_http(query.get(key, [""])[0], url)
            if target:
                return target
    return url


def _normalise_date(value: object) -> str | None:
    """A W3C/ISO 8601 or RFC 822 date as YYYY-MM-DD on the day as written; None when unreadable."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _ISO_DATE.match(text)
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _date_from_struct(value: object) -> str | None:
    try:
        return date(value.tm_year, value.tm_mon, value.tm_mday).isoformat()  # type: ignore[attr-defined]
    except (AttributeError, TypeError, ValueError):
        return None


def _clean_title(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(html.unescape(_MARKUP.sub("", value)).split())
    return text or None


def _dedupe(links: Iterable[DiscoveredLink]) -> list[DiscoveredLink]:
    seen: set[str] = set()
    unique: list[DiscoveredLink] = []
    for link in links:
        if link.url not in seen:
            seen.add(link.url)
            unique.append(link)
    return unique


# --- feeds ---------------------------------------------------------------------------------------


def _document_body(content: bytes, base_url: str, kind: str) -> bytes:
    """The response ungzipped, without a byte-order mark or leading whitespace; empty is an error."""
    body = _gunzip(content, source=base_url)
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    # Many real feeds start with a blank line, which makes the XML declaration an error to strict parsers.
    body = body.lstrip(_WHITESPACE)
    if not body:
        raise InputError(base_url, f"empty response, not a {kind}")
    return body


def parse_feed(content: bytes, *, base_url: str) -> list[DiscoveredLink]:
    """Return the article links of an RSS, Atom or JSON Feed document, in feed order."""
    body = _document_body(content, base_url, "feed")
    if body.startswith(b"{"):
        return _parse_json_feed(body, base_url)
    _, prolog = _scan_prolog(_sniff_text(body))
    if _declares_entities(prolog):
        raise InputError(base_url, _ENTITIES_REFUSED.format(kind="feed"))
    return _parse_xml_feed(body, base_url)


def _parse_xml_feed(body: bytes, base_url: str) -> list[DiscoveredLink]:
    import feedparser  # imported here so commands that never read a feed start faster

    # A stream, never bytes: feedparser treats bytes that name a file or URL as something to open.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-location": base_url},
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    entries = parsed.get("entries") or []
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    benign = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    if not entries and not parsed.get("version"):
        # Only now: some real feeds come wrapped in an XHTML page, and feedparser still reads them.
        _refuse_other_kind(body, expected="feed", source=base_url)
        reason = f": {_one_line(problem)}" if problem is not None else ""
        raise InputError(base_url, f"not an RSS, Atom or JSON feed{reason}")
    links: list[DiscoveredLink] = []
    for entry in entries:
        url = _entry_url(entry, base_url)
        if url is not None:
            links.append(DiscoveredLink(url, _entry_date(entry), _clean_title(entry.get("title")), "article"))
    # Links read before a recoverable error (say, a truncated last item) still count; none at all do not.
    if not links and problem is not None and not isinstance(problem, benign):
        raise InputError(base_url, f"malformed feed: {_one_line(problem)}")
    return _dedupe(links)


def _entry_url(entry: Any, base_url: str) -> str | None:
    # FeedBurner rewrites links to its own redirector and keeps the publisher's link in origLink.
    candidates = [entry.get("feedburner_origlink"), entry.get("link")]
    candidates += [link.get("href") for link in entry.get("links", []) if link.get("rel") == "alternate"]
    for candidate in candidates:
        url = _absolute_http(candidate, base_url)
        if url is not None:
            return _unwrap_redirect(url)
    return None


def _entry_date(entry: Any) -> str | None:
    for field in ("published", "updated", "created"):
        # The raw string keeps the publisher's day; feedparser's tuple has been shifted to UTC.
        found = _normalise_date(entry.get(field)) or _date_from_struct(entry.get(f"{field}_parsed"))
        if found:
            return found
    return None


def _parse_json_feed(body: bytes, base_url: str) -> list[DiscoveredLink]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InputError(base_url, f"invalid JSON: {_one_line(exc)}") from exc
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not _JSON_FEED_VERSION.match(version):
        raise InputError(base_url, "JSON but not a JSON Feed (no https://jsonfeed.org/version/ version)")
    items = document.get("items", [])
    if not isinstance(items, list):
        raise InputError(base_url, "malformed JSON Feed: items is not a list")
    links: list[DiscoveredLink] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        url = _absolute_http(item.get("url"), base_url) or _absolute_http(item.get("external_url"), base_url)
        if url is None:
            continue
        published = _normalise_date(item.get("date_published")) or _normalise_date(item.get("date_modified"))
        links.append(DiscoveredLink(url, published, _clean_title(item.get("title")), "article"))
    return _dedupe(links)


# --- sitemaps ------------------------------------------------------------------------------------


def parse_sitemap(content: bytes, *, base_url: str) -> list[DiscoveredLink]:
    """Return a sitemap's pages (kind "article") or a sitemap index's child sitemaps (kind "sitemap")."""
    body = _document_body(content, base_url, "sitemap")
    if not body.startswith(b"<"):
        return _parse_text_sitemap(body, base_url)
    _refuse_other_kind(body, expected="sitemap", source=base_url)
    _, prolog = _scan_prolog(_sniff_text(body))
    if _declares_entities(prolog):
        raise InputError(base_url, _ENTITIES_REFUSED.format(kind="sitemap"))
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(base_url, f"not well-formed XML: {_one_line(exc)}") from exc
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        # A backstop for a DTD the prolog scan missed; entities were kept unexpanded by the parser.
        raise InputError(base_url, _ENTITIES_REFUSED.format(kind="sitemap"))
    name = _local_name(root)
    if name == "urlset":
        return _dedupe(_urlset_links(root, base_url))
    if name == "sitemapindex":
        return _dedupe(_index_links(root, base_url))
    raise InputError(base_url, f"not a sitemap: the root element is <{name}>, not <urlset> or <sitemapindex>")


def _local_name(element: Any) -> str:
    # Namespaces vary (and are sometimes missing or wrong), so elements are matched by local name.
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(element: Any, name: str) -> Any | None:
    for child in element:
        if _local_name(child) == name:
            return child
    return None


def _child_text(element: Any, name: str) -> str | None:
    child = _child(element, name)
    return child.text.strip() if child is not None and child.text else None


def _urlset_links(root: Any, base_url: str) -> Iterable[DiscoveredLink]:
    for entry in root:
        if _local_name(entry) != "url":
            continue
        # Only <loc> directly under <url>: image and video extensions carry their own <image:loc>.
        url = _absolute_http(_child_text(entry, "loc"), base_url)
        if url is None:
            continue
        news = _child(entry, "news")
        title = _clean_title(_child_text(news, "title")) if news is not None else None
        published = _normalise_date(_child_text(news, "publication_date")) if news is not None else None
        yield DiscoveredLink(url, published or _normalise_date(_child_text(entry, "lastmod")), title, "article")


def _index_links(root: Any, base_url: str) -> Iterable[DiscoveredLink]:
    for entry in root:
        if _local_name(entry) != "sitemap":
            continue
        url = _absolute_http(_child_text(entry, "loc"), base_url)
        if url is not None:
            yield DiscoveredLink(url, _normalise_date(_child_text(entry, "lastmod")), None, "sitemap")


def _parse_text_sitemap(body: bytes, base_url: str) -> list[DiscoveredLink]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(base_url, "neither XML nor a UTF-8 text sitemap (binary data)") from exc
    lines = [line.strip() for line in text.splitlines()]
    if any(_CONTROL.search(line) for line in lines):
        raise InputError(base_url, "neither XML nor a text sitemap (control characters)")
    links = [
        DiscoveredLink(url, None, None, "article")
        for line in lines
        if _URL_LINE.match(line) and (url := _absolute_http(line, base_url)) is not None
    ]
    if not links:
        raise InputError(base_url, "neither XML nor a text sitemap (no line is an http(s) URL)")
    return _dedupe(links)


# --- robots.txt ----------------------------------------------------------------------------------


def sitemaps_from_robots(robots_txt: str, *, base_url: str) -> list[str]:
    """Return the sitemap URLs that a robots.txt lists on its ``Sitemap:`` lines, in order."""
    found: list[str] = []
    for raw in robots_txt.splitlines():
        line = raw.split("#", 1)[0].strip()
        key, separator, value = line.partition(":")
        if not separator or key.strip().lower() != "sitemap":
            continue
        url = _absolute_http(value, base_url)
        if url is not None and url not in found:
            found.append(url)
    return found
