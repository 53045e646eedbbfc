"""Turn one input (a file path or a URL) into an Item and the raw bytes it came from.

Each reader raises ``InputError`` with a one-line reason; nothing here touches the store. A URL is
read through the fetcher the caller hands in (``fetch.blocking.Fetcher``), the same pinned fetcher
the crawler uses, so this module never opens a connection of its own.

A folder's walk stays inside the folder: a symbolic link whose target resolves outside it is listed
as refused (with the reason, so the import reports it as failed) and never read; a link that stays
inside is read once (a file reached both by its own name and by a link is one input), and linked
folders are never entered, so a link loop cannot make the walk endless. A file named on the command
line may be a link to anywhere: naming it is the user's explicit choice. File names that are not
UTF-8 (Latin-1 bytes on Linux) are read, and reported with those bytes escaped (``caf\\xe9.txt``).
"""

from __future__ import annotations

import codecs
import hashlib
import os
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
    "ListedInput",
    "LoadedInput",
    "decode_text",
    "expand_inputs",
    "is_url",
    "item_id_for",
    "list_inputs",
    "printable",
    "read_input",
    "text_hash",
]

SUPPORTED_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".txt")
MAX_FILE_BYTES = 20_000_000
_HEX_ID = re.compile(r"^[0-9a-f]{32}$")
# UTF-32 before UTF-16: the UTF-32 little-endian mark begins with the UTF-16 one.
_TEXT_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Python keeps a file name's undecodable bytes as lone surrogates (PEP 383); they cannot be stored or printed.
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class LoadedInput:
    """An item read from one input, before it is stored."""

    item: Item
    raw: RawInput
    # What the input said of its date when that was not a date ("1747.0"): the item is stored undated.
    unread_date: str | None = None


def is_url(value: str) -> bool:
    """True for http(s) URLs; other schemes are rejected later with a clear reason."""
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value))


@dataclass(frozen=True)
class ListedInput:
    """One input to read, or one a folder's walk refused to read and why (``refused``)."""

    value: str
    refused: str | None = None


def printable(value: str) -> str:
    """``value`` with the bytes of a name that is not UTF-8 escaped (``caf\\xe9``): storable, valid in JSON."""
    return _SURROGATE.sub(_escape_surrogate, value)


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    # U+DC80..U+DCFF stand for one undecodable byte each (surrogateescape); others are lone UTF-16 halves.
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def list_inputs(inputs: Iterable[str]) -> Iterator[ListedInput]:
    """URLs and files as given; folders as their supported files, recursively, sorted, links kept inside."""
    for value in inputs:
        path = Path(value).expanduser()
        if not is_url(value) and path.is_dir():
            yield from _walk_folder(path)
        else:
            yield ListedInput(value)


def expand_inputs(inputs: Iterable[str]) -> Iterator[str]:
    """The inputs ``list_inputs`` finds to read, without those it refused."""
    return (entry.value for entry in list_inputs(inputs) if entry.refused is None)


def _walk_folder(folder: Path) -> Iterator[ListedInput]:
    root = folder.resolve()
    files: list[Path] = []
    links: list[Path] = []
    refused: dict[Path, str] = {}
    # os.walk never enters a linked folder (followlinks=False): its files inside are reached by their own path.
    for here, folders, names in os.walk(folder):
        base = Path(here)
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in folders:
            if (base / name).is_symlink():
                reason = _link_outside(base / name, root)
                if reason:
                    refused[base / name] = reason
        for name in names:
            child = base / name
            if name.startswith(".") or child.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            if not child.is_symlink():
                if child.is_file():  # a socket or a pipe is no document
                    files.append(child)
            elif reason := _link_outside(child, root):
                refused[child] = reason
            else:
                links.append(child)
    # A file reached by its own name and through links is read once, by its own name where it has one.
    seen = {child.resolve() for child in files}
    for link in sorted(links):
        target = link.resolve()
        if target not in seen and target.is_file():
            seen.add(target)
            files.append(link)
    for child in sorted([*files, *refused]):
        yield ListedInput(str(child), refused.get(child))


def _link_outside(link: Path, root: Path) -> str | None:
    """Why a link found in the folder is not followed, or None when it stays inside."""
    try:
        target = link.resolve(strict=True)
    except FileNotFoundError:
        return "broken symbolic link: its target does not exist"
    except (OSError, RuntimeError):
        return "symbolic link that loops or cannot be resolved"
    if target != root and root not in target.parents:
        return f"symbolic link to {printable(str(target))}, outside the folder: not followed"
    return None


def item_id_for(value: str) -> str:
    """A stable id: a file named by 32 hex digits keeps it; others hash their location."""
    if is_url(value):
        from shadowmatch_kb.fetch.safety import canonicalize_url

        return hashlib.md5(("url:" + canonicalize_url(value)).encode()).hexdigest()
    path = Path(value).expanduser()
    stem = path.stem.lower()
    if _HEX_ID.match(stem):
        return stem
    # The file system's own bytes: the same as UTF-8 for every decodable name, and defined for the others.
    return hashlib.md5(b"file:" + os.fsencode(path.resolve())).hexdigest()


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
        return _read_file(Path(value).expanduser(), printable(value))
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
    if suffix == ".jsonl":
        raise InputError(label, "an export of many items: `smkb ingest` restores it line by line (ingest.restore)")
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(label, f"unsupported file type {suffix or '(none)'}: use .md, .html, .htm, .txt or .jsonl")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(label, f"file is {size / 1e6:.0f} MB, larger than the {MAX_FILE_BYTES // 1_000_000} MB limit")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise InputError(label, f"cannot read: {exc.strerror or exc}") from exc
    if not content.strip():
        raise InputError(label, "empty file")
    wide = _wide_encoding(content)
    if wide is None and b"\x00" in content[:8192]:
        raise InputError(label, "binary file, not text")
    item_id = item_id_for(str(path))
    where = printable(str(path.resolve()))
    if suffix in (".html", ".htm"):
        # UTF-16 and UTF-32 pages are decoded here: the page decoder knows UTF-16 marks only.
        page = decode_text(content, label).encode() if wide else content
        item = _item_from_html(page, None, item_id, label, "utf-8" if wide else None)
        return LoadedInput(item, RawInput(where, "text/html", content))
    text = decode_text(content, label)
    media_type = "text/markdown" if suffix in (".md", ".markdown") else "text/plain"
    if media_type == "text/markdown":
        from shadowmatch_kb.formats.signals_post import looks_like_signals_post

        if looks_like_signals_post(text):
            item, unread_date = _item_from_post(text, item_id, label)
            return LoadedInput(item, RawInput(where, media_type, content), unread_date)
    item = _item_from_plain_text(text, item_id, label, markdown=media_type == "text/markdown")
    return LoadedInput(item, RawInput(where, media_type, content))


def _wide_encoding(content: bytes) -> str | None:
    """The codec of text that starts with a UTF-16 or UTF-32 byte-order mark, else None."""
    return next((codec for bom, codec in _TEXT_BOMS if content.startswith(bom)), None)


def decode_text(content: bytes, label: str) -> str:
    """A text file's bytes as text: UTF-16/UTF-32 with a byte-order mark, UTF-8, else Windows-1252."""
    wide = _wide_encoding(content)
    if wide is not None:
        try:
            text = content.decode(wide)
        except UnicodeDecodeError:
            name = wide.upper()
            raise InputError(label, f"not readable text (it starts with a {name} mark but is not {name})") from None
        if "\x00" in text:
            raise InputError(label, "binary file, not text")
        return text
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


def _item_from_post(text: str, item_id: str, label: str) -> tuple[Item, str | None]:
    """The item of a Signals post, and its heading's date as written when that is not a date."""
    from shadowmatch_kb.formats.signals_post import parse_signals_post

    post = parse_signals_post(text, item_id=item_id)
    item = Item(
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
    return item, post.unread_date


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
