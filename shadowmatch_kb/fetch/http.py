"""Fetch one URL over HTTP(S): safety-checked redirects, size and time limits, text decoding.

Every failure is a ``FetchError`` (see ``shadowmatch_kb.errors``) whose reason is one line:
a refused address, an HTTP status, a timeout, a size or content-type limit. The network sits behind
an ``httpx.BaseTransport``, so a test or a crawler can hand in its own.
"""

from __future__ import annotations

import codecs
import re
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol
from urllib.parse import urljoin

import httpx

from shadowmatch_kb.errors import FetchError
from shadowmatch_kb.fetch.safety import canonicalize_url, check_url_allowed

__all__ = ["DEFAULT_USER_AGENT", "FetchedPage", "Fetcher", "HttpFetcher", "decode_body"]

DEFAULT_USER_AGENT = "shadowmatch_kb/0.1 (+https://github.com/shadowmatch/shadowmatch_kb)"
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,text/plain;q=0.8"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TEXT_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain"})
SNIFF_BYTES = 2048
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
# Browsers read these labels as windows-1252 (WHATWG Encoding), and pages labelled so rely on it.
_WINDOWS_1252_ALIASES = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii"})
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass
class FetchedPage:
    """One successfully fetched response, after redirects."""

    url: str  # final URL, canonical
    requested_url: str
    status: int
    content: bytes
    content_type: str  # media type only, lower case, e.g. "text/html"
    charset: str | None  # as the Content-Type header declared it
    headers: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """Return the body decoded with the best charset evidence available."""
        return decode_body(self.content, self.charset)


class Fetcher(Protocol):
    """What the rest of the project needs from a fetcher."""

    def fetch(self, url: str) -> FetchedPage:
        """Fetch one URL or raise FetchError."""
        ...


def _label_name(label: str) -> str:
    return label.strip().strip("\"'").lower()


def _try_decode(content: bytes, label: str | None) -> str | None:
    if not label:
        return None
    name = _label_name(label)
    if name in _WINDOWS_1252_ALIASES:
        name = "cp1252"
    try:
        codecs.lookup(name)
        return content.decode(name)
    except (LookupError, UnicodeDecodeError):
        return None


def _is_default_label(label: str | None) -> bool:
    return label is not None and _label_name(label) in _WINDOWS_1252_ALIASES


def _sniffed_charset(content: bytes) -> str | None:
    head = content[:SNIFF_BYTES]
    match = _XML_ENCODING.match(head.lstrip()) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


def decode_body(content: bytes, charset: str | None) -> str:
    """Decode a body: BOM, header charset, meta charset, UTF-8, then cp1252; never raises."""
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return content.decode(encoding, errors="replace")
    sniffed = _sniffed_charset(content)
    for label in (charset, sniffed, "utf-8"):
        if _is_default_label(label) and not content.isascii():
            # ISO-8859-1 and ASCII are common server defaults sent whatever the page holds; bytes that
            # are valid UTF-8 are almost never real Latin-1 text, so trust them over the label.
            text = _try_decode(content, "utf-8")
            if text is not None:
                return text
        text = _try_decode(content, label)
        if text is not None:
            return text
    if any(label and _label_name(label) in ("utf-8", "utf8") for label in (charset, sniffed)):
        # Declared UTF-8 with a few bad bytes: as browsers do, replace those bytes and keep the rest,
        # rather than reading every valid multi-byte character as cp1252 mojibake.
        return content.decode("utf-8", errors="replace")
    return content.decode("cp1252", errors="replace")


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _parse_content_type(header: str) -> tuple[str, str | None]:
    media_type, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return media_type.strip().lower(), charset


def _is_text_type(media_type: str) -> bool:
    # Feeds and sitemaps arrive as application/rss+xml, application/atom+xml and the like.
    return media_type in TEXT_TYPES or media_type.endswith("+xml")


class HttpFetcher:
    """Fetches single URLs with httpx, checking every redirect hop against the safety rules."""

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float = 20.0,
        max_bytes: int = 10_000_000,
        max_redirects: int = 5,
        allow_private: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.allow_private = allow_private
        self._client = httpx.Client(
            transport=transport,
            timeout=timeout,
            # Redirects are followed by hand so each hop passes check_url_allowed first.
            follow_redirects=False,
            headers={"User-Agent": user_agent, "Accept": ACCEPT},
        )

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def fetch(self, url: str) -> FetchedPage:
        """Fetch a URL, following up to max_redirects safe redirects; raise FetchError on any failure."""
        check_url_allowed(url, allow_private=self.allow_private)
        current = url
        # Exact URLs, not canonical ones: sites often redirect ?utm_source=... to the same page without it.
        seen = {url}
        for _ in range(self.max_redirects + 1):
            target = self._get(url, current)
            if isinstance(target, FetchedPage):
                return target
            if target in seen:
                raise FetchError(url, f"too many redirects: {target} redirects back into a loop")
            seen.add(target)
            try:
                check_url_allowed(target, allow_private=self.allow_private)
            except FetchError as exc:
                raise FetchError(url, f"redirect to {target} refused: {exc.reason}") from exc
            current = target
        raise FetchError(url, f"too many redirects (more than {self.max_redirects})")

    def _get(self, requested: str, current: str) -> FetchedPage | str:
        """Make one request; return the page, or the absolute URL a redirect points to."""
        try:
            with self._client.stream("GET", current) as response:
                return self._handle(requested, response)
        except FetchError:
            raise
        except httpx.TimeoutException as exc:
            raise FetchError(requested, f"timed out after {self.timeout:g}s ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:  # connection refused, reset, bad URL, protocol error
            raise FetchError(requested, f"{type(exc).__name__}: {_one_line(exc)}") from exc
        except httpx.InvalidURL as exc:
            raise FetchError(requested, f"invalid URL: {_one_line(exc)}") from exc

    def _handle(self, requested: str, response: httpx.Response) -> FetchedPage | str:
        status = response.status_code
        if status in REDIRECT_STATUSES:
            location = response.headers.get("location")
            if not location:
                raise FetchError(requested, f"HTTP {status} redirect without a Location header")
            return urljoin(str(response.url), location.strip())
        if not 200 <= status < 300:
            raise FetchError(requested, f"HTTP {status} {response.reason_phrase}".rstrip())
        media_type, charset = _parse_content_type(response.headers.get("content-type", ""))
        if media_type and not _is_text_type(media_type):
            raise FetchError(requested, f"unsupported content type {media_type}")
        content = self._read_limited(requested, response)
        if not media_type:
            # No header at all: accept it only if it looks like markup.
            if not content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
                raise FetchError(requested, "unsupported content type (none given, and not markup)")
            media_type = "text/html"
        return FetchedPage(
            url=canonicalize_url(str(response.url)),
            requested_url=requested,
            status=status,
            content=content,
            content_type=media_type,
            charset=charset,
            headers=dict(response.headers.items()),
        )

    def _read_limited(self, requested: str, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(requested, f"page larger than {self.max_bytes} bytes")
        # httpx's timeout bounds each read; this deadline bounds a server that trickles bytes forever.
        deadline = time.monotonic() + self.timeout
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(requested, f"page larger than {self.max_bytes} bytes")
            if time.monotonic() > deadline:
                raise FetchError(requested, f"timed out after {self.timeout:g}s reading the body")
            chunks.append(chunk)
        return b"".join(chunks)
