"""Text from the knowledge base made safe to show: crawled titles, sentences and links are hostile input.

Markdown renders a stray ``[x](javascript:...)`` as a link and raw ``<script>`` as HTML; every renderer
that writes markdown from stored text escapes it with ``markdown_text`` (one line) or ``markdown_lines``
(line breaks kept) and shows links only through ``safe_url``. A reader of such markdown gets the text
back with ``markdown_unescape``.
"""

from __future__ import annotations

import re

__all__ = ["markdown_lines", "markdown_text", "markdown_unescape", "safe_url"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")
_MD_ESCAPED = re.compile(r"\\([\\`*_\[\]<>|#])")


def markdown_text(text: object) -> str:
    """One line of text with markdown's active characters escaped (no links, emphasis or HTML of its own)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def markdown_lines(text: str) -> str:
    """Text with markdown's active characters escaped, its line breaks and spacing kept (a summary, a list)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def markdown_unescape(text: str) -> str:
    """The text that ``markdown_lines`` escaped: each escaped active character back; other backslashes stay."""
    return _MD_ESCAPED.sub(r"\1", text)


def safe_url(url: str | None) -> str | None:
    """The URL when it is an http(s) one without spaces or quotes, else None (``javascript:`` never passes)."""
    if not url:
        return None
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")) or any(c.isspace() or c in "<>\"'`" for c in url):
        return None
    return url
