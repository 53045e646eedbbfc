"""Bytes to text: the charset a Content-Type header declares, and the decoding of a fetched body.

Kept apart from the fetcher because extraction, the crawler and ingest decode stored bodies too,
long after the response that carried them is gone.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_body", "parse_content_type"]

SNIFF_BYTES = 2048
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
# Browsers read these labels as windows-1252 (WHATWG Encoding), and pages labelled so rely on it.
_WINDOWS_1252_ALIASES = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii"})
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def parse_content_type(header: str) -> tuple[str, str | None]:
    """Split a Content-Type header into its lower-case media type and its charset (or None)."""
    media_type, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return media_type.strip().lower(), charset


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
