"""Discovery: turn a fetched feed, sitemap or robots.txt into the links the crawler fetches next.

Pure parsing, no network. RSS 0.9x/1.0/2.0 and Atom go through feedparser, JSON Feed 1 and 1.1 are
read with ``json``, sitemaps (``<urlset>``, ``<sitemapindex>``, news sitemaps, plain-text sitemaps,
and RSS or Atom feeds listed as sitemaps, as the sitemaps.org protocol allows) with lxml's XML parser
set up so that a hostile document cannot expand entities, read local files or reach the network.
Gzipped bodies are recognised by their magic bytes, whatever the URL says, and decompressed up to
``MAX_DECOMPRESSED_BYTES`` (``crawl.listings`` holds these shared parts).

Dates become ``YYYY-MM-DD`` on the publisher's own calendar day (the date as written, before any
time-zone shift); a date that cannot be read becomes ``None``, never an error. Only absolute
http(s) links come out, resolved against the document's URL and without repeats.

Anything that is not what it claims to be raises ``InputError(base_url, reason)`` with a one-line
reason; an empty but valid feed or sitemap gives ``[]``. A sitemap cut short (a download that
stopped mid-file) gives every entry that was complete before the break.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from lxml import etree

from shadowmatch_kb.crawl.listings import (
    MAX_DECOMPRESSED_BYTES,
    DiscoveredLink,
    absolute_http,
    clean_title,
    date_from_struct,
    declares_entities,
    dedupe,
    document_body,
    normalise_date,
    one_line,
    scan_prolog,
    sniff_text,
    unwrap_redirect,
)
from shadowmatch_kb.errors import InputError
from shadowmatch_kb.fetch.robots import sitemap_lines

__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "DiscoveredLink",
    "detect_kind",
    "parse_feed",
    "parse_sitemap",
    "sitemaps_from_robots",
]

_FEED_ROOTS = frozenset({"rss", "rdf", "feed"})
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
_HTML_ROOTS = frozenset({"html", "head", "body"})
_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/")
# JSON writers may escape slashes, so the sniffer accepts both spellings.
_JSON_FEED_MARK = re.compile(r"jsonfeed\.org\\?/version")
_DOCTYPE_HTML = re.compile(r"<!doctype\s+html", re.IGNORECASE)
_EMBEDDED_FEED = re.compile(r"<feed\s[^>]*xmlns=[\"']http://www\.w3\.org/2005/Atom[\"']|<rss\s[^>]*version=")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL_LINE = re.compile(r"^https?://\S+$", re.IGNORECASE)
_ENTITIES_REFUSED = "the {kind} declares XML entities, which no {kind} needs (refused)"
# A hostile sitemap can neither expand entities, read local files nor reach the network.
_SAFE_XML: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "load_dtd": False,
    "remove_comments": True,
    "remove_pis": True,
}
# The entry element of each kind of sitemap.
_ENTRY_OF = {"urlset": "url", "sitemapindex": "sitemap"}


def detect_kind(content: bytes, content_type: str | None) -> str:
    """Say whether a body is a "feed", a "sitemap", an "html" page or "unknown", sniffing bytes first."""
    text = sniff_text(content).lstrip()
    if text.startswith("{"):
        return "feed" if _JSON_FEED_MARK.search(text) else "unknown"
    if text.startswith("<"):
        root, prolog = scan_prolog(text)
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


# --- feeds ---------------------------------------------------------------------------------------


def parse_feed(content: bytes, *, base_url: str) -> list[DiscoveredLink]:
    """Return the article links of an RSS, Atom or JSON Feed document, in feed order."""
    body = document_body(content, base_url, "feed")
    if body.startswith(b"{"):
        return _parse_json_feed(body, base_url)
    _, prolog = scan_prolog(sniff_text(body))
    if declares_entities(prolog):
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
        reason = f": {one_line(problem)}" if problem is not None else ""
        raise InputError(base_url, f"not an RSS, Atom or JSON feed{reason}")
    links: list[DiscoveredLink] = []
    for entry in entries:
        url = _entry_url(entry, base_url)
        if url is not None:
            links.append(DiscoveredLink(url, _entry_date(entry), clean_title(entry.get("title")), "article"))
    # Links read before a recoverable error (say, a truncated last item) still count; none at all do not.
    if not links and problem is not None and not isinstance(problem, benign):
        raise InputError(base_url, f"malformed feed: {one_line(problem)}")
    return dedupe(links)


def _entry_url(entry: Any, base_url: str) -> str | None:
    # FeedBurner rewrites links to its own redirector and keeps the publisher's link in origLink.
    candidates = [entry.get("feedburner_origlink"), entry.get("link")]
    candidates += [link.get("href") for link in entry.get("links", []) if link.get("rel") == "alternate"]
    for candidate in candidates:
        url = absolute_http(candidate, base_url)
        if url is not None:
            return unwrap_redirect(url)
    return None


def _entry_date(entry: Any) -> str | None:
    for field in ("published", "updated", "created"):
        # The raw string keeps the publisher's day; feedparser's tuple has been shifted to UTC.
        found = normalise_date(entry.get(field)) or date_from_struct(entry.get(f"{field}_parsed"))
        if found:
            return found
    return None


def _parse_json_feed(body: bytes, base_url: str) -> list[DiscoveredLink]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InputError(base_url, f"invalid JSON: {one_line(exc)}") from exc
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
        url = absolute_http(item.get("url"), base_url) or absolute_http(item.get("external_url"), base_url)
        if url is None:
            continue
        published = normalise_date(item.get("date_published")) or normalise_date(item.get("date_modified"))
        links.append(DiscoveredLink(url, published, clean_title(item.get("title")), "article"))
    return dedupe(links)


# --- sitemaps ------------------------------------------------------------------------------------


def parse_sitemap(content: bytes, *, base_url: str) -> list[DiscoveredLink]:
    """Return a sitemap's (or feed's) pages, kind "article", or an index's child sitemaps, kind "sitemap"."""
    body = document_body(content, base_url, "sitemap")
    if not body.startswith(b"<"):
        return _parse_text_sitemap(body, base_url)
    if detect_kind(body, None) == "feed":
        # The sitemaps.org protocol accepts RSS 2.0 and Atom feeds as sitemaps: their entries' links.
        return parse_feed(body, base_url=base_url)
    _refuse_other_kind(body, expected="sitemap", source=base_url)
    _, prolog = scan_prolog(sniff_text(body))
    if declares_entities(prolog):
        raise InputError(base_url, _ENTITIES_REFUSED.format(kind="sitemap"))
    try:
        root = etree.fromstring(body, etree.XMLParser(**_SAFE_XML))
    except etree.XMLSyntaxError as exc:
        # A download that stopped mid-file still holds every entry before the break.
        recovered = _complete_entries(body, base_url)
        if recovered:
            return dedupe(recovered)
        raise InputError(base_url, f"not well-formed XML: {one_line(exc)}") from exc
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        # A backstop for a DTD the prolog scan missed; entities were kept unexpanded by the parser.
        raise InputError(base_url, _ENTITIES_REFUSED.format(kind="sitemap"))
    name = _local_name(root)
    if name not in _ENTRY_OF:
        raise InputError(base_url, f"not a sitemap: the root element is <{name}>, not <urlset> or <sitemapindex>")
    links = (_entry_link(entry, name, base_url) for entry in root if _local_name(entry) == _ENTRY_OF[name])
    return dedupe(link for link in links if link is not None)


def _complete_entries(body: bytes, base_url: str) -> list[DiscoveredLink]:
    """The links of every entry closed in full before a sitemap breaks off (none: not a sitemap)."""
    # ultimate-sitemap-parser behaviour: a sitemap cut short keeps the pages read before the break.
    # The pull parser reports an element's end only once its end tag has been read, so an entry cut in
    # its <loc> never yields a half URL. close() is never called: it would close the cut entry too.
    parser = etree.XMLPullParser(events=("start", "end"), **_SAFE_XML)
    try:
        parser.feed(body)
    except etree.XMLSyntaxError:
        pass  # the events read before the error are still there
    links: list[DiscoveredLink] = []
    root: str | None = None
    depth = 0
    for event, element in parser.read_events():
        if event == "start":
            depth += 1
            if depth == 1:
                root = _local_name(element)
                if root not in _ENTRY_OF:
                    return []
            continue
        depth -= 1
        if depth == 1 and root is not None and _local_name(element) == _ENTRY_OF[root]:
            link = _entry_link(element, root, base_url)
            if link is not None:
                links.append(link)
            element.clear()  # read once; a long sitemap need not stay in memory
    return links


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


def _entry_link(entry: Any, root: str, base_url: str) -> DiscoveredLink | None:
    """The link of one <url> of a urlset or one <sitemap> of an index; None without a usable <loc>."""
    # Only <loc> directly under the entry: image and video extensions carry their own <image:loc>.
    url = absolute_http(_child_text(entry, "loc"), base_url)
    if url is None:
        return None
    lastmod = normalise_date(_child_text(entry, "lastmod"))
    if root == "sitemapindex":
        return DiscoveredLink(url, lastmod, None, "sitemap")
    news = _child(entry, "news")
    title = clean_title(_child_text(news, "title")) if news is not None else None
    published = normalise_date(_child_text(news, "publication_date")) if news is not None else None
    return DiscoveredLink(url, published or lastmod, title, "article")


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
        if _URL_LINE.match(line) and (url := absolute_http(line, base_url)) is not None
    ]
    if not links:
        raise InputError(base_url, "neither XML nor a text sitemap (no line is an http(s) URL)")
    return dedupe(links)


# --- robots.txt ----------------------------------------------------------------------------------


def sitemaps_from_robots(robots_txt: str, *, base_url: str) -> list[str]:
    """Return the sitemap URLs that a robots.txt lists on its ``Sitemap:`` lines, in order."""
    # The very lines RobotsPolicy reads, spellings ("Site-map:", "sitemap :") and missing colons alike.
    found: list[str] = []
    for value in sitemap_lines(robots_txt):
        url = absolute_http(value, base_url)
        if url is not None and url not in found:
            found.append(url)
    return found
