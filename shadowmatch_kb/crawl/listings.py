"""The parts every listing (feed or sitemap) shares: its bytes, and the links it holds.

Bytes: gzip recognised by its magic bytes and decompressed up to ``MAX_DECOMPRESSED_BYTES``, a text
view of the head for sniffing, and the root element's name found past the prolog. Links: resolved
against the document's URL (absolute http(s) only), dated on the publisher's own calendar day, titled
without markup, each once. ``crawl.discover`` builds feeds and sitemaps out of these.
"""

from __future__ import annotations

import html
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urljoin, urlsplit

from shadowmatch_kb.errors import InputError

__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "DiscoveredLink",
    "absolute_http",
    "clean_title",
    "date_from_struct",
    "declares_entities",
    "dedupe",
    "document_body",
    "gunzip",
    "normalise_date",
    "one_line",
    "scan_prolog",
    "sniff_text",
    "unwrap_redirect",
]

# The sitemap protocol caps one sitemap at 50 MB uncompressed; anything larger is a mistake or a bomb.
MAX_DECOMPRESSED_BYTES = 50 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
# Enough of a document to see past an XML declaration, comments and a DOCTYPE to the root element.
_SNIFF_BYTES = 64 * 1024
_TAG_NAME = re.compile(r"<([A-Za-z_][\w.:-]*)")
_SUBSET_END = re.compile(r"\]\s*>")
_ISO_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?=$|[Tt\sZz+])")
# Markup in a title means HTML elements (Google Alerts wraps matches in <b>); anything else in angle
# brackets, such as the "<AI>" of "Jobs &lt;AI&gt; will change", is the title's own text.
_HTML_MARKUP = re.compile(
    r"<!--.*?-->|</?(?:a|abbr|b|big|br|cite|code|del|dfn|div|em|font|h[1-6]|i|img|ins|kbd|mark|nobr|p|q|s|samp"
    r"|small|span|strike|strong|sub|sup|time|tt|u|var|wbr)(?:\s[^<>]*)?/?>",
    re.IGNORECASE | re.DOTALL,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WHITESPACE = b" \t\r\n"


@dataclass(frozen=True, slots=True)
class DiscoveredLink:
    """One link found in a feed or sitemap: an article to fetch, or a child sitemap to read next."""

    url: str
    published: str | None = None
    title: str | None = None
    kind: str = "article"


# --- bytes: gzip, text, the root element ---------------------------------------------------------


def gunzip(content: bytes, *, source: str, limit: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """Decompress gzip data (every member) up to ``limit`` bytes; other data is returned as it is."""
    if not content.startswith(GZIP_MAGIC):
        if len(content) > limit:
            raise InputError(source, f"larger than the {limit // 2**20} MB a sitemap or feed may be")
        return content
    out = bytearray()
    data = content
    while data.startswith(GZIP_MAGIC):
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


def sniff_text(content: bytes) -> str:
    """The first bytes of a possibly gzipped document as text, for looking only (never fails)."""
    head = content[:_SNIFF_BYTES]
    if head.startswith(GZIP_MAGIC):
        try:
            head = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(content, _SNIFF_BYTES)
        except zlib.error:
            return ""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    return head.decode("utf-8", errors="replace").lstrip("\ufeff")


def scan_prolog(text: str) -> tuple[str | None, str]:
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


def declares_entities(prolog: str) -> bool:
    """True when the prolog declares XML entities, which no feed or sitemap needs."""
    # Entities can only be declared in the DTD before the root element; refusing them outright rules
    # out "billion laughs" expansion and external-entity reads.
    return "<!ENTITY" in prolog


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, or its type's name."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def document_body(content: bytes, base_url: str, kind: str) -> bytes:
    """The response ungzipped, without a byte-order mark or leading whitespace; empty is an error."""
    body = gunzip(content, source=base_url)
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    # Many real feeds start with a blank line, which makes the XML declaration an error to strict parsers.
    body = body.lstrip(_WHITESPACE)
    if not body:
        raise InputError(base_url, f"empty response, not a {kind}")
    return body


# --- links, dates, titles ------------------------------------------------------------------------


def absolute_http(link: object, base_url: str) -> str | None:
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


def unwrap_redirect(url: str) -> str:
    """The article behind a google.com/url?url=... redirect; any other URL as it is."""
    # Google Alerts feeds wrap every article in such a redirect; keep the article itself.
    parts = urlsplit(url)
    if parts.hostname in ("www.google.com", "google.com") and parts.path == "/url":
        query = parse_qs(parts.query)
        for key in ("url", "q"):
            target = absolute_http(query.get(key, [""])[0], url)
            if target:
                return target
    return url


def normalise_date(value: object) -> str | None:
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


def date_from_struct(value: object) -> str | None:
    """A ``time.struct_time`` (as feedparser gives) as YYYY-MM-DD; None when it is not one."""
    try:
        return date(value.tm_year, value.tm_mon, value.tm_mday).isoformat()  # type: ignore[attr-defined]
    except (AttributeError, TypeError, ValueError):
        return None


def clean_title(value: object) -> str | None:
    """A title as plain text on one line: HTML markup stripped first, then entities unescaped."""
    if not isinstance(value, str):
        return None
    # In this order, an entity left escaped twice by its publisher ("&amp;lt;") becomes its character
    # and is never taken for markup.
    text = " ".join(html.unescape(_HTML_MARKUP.sub("", value)).split())
    return text or None


def dedupe(links: Iterable[DiscoveredLink]) -> list[DiscoveredLink]:
    """The links in order, each URL once (the first one wins)."""
    seen: set[str] = set()
    unique: list[DiscoveredLink] = []
    for link in links:
        if link.url not in seen:
            seen.add(link.url)
            unique.append(link)
    return unique
