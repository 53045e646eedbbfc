"""Turn one input (a file path or a URL) into an Item and the raw bytes it came from.

Each reader raises ``InputError`` with a one-line reason; nothing here touches the store. A URL is
read through the fetcher the caller hands in (``fetch.blocking.Fetcher``), the same pinned fetcher
the crawler uses, so this module never opens a connection of its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from shadowmatch_kb.errors import InputError
from shadowmatch_kb.model import Item
from shadowmatch_kb.store.sqlite import RawInput

if TYPE_CHECKING:
    from shadowmatch_kb.fetch.async_http import FetchResponse
    from shadowmatch_kb.fetch.blocking import Fetcher

__all__ = [
    "MAX_FILE_BYTES",
    "SUPPORTED_SUFFIXES",
    "LoadedInput",
    "expand_inputs",
    "is_url",
    "item_id_for",
    "read_input",
    "text_hash",
]

SUPPORTED_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".txt")
MAX_FILE_BYTES = 20_000_000
_HEX_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class LoadedInput:
    """An item read from one input, before it is stored."""

    item: Item
    raw: RawInput


def is_url(value: str) -> bool:
    """True for http(s) URLs; other schemes are rejected later with a clear reason."""
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value))


def expand_inputs(inputs: Iterable[str]) -> Iterator[str]:
    """Yield URLs and files as given; folders become their supported files, recursively, sorted."""
    for value in inputs:
        if is_url(value):
            yield value
            continue
        path = Path(value).expanduser()
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path).parts
                if any(part.startswith(".") for part in relative):
                    continue
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield str(child)
        else:
            yield value


def item_id_for(value: str) -> str:
    """A stable id: a file named by 32 hex digits keeps it; others hash their location."""
    if is_url(value):
        from shadowmatch_kb.fetch.safety import canonicalize_url

        return hashlib.md5(("url:" + canonicalize_url(value)).encode()).hexdigest()
    path = Path(value).expanduser()
    stem = path.stem.lower()
    if _HEX_ID.match(stem):
        return stem
    return hashlib.md5(("file:" + str(path.resolve())).encode()).hexdigest()


def text_hash(item: Item) -> str:
    """Hash of the normalised text, used to spot identical content under two inputs."""
    words = re.findall(r"\w+", f"{item.title} {item.text}".lower())
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


def read_input(
    value: str,
    *,
    user_agent: str | None = None,
    allow_private: bool = False,
    fetcher: Fetcher | None = None,
) -> LoadedInput:
    """Read one file or URL into an item; InputError with a one-line reason when it cannot.

    A URL is fetched with ``fetcher``; without one, a pinned fetcher is built for this one call from
    ``user_agent`` and ``allow_private`` (which are ignored when a fetcher is given).
    """
    if not is_url(value):
        return _read_file(Path(value).expanduser(), value)
    if fetcher is not None:
        return _read_url(value, fetcher)
    from shadowmatch_kb.fetch.async_http import AsyncFetcher, FetchOptions
    from shadowmatch_kb.fetch.blocking import BlockingFetcher

    options = FetchOptions(user_agent=user_agent) if user_agent else FetchOptions()
    with BlockingFetcher(AsyncFetcher(options, allow_private=allow_private)) as own:
        return _read_url(value, own)


def _read_file(path: Path, label: str) -> LoadedInput:
    if not path.exists():
        raise InputError(label, "no such file or folder")
    if not path.is_file():
        raise InputError(label, "not a regular file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(label, f"unsupported file type {suffix or '(none)'}: use .md, .html, .htm or .txt")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(label, f"file is {size / 1e6:.0f} MB, larger than the {MAX_FILE_BYTES // 1_000_000} MB limit")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise InputError(label, f"cannot read: {exc.strerror or exc}") from exc
    if not content.strip():
        raise InputError(label, "empty file")
    if b"\x00" in content[:8192]:
        raise InputError(label, "binary file, not text")
    item_id = item_id_for(label)
    if suffix in (".html", ".htm"):
        item = _item_from_html(content, None, item_id, label)
        return LoadedInput(item, RawInput(str(path.resolve()), "text/html", content))
    text = _decode_text(content, label)
    media_type = "text/markdown" if suffix in (".md", ".markdown") else "text/plain"
    if media_type == "text/markdown":
        from shadowmatch_kb.formats.signals_post import looks_like_signals_post

        if looks_like_signals_post(text):
            item = _item_from_post(text, item_id, label)
            return LoadedInput(item, RawInput(str(path.resolve()), media_type, content))
    item = _item_from_plain_text(text, item_id, label, markdown=media_type == "text/markdown")
    return LoadedInput(item, RawInput(str(path.resolve()), media_type, content))


def _decode_text(content: bytes, label: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Not UTF-8: most such files here are Windows-1252 or Latin-1; accept them if they read as text.
    text = content.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
    if controls > len(text) * 0.01 or text.count("\ufffd") > len(text) * 0.01:
        raise InputError(label, "not readable text (neither UTF-8 nor Windows-1252)")
    return text


def _item_from_post(text: str, item_id: str, label: str) -> Item:
    from shadowmatch_kb.formats.signals_post import parse_signals_post

    post = parse_signals_post(text, item_id=item_id)
    return Item(
        id=item_id,
        title=post.title,
        url=post.url,
        published=post.published,
        source=post.post_url,
        text=post.summary,
        summary=post.summary,
        keywords=post.keywords,
        themes=post.themes,
        sectors=post.sectors,
        signals=post.signals,
        reference_closest=[c for c in post.reference_closest if c != item_id],
        kind="signals_post",
    )


def _item_from_plain_text(text: str, item_id: str, label: str, *, markdown: bool) -> Item:
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    first = next((i for i, line in enumerate(lines) if line), None)
    if first is None:
        raise InputError(label, "empty file")
    title = lines[first].lstrip("#").strip() if markdown else lines[first]
    if len(title) > 200:
        # A first line that long is a paragraph, not a title: use its opening words.
        title = title[:120].rsplit(" ", 1)[0] + "…"
        body = "\n".join(lines[first:])
    else:
        body = "\n".join(lines[first + 1 :]).strip() or title
    body = re.sub(r"\n{3,}", "\n\n", body)
    return Item(id=item_id, title=title, text=body, kind="markdown" if markdown else "text")


def _item_from_html(content: bytes, url: str | None, item_id: str, label: str, charset: str | None = None) -> Item:
    from shadowmatch_kb.extract.html import extract_article
    from shadowmatch_kb.fetch.decode import decode_body

    html = decode_body(content, charset)
    try:
        article = extract_article(html, url=url)
    except InputError as exc:
        raise InputError(label, exc.reason) from exc
    title = article.title or (article.text.split("\n", 1)[0][:120])
    return Item(
        id=item_id,
        title=title,
        url=article.url or url,
        published=article.published,
        source=article.site or (urlsplit(url).hostname if url else None),
        text=article.text,
        author=article.author,
        site=article.site,
        language=article.language,
        kind="html",
    )


def _readable(media_type: str) -> bool:
    """Markup and plain text: what an item can be made of (JSON feeds are the crawler's to read)."""
    from shadowmatch_kb.fetch.async_http import accepts_page

    return accepts_page(media_type) and not media_type.endswith("json")


def _read_url(url: str, fetcher: Fetcher) -> LoadedInput:
    page = fetcher.fetch(url, accept=_readable)
    return _item_from_page(url, page)


def _item_from_page(url: str, page: FetchResponse) -> LoadedInput:
    item_id = item_id_for(page.url)
    if page.content_type == "text/plain":
        item = _item_from_plain_text(page.text(), item_id, url, markdown=False)
        item.url = page.url
    else:
        item = _item_from_html(page.content, page.url, item_id, url, page.charset)
        item.url = item.url or page.url
    return LoadedInput(item, RawInput(page.url, page.content_type, page.content))
