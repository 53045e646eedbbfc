"""The Signals post format of SPEC.md: tell it apart from plain markdown, parse it, render it.

Parsing is forgiving because real posts vary: two heading forms plus an older one that carries
the item id instead of a title, junk dates, four- or six-column Signals tables, ragged rows,
missing sections and keyword lists split into single characters by an upstream bug.
Rendering always writes the canonical form, so ``parse(render(parse(x)))`` keeps what
``parse(x)`` found. Stored text is hostile input: rendering escapes markdown's active characters in
it and writes only http(s) links (``formats.inert``), and parsing reads escaped characters back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from shadowmatch_kb.errors import InputError
from shadowmatch_kb.formats.inert import markdown_lines, markdown_text, markdown_unescape, safe_url
from shadowmatch_kb.model import Item, Signal

__all__ = ["ParsedPost", "looks_like_signals_post", "parse_signals_post", "render_signals_post"]

_SOURCE = "signals post"
_UNDATED = "undated"
_TITLE_MAX = 80
_KNOWN_SECTIONS = ("summary", "keywords", "themes", "sectors", "signals", "evidence", "closest")
# "## Evidence" is our extension: "N. **signal**: quote" lines giving the sentence behind row N.
# Imported files are hostile input too: each line pattern below reads a line in time linear in its length.
# The quote is the rest of the line up to its last non-space character ("(.+?)\s*$" says the same, but tries
# the end from every space of a long run of them).
_EVIDENCE_RE = re.compile(r"^\s*(\d+)\.\s+(?:\*\*.*?\*\*:\s*)?(.*\S|\s)\s*$")

_ID_RE = re.compile(r"^[0-9a-fA-F]{32}$")
# A link target that may hold one level of balanced parentheses (Wikipedia-style URLs).
_LINK = r"(?:[^()\s]|\([^()\s]*\))*"
# An ATX closing run of "#" needs a space before it, so a title like "Learning C#" keeps its "#".
# The heading's text runs word by word, a run of spaces kept only when words follow it that are not the closing
# "#"s: the shortest text that "(.*?)(?:[ \t]+#+)?[ \t]*$" would find, without trying the end from every space.
_HEADING_TEXT = r"((?:[^ \t]++|[ \t]++(?!#+[ \t]*$|$))*+)(?:[ \t]+#+)?[ \t]*$"
_H1_RE = re.compile(r"^#[ \t]++" + _HEADING_TEXT)
_H2_RE = re.compile(r"^##[ \t]++" + _HEADING_TEXT)
# Searched in a heading whose spaces are single (``_date_part``): five "\s*" in a row would otherwise try
# every split of a run of spaces among them, 30 s for a run of 160.
_DATE_PART_RE = re.compile(
    r"(?:^|(?<=[\s,(]))\(?\s*from(?:\s+page)?\s*\(?\s*"
    r"(?:\[(?P<date>[^\]]*)\]\((?P<url>" + _LINK + r")\)|(?P<bare>\d[\d\-]*(?:\.\d+)?))"
    r"\s*\.?\s*\)?\s*\.?\s*\)?\s*$",
    re.IGNORECASE,
)
_EXTERNAL_RE = re.compile(r"\[\s*External link\s*\]\((" + _LINK + r")\)", re.IGNORECASE)
_ITEM_RE = re.compile(r"^\s*(?:[*+\-]|\d+[.)])(?: (.*)|\s*)$")
# A link's text runs to the first unescaped "]" whichever "[" before it starts it, so the text is taken whole
# and the target is optional: a bracket that opens no link is read once, not again from every "[" inside it.
_LINK_ITEM_RE = re.compile(r"\[(?:\\.|[^\]\\])*+(?:\]\(\s*<?(" + _LINK + r")>?\s*\))?")
_SEPARATOR_CELL_RE = re.compile(r"^:?-+:?$")
_CELL_SPLIT_RE = re.compile(r"(?<!\\)\|")

# Header names seen in real Signals tables, mapped to Signal fields; other columns
# (description, relevancy) have no place in a Signal and are dropped.
_COLUMN_FIELDS = {
    "signal": "signal",
    "name": "signal",
    "change": "change",
    "10y horizon": "horizon",
    "10-year": "horizon",
    "10 year": "horizon",
    "10-year horizon": "horizon",
    "horizon": "horizon",
    "driving force": "driving_force",
    "driving-force": "driving_force",
    "driving_force": "driving_force",
}
_DEFAULT_COLUMNS = ["signal", "change", "horizon", "driving_force"]


@dataclass
class ParsedPost:
    """What a Signals post holds, before it becomes an ``Item``."""

    title: str
    published: str | None = None
    post_url: str | None = None
    url: str | None = None
    summary: str = ""
    keywords: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    # Not in the original format: our own posts name their sectors in an optional "## Sectors" list.
    sectors: list[str] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    reference_closest: list[str] = field(default_factory=list)
    heading_id: str | None = None
    extra_sections: dict[str, str] = field(default_factory=dict)
    # The heading's date as written when it is not a date (``1747.0``): the post is then undated, and the
    # import says so.
    unread_date: str | None = None


@dataclass
class _Heading:
    title: str | None = None
    heading_id: str | None = None
    published: str | None = None
    post_url: str | None = None
    unread_date: str | None = None


def looks_like_signals_post(text: str) -> bool:
    """Tell whether markdown text is a Signals post rather than plain markdown."""
    lines = _normalise(text).split("\n")
    heading = next((m.group(1) for m in map(_H1_RE.match, lines) if m), None)
    if heading is None:
        return False
    sections = {m.group(1).strip().lower() for m in map(_H2_RE.match, lines) if m}
    core = sections & {"summary", "signals"}
    if not core:
        return False
    post_heading = _date_part(heading) is not None or heading.startswith("__")
    # A plain article may well have a "Summary" heading; ask for a second known section then.
    return post_heading or len(sections & set(_KNOWN_SECTIONS)) >= 2


def parse_signals_post(text: str, *, item_id: str | None = None) -> ParsedPost:
    """Parse a Signals post; raise ``InputError`` only when nothing usable is in it."""
    preamble, sections = _split_sections(_normalise(text))
    heading = _parse_heading(preamble)
    extra: dict[str, str] = {}
    known: dict[str, str] = {}
    for name, body in sections:
        key = name.lower()
        target = known if key in _KNOWN_SECTIONS else extra
        slot = key if key in _KNOWN_SECTIONS else name
        target[slot] = f"{target[slot]}\n\n{body}".strip() if slot in target else body.strip()

    summary = _parse_summary(known.get("summary", ""))
    keywords = _parse_list(known.get("keywords", ""))
    themes = _parse_list(known.get("themes", ""))
    sectors = _parse_list(known.get("sectors", ""))
    signals = _parse_signals(known.get("signals", ""))
    _attach_evidence(signals, known.get("evidence", ""))

    title = heading.title
    if not title and summary:
        title = _title_from_summary(summary)
    if not title and heading.heading_id:
        title = heading.heading_id
    if not title and not summary:
        raise InputError(_SOURCE, "no title and no summary")
    if not (summary or keywords or themes or signals):
        raise InputError(_SOURCE, "a heading but no Summary, Keywords, Themes or Signals")

    own_ids = {i.lower() for i in (item_id, heading.heading_id) if i}
    external = _EXTERNAL_RE.search(preamble)
    post_url = heading.post_url or None
    return ParsedPost(
        title=title or "",
        published=heading.published,
        unread_date=heading.unread_date,
        post_url=post_url,
        url=(external.group(1) if external and external.group(1) else None) or post_url,
        summary=summary,
        keywords=keywords,
        themes=themes,
        sectors=sectors,
        signals=signals,
        reference_closest=_parse_closest(known.get("closest", ""), own_ids),
        heading_id=heading.heading_id,
        extra_sections=extra,
    )


def render_signals_post(item: Item, closest: list[tuple[str, str]]) -> str:
    """Render an item in the Signals post format, with ``closest`` as (id, title) pairs."""
    title = markdown_text(item.title) or item.id
    compact = _compact_date(item.published)
    # The heading links the post's own page when the item came from one, else the article.
    url = safe_url(item.url)
    own_page = safe_url(item.source) or url
    if compact and own_page:
        heading = f"# __{title}__, from ([{compact}]({own_page}).)"
    elif compact:
        heading = f"# __{title}__, from ({compact}.)"
    elif own_page:
        # A post whose date was junk ("1747.0") still names its page; "undated" reads back as no date.
        heading = f"# __{title}__, from ([{_UNDATED}]({own_page}).)"
    else:
        heading = f"# __{title}__"
    parts = [heading]
    if url:
        parts.append(f"__[External link]({url})__")
    if item.summary.strip():
        parts.append("## Summary\n\n" + markdown_lines(item.summary.strip()))
    for name, values in (("Keywords", item.keywords), ("Themes", item.themes), ("Sectors", item.sectors)):
        listed = _render_list(values)
        if listed:
            parts.append(f"## {name}\n\n{listed}")
    rows = ["| Signal | Change | 10y horizon | Driving force |", "|:--|:--|:--|:--|"]
    for s in item.signals:
        cells = (s.signal, s.change, s.horizon, s.driving_force)
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    parts.append("## Signals\n\n" + "\n".join(rows))
    quotes = [f"{n}. **{markdown_text(s.signal)}**: {markdown_text(s.evidence)}" for n, s in enumerate(item.signals, 1)]
    if any(s.evidence.strip() for s in item.signals):
        parts.append("## Evidence\n\n" + "\n".join(q for q, s in zip(quotes, item.signals, strict=True) if s.evidence))
    # Closest entries link item ids and nothing else.
    links = [f"* [{markdown_text(name or ref)}]({ref})" for ref, name in closest if _ID_RE.match(ref)]
    parts.append("## Closest" + ("\n\n" + "\n".join(links) if links else ""))
    return "\n\n".join(parts) + "\n"


# -- parsing helpers -------------------------------------------------------------------------


def _attach_evidence(signals: list[Signal], body: str) -> None:
    for line in body.split("\n"):
        match = _EVIDENCE_RE.match(line)
        if match and 1 <= int(match.group(1)) <= len(signals):
            signals[int(match.group(1)) - 1].evidence = markdown_unescape(match.group(2))


def _normalise(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _split_sections(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Split into the text before the first ``##`` heading and (heading, body) pairs."""
    preamble: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        match = _H2_RE.match(line)
        if match:
            sections.append((match.group(1).strip(), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            preamble.append(line)
    return "\n".join(preamble), [(name, "\n".join(body)) for name, body in sections]


def _parse_heading(preamble: str) -> _Heading:
    line = next((m.group(1).strip() for m in map(_H1_RE.match, preamble.split("\n")) if m), None)
    if line is None:
        return _Heading()
    found = _Heading()
    # Single spaces change nothing the heading says: its title is read on one line and its link holds none.
    line = _one_line(line)
    rest = line
    match = _date_part(line)
    if match:
        rest = line[: match.start()]
        written = (match.group("date") or match.group("bare") or "").strip()
        found.published = _parse_date(written)
        if found.published is None and written and written.lower() != _UNDATED:
            found.unread_date = written
        found.post_url = match.group("url") or None
    rest = rest.strip()
    if rest.endswith(","):
        rest = rest[:-1].rstrip()
    for mark in ("__", "**"):
        if len(rest) > 2 * len(mark) and rest.startswith(mark) and rest.endswith(mark):
            rest = rest[len(mark) : -len(mark)]
            break
    rest = markdown_unescape(_one_line(rest))
    if _ID_RE.match(rest):
        found.heading_id = rest.lower()
    elif rest:
        found.title = rest
    return found


def _date_part(heading: str) -> re.Match[str] | None:
    """The "from ([date](page).)" part at the end of a heading, searched with its spaces made single."""
    return _DATE_PART_RE.search(_one_line(heading))


def _parse_date(raw: str) -> str | None:
    """``YYYYMMDD`` or ``YYYY-MM-DD`` to ISO; anything else (``1747.0``) is no date."""
    digits = raw.strip()
    match = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", digits)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
    except ValueError:
        return None


def _parse_summary(body: str) -> str:
    # Line breaks inside a paragraph stay: a summary may hold a list.
    paragraphs = ["\n".join(line.rstrip() for line in p.strip().split("\n")) for p in re.split(r"\n\s*\n", body)]
    return markdown_unescape("\n\n".join(p for p in paragraphs if p))


def _list_items(body: str) -> list[str]:
    """Raw bullet texts, unstripped: a lone space is meaningful in char-split lists."""
    items = []
    for line in body.split("\n"):
        match = _ITEM_RE.match(line)
        if match:
            items.append(match.group(1) or "")
    return items


def _parse_list(body: str) -> list[str]:
    raw = _list_items(body)
    # An upstream bug wrote "a, b c" one character per bullet; spell the phrases back out.
    if len(raw) >= 3 and "," in raw and all(len(item) <= 1 for item in raw):
        joined = "".join(item or " " for item in raw)
        return [markdown_unescape(p) for p in (" ".join(part.split()) for part in joined.split(",")) if p]
    return [markdown_unescape(p) for p in (" ".join(item.split()) for item in raw) if p]


def _split_row(line: str) -> list[str]:
    inner = line.strip()
    if inner.startswith("|"):
        inner = inner[1:]
    if inner.endswith("|") and not inner.endswith("\\|"):
        inner = inner[:-1]
    return [" ".join(markdown_unescape(cell).split()) for cell in _CELL_SPLIT_RE.split(inner)]


def _is_separator(cells: list[str]) -> bool:
    filled = [c.replace(" ", "") for c in cells if c]
    return bool(filled) and all(_SEPARATOR_CELL_RE.match(c) for c in filled)


def _table_blocks(body: str) -> Iterable[list[list[str]]]:
    block: list[list[str]] = []
    for line in body.split("\n"):
        if line.strip().startswith("|"):
            block.append(_split_row(line))
        elif block:
            yield block
            block = []
    if block:
        yield block


def _columns_of(header: list[str]) -> list[str | None] | None:
    columns = [_COLUMN_FIELDS.get(" ".join(c.lower().split())) for c in header]
    return columns if any(columns) else None


def _parse_signals(body: str) -> list[Signal]:
    signals: list[Signal] = []
    for block in _table_blocks(body):
        rows = [r for r in block if not _is_separator(r)]
        if not rows:
            continue
        header_columns = _columns_of(rows[0])
        has_separator = len(block) > 1 and _is_separator(block[1])
        if header_columns is not None:
            columns: list[str | None] = header_columns
            rows = rows[1:]
        else:
            # Unknown header: read the columns in SPEC order; a header row still goes.
            columns = list(_DEFAULT_COLUMNS)
            if has_separator:
                rows = rows[1:]
        for cells in rows:
            values = {name: "" for name in _DEFAULT_COLUMNS}
            # Extra cells past the header are ignored; missing ones stay "".
            for name, cell in zip(columns, cells, strict=False):
                if name and not values[name]:
                    values[name] = cell
            if any(values.values()):
                signals.append(Signal(**values))
    return signals


def _parse_closest(body: str, own_ids: set[str]) -> list[str]:
    found: list[str] = []
    for line in body.split("\n"):
        for match in _LINK_ITEM_RE.finditer(line):
            if match.group(1) is None:
                continue  # brackets that open no link
            target = match.group(1).strip()
            if target.lower().endswith(".md"):
                target = target[:-3]
            target = target.rsplit("/", 1)[-1].lower()
            if _ID_RE.match(target) and target not in own_ids and target not in found:
                found.append(target)
    return found


def _title_from_summary(summary: str) -> str:
    first = " ".join(summary.split())
    match = re.match(r"(.+?[.!?])(?=\s|$)", first)
    sentence = match.group(1) if match else first
    if sentence.endswith("."):
        sentence = sentence[:-1]
    if len(sentence) <= _TITLE_MAX:
        return sentence
    cut = sentence[:_TITLE_MAX]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


# -- rendering helpers -----------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _compact_date(published: str | None) -> str | None:
    iso = _parse_date(published or "")
    return iso.replace("-", "") if iso else None


def _cell(text: str) -> str:
    return markdown_text(text)  # escapes "|" too, so a cell never splits


def _render_list(values: list[str]) -> str:
    return "\n".join(f"* {markdown_text(v)}" for v in values if _one_line(v))
