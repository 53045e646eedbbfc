"""The sources registry: the feeds, sitemaps and sites that ``smkb crawl`` follows.

The registry is ``corpus/sources.toml`` in the knowledge-base directory, a file analysts may edit
by hand. Each source is one ``[[source]]`` table; the comment block at the top of the file explains
the fields and is kept whenever the file is rewritten. Every change happens under the knowledge
base's write lock (``corpus/write.lock``) and is written atomically, so two commands at once or a
crash never leave a half-written registry.

Each field is checked by ``crawl.source_fields``. A malformed file is an ``InputError`` naming the
file, the line of the offending ``[[source]]`` and the field, never a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from shadowmatch_kb.crawl.source_fields import (
    InvalidField,
    check_added,
    check_bool,
    check_depth,
    check_name,
    check_patterns,
    check_tags,
    check_url,
)
from shadowmatch_kb.errors import InputError, NotFoundError
from shadowmatch_kb.store.lock import WriteLock

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "KINDS",
    "SOURCES_FILE",
    "Source",
    "add_missing_sources",
    "add_source",
    "load_sources",
    "load_starter_sources",
    "new_source",
    "parse_sources",
    "remove_source",
    "render_sources",
    "save_sources",
]

SOURCES_FILE = "sources.toml"
KINDS = ("feed", "sitemap", "site")
DEFAULT_MAX_DEPTH = 2
FIELDS = ("name", "kind", "url", "allow_private", "max_depth", "same_site", "allow", "deny", "tags", "added")
_TABLE_HEADER = re.compile(r"""\s*\[\[\s*(?:source|"source"|'source')\s*\]\]""")
_STARTER = "starter_sources.toml"

DEFAULT_HEADER = """\
# The crawl registry of this knowledge base: the sources that `smkb crawl` follows.
#
# Edit it by hand or with `smkb sources add|remove|starter`. Each source is one [[source]] table:
#   name           unique: 1 to 64 lower-case letters, digits, "-" or "_", starting with a letter or digit
#   kind           "feed" (RSS, Atom, JSON Feed), "sitemap" (urlset, sitemap index, news, .xml.gz) or "site"
#   url            http or https only: the feed, the sitemap, or the page a site crawl starts from
#   allow_private  true lets this source reach private, loopback or link-local addresses (default false)
#   allow, deny    Python regular expressions searched for in each URL the source leads to: a URL is
#                  taken when it matches no deny pattern and, if allow is not empty, some allow pattern;
#                  the source's own url is always fetched
#   max_depth      site only: how many links away from url to follow (default 2)
#   same_site      site only: stay on the host of url (default true)
#   tags           analyst tags given to every item crawled from this source
#   added          the date the source was registered (YYYY-MM-DD)
# Comments above the first [[source]] are kept when smkb rewrites this file; comments below it are not.
"""


@dataclass
class Source:
    """One registered source; build one with ``new_source`` so that its fields are checked."""

    name: str
    url: str
    kind: str = "feed"
    allow_private: bool = False
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    max_depth: int = DEFAULT_MAX_DEPTH
    same_site: bool = True
    tags: list[str] = field(default_factory=list)
    added: date | None = None

    def accepts(self, url: str) -> bool:
        """True when a (canonical) URL this source leads to passes its deny and allow patterns."""
        if url == self.url:
            return True
        if any(re.search(pattern, url) for pattern in self.deny):
            return False
        return not self.allow or any(re.search(pattern, url) for pattern in self.allow)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``smkb sources ... --json``."""
        return {
            "name": self.name,
            "kind": self.kind,
            "url": self.url,
            "allow_private": self.allow_private,
            "allow": list(self.allow),
            "deny": list(self.deny),
            "max_depth": self.max_depth,
            "same_site": self.same_site,
            "tags": list(self.tags),
            "added": self.added.isoformat() if self.added else None,
        }


# ----- checking a source (field by field in source_fields) -------------------------------------


def _check_kind(value: object) -> str:
    if value not in KINDS:
        raise InvalidField("kind", f"must be feed, sitemap or site, not {value!r}")
    return str(value)


def _build(raw: Mapping[str, Any]) -> Source:
    """A checked, canonical Source from loosely typed fields (a TOML table or CLI options)."""
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise InvalidField(unknown[0], f"unknown field (the fields are {', '.join(FIELDS)})")
    for required in ("name", "url"):
        if required not in raw:
            raise InvalidField(required, "missing")
    name = check_name(raw["name"])
    kind = _check_kind(raw.get("kind", "feed"))
    allow_private = check_bool("allow_private", raw.get("allow_private", False))
    max_depth = check_depth(raw.get("max_depth", DEFAULT_MAX_DEPTH))
    same_site = check_bool("same_site", raw.get("same_site", True))
    if kind != "site":
        # Only a site crawl follows links; silently ignoring these would hide a misunderstanding.
        if max_depth != DEFAULT_MAX_DEPTH:
            raise InvalidField("max_depth", f'applies to kind "site" only, not {kind!r}')
        if not same_site:
            raise InvalidField("same_site", f'applies to kind "site" only, not {kind!r}')
    return Source(
        name=name,
        url=check_url(raw["url"], allow_private),
        kind=kind,
        allow_private=allow_private,
        allow=check_patterns("allow", raw.get("allow", [])),
        deny=check_patterns("deny", raw.get("deny", [])),
        max_depth=max_depth,
        same_site=same_site,
        tags=check_tags(raw.get("tags", [])),
        added=check_added(raw.get("added")),
    )


def _conflict(registered: Sequence[Source], candidate: Source) -> str | None:
    """Why ``candidate`` cannot join ``registered`` (same name, or same URL under another name)."""
    for other in registered:
        if other.name == candidate.name:
            return f"name: a source named {candidate.name!r} is already registered ({other.url})"
        if other.url == candidate.url:
            return f"url: {candidate.url} is already registered as source {other.name!r}"
    return None


def new_source(name: str, url: str, kind: str = "feed", **fields: Any) -> Source:
    """Check and canonicalise a source a user typed; an InputError names the field at fault."""
    try:
        return _build({"name": name, "url": url, "kind": kind, **fields})
    except InvalidField as exc:
        raise InputError(f"source {name!r}", str(exc)) from None


# ----- reading and writing the file ------------------------------------------------------------


def parse_sources(text: str, origin: str) -> list[Source]:
    """The sources in a registry's text; ``origin`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(origin, f"not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"source"})
    if extra:
        raise InputError(origin, f"unknown top-level key {extra[0]!r}: each source is a [[source]] table")
    entries = data.get("source", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise InputError(origin, "'source' must be written as [[source]] tables")
    # tomllib keeps no positions; find each [[source]] header so errors can point at a line.
    lines = [n for n, line in enumerate(text.split("\n"), 1) if _TABLE_HEADER.match(line)]
    labels = [f"line {n}" for n in lines] if len(lines) == len(entries) else []
    sources: list[Source] = []
    for index, entry in enumerate(entries):
        label = labels[index] if labels else f"source #{index + 1}"
        name = entry.get("name")
        shown = f"source {name!r}" if isinstance(name, str) else "source"
        try:
            source = _build(entry)
        except InvalidField as exc:
            raise InputError(origin, f"{label}: {shown}: {exc}") from None
        reason = _conflict(sources, source)
        if reason:
            raise InputError(origin, f"{label}: {shown}: {reason} earlier in the file")
        sources.append(source)
    return sources


def load_sources(path: Path) -> list[Source]:
    """The registered sources, in file order; a missing file is an empty registry."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot be read ({exc.strerror or exc})") from None
    return parse_sources(text, str(path))


def _toml_string(text: str) -> str:
    # Regular expressions read best as literal strings (no doubled backslashes), which TOML
    # allows when the text has no single quote and no control character other than tab.
    if "\\" in text and not any(ch == "'" or (ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F for ch in text):
        return f"'{text}'"
    escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    out = []
    for ch in text:
        if ch in escapes:
            out.append(escapes[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(value: object) -> str:
    if isinstance(value, bool):  # before int: a bool is also an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _fields_to_write(source: Source) -> Iterator[tuple[str, object]]:
    yield "name", source.name
    yield "kind", source.kind
    yield "url", source.url
    if source.allow_private:
        yield "allow_private", True
    if source.kind == "site":
        yield "max_depth", source.max_depth
        yield "same_site", source.same_site
    if source.kind == "site" or source.allow:
        yield "allow", source.allow
    if source.kind == "site" or source.deny:
        yield "deny", source.deny
    if source.tags:
        yield "tags", source.tags
    if source.added:
        yield "added", source.added


def render_sources(sources: Sequence[Source], header: str = DEFAULT_HEADER) -> str:
    """The registry file for these sources, under ``header`` (comment lines)."""
    blocks = [header.rstrip("\n") + "\n"]
    for source in sources:
        body = "".join(f"{key} = {_toml_value(value)}\n" for key, value in _fields_to_write(source))
        blocks.append(f"\n[[source]]\n{body}")
    return "".join(blocks)


def _existing_header(path: Path) -> str | None:
    """The comment block at the top of the current file, if it has one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    kept: list[str] = []
    for line in text.split("\n"):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        kept.append(line)
    header = "\n".join(kept).strip("\n")
    return header + "\n" if header else None


def save_sources(path: Path, sources: Sequence[Source]) -> None:
    """Write the registry atomically, keeping the comment block at the top of the current file."""
    checked: list[Source] = []
    for source in sources:
        # Never write a file that load_sources would refuse.
        try:
            candidate = _build(dict(_fields_to_write(source)))
        except InvalidField as exc:
            raise InputError(f"source {source.name!r}", str(exc)) from None
        reason = _conflict(checked, candidate)
        if reason:
            raise InputError(f"source {candidate.name!r}", reason)
        checked.append(candidate)
    text = render_sources(checked, _existing_header(path) or DEFAULT_HEADER)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    # The rename itself must reach the disk too, or a crash could bring the old file back.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# ----- changing the registry -------------------------------------------------------------------


def _write_lock(path: Path, timeout: float) -> WriteLock:
    # The same lock file as KnowledgeBase.writing(): one writer at a time for all of corpus/.
    return WriteLock(path.parent / "write.lock", timeout=timeout)


def add_source(path: Path, source: Source, *, lock_timeout: float = 600.0) -> Source:
    """Register one source; a taken name or an already registered URL is an InputError."""
    with _write_lock(path, lock_timeout):
        sources = load_sources(path)
        reason = _conflict(sources, source)
        if reason:
            raise InputError(f"source {source.name!r}", reason)
        if source.added is None:
            source = replace(source, added=date.today())
        save_sources(path, [*sources, source])
    return source


def add_missing_sources(
    path: Path, candidates: Sequence[Source], *, lock_timeout: float = 600.0
) -> tuple[list[Source], list[tuple[Source, str]]]:
    """Register the candidates that are not there yet; returns (added, [(skipped, reason)])."""
    added: list[Source] = []
    skipped: list[tuple[Source, str]] = []
    with _write_lock(path, lock_timeout):
        sources = load_sources(path)
        for candidate in candidates:
            reason = _conflict(sources, candidate)
            if reason:
                skipped.append((candidate, reason))
                continue
            if candidate.added is None:
                candidate = replace(candidate, added=date.today())
            sources.append(candidate)
            added.append(candidate)
        if added:
            save_sources(path, sources)
    return added, skipped


def remove_source(path: Path, name: str, *, lock_timeout: float = 600.0) -> Source:
    """Unregister a source by name; NotFoundError when there is none of that name."""
    with _write_lock(path, lock_timeout):
        sources = load_sources(path)
        found = next((s for s in sources if s.name == name), None)
        if found is None:
            raise NotFoundError(f"no source named {name!r} in {path}; `smkb sources list` shows the registered ones")
        save_sources(path, [s for s in sources if s is not found])
    return found


def load_starter_sources() -> list[Source]:
    """The starter registry shipped with the package: public sources on AI and work."""
    from importlib.resources import files

    text = files("shadowmatch_kb.crawl").joinpath(_STARTER).read_text(encoding="utf-8")
    return parse_sources(text, f"shadowmatch_kb/crawl/{_STARTER}")
