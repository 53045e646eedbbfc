"""Text from the knowledge base made safe to show: crawled titles, sentences and links are hostile input.

Markdown renders a stray ``[x](javascript:...)`` as a link and raw ``<script>`` as HTML; every renderer
that writes markdown from stored text escapes it with ``markdown_text`` and shows links only through
``safe_url``.
"""

from __future__ import annotations

import re

__all__ = ["markdown_text", "safe_url"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def markdown_text(text: object) -> str:
    """One line of text with markdown's active characters escaped (no links, emphasis or HTML of its own)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def safe_url(url: str | None) -> str | None:
    """The URL when it is an http(s) one without spaces or quotes, else None (``javascript:`` never passes)."""
    if not url:
        return None
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")) or any(c.isspace() or c in "<>\"'`" for c in url):
        return None
    return url
