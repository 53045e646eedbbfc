"""Export items: jsonl (lossless: ``formats.jsonl``), csv (one row an item) or md (one Signals post a file).

The writers receive the items and, for what an item alone does not hold, a function that looks it up
(the lossless record's analyst edits and raw input; a post's Closest items). They write to the handle or
folder they are given; ``atomic_text_file`` gives a file that appears whole or not at all.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.formats.jsonl import record_extras
from shadowmatch_kb.formats.signals_post import render_signals_post
from shadowmatch_kb.model import Item
from shadowmatch_kb.store.records import read_record
from shadowmatch_kb.store.sqlite import SqliteStore

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "atomic_text_file",
    "export_items",
    "lossless_extras",
    "write_csv",
    "write_jsonl",
    "write_posts",
]

FORMATS = ("jsonl", "csv", "md")
CSV_COLUMNS = (
    "id",
    "title",
    "url",
    "published",
    "source",
    "summary",
    "keywords",
    "themes",
    "sectors",
    "tags",
    "signals",
    "duplicate_of",
)

# An item's id -> the fields a lossless record adds to the item's own (analyst edits, raw input, bookkeeping).
RecordExtras = Callable[[str], dict[str, Any]]
# An item's id -> its Closest items as (id, title), best first.
ClosestOf = Callable[[str], list[tuple[str, str]]]


@contextmanager
def atomic_text_file(path: Path) -> Iterator[TextIO]:
    """A text file written beside ``path`` and renamed over it on success: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def lossless_extras(store: SqliteStore, item_id: str) -> dict[str, Any]:
    """What a lossless line adds to an item (see ``formats.jsonl``): analyst edits, raw input, the record's dates,
    hashes and enrichment, so that `smkb ingest` of the export restores the item exactly."""
    record = read_record(store, item_id)
    return record_extras(record) if record is not None else {"analyst_edits": []}


def write_jsonl(items: Iterable[Item], handle: TextIO, extras: RecordExtras) -> int:
    """One JSON record a line, each the item with its ``extras``; returns the count."""
    count = 0
    for item in items:
        record = item.to_dict()
        record.update(extras(item.id))
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(items: Iterable[Item], handle: TextIO) -> int:
    """A header and one row an item, lists joined with "; " and signals with " || "; returns the count."""
    writer = csv.writer(handle)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for item in items:
        data = item.to_dict()
        row = []
        for column in CSV_COLUMNS:
            value = data[column]
            if column == "signals":
                value = " || ".join(
                    " | ".join((s["signal"], s["change"], s["horizon"], s["driving_force"])) for s in value
                )
            elif isinstance(value, list):
                value = "; ".join(value)
            row.append("" if value is None else value)
        writer.writerow(row)
        count += 1
    return count


def write_posts(items: Iterable[Item], closest: ClosestOf, *, folder: Path | None, handle: TextIO | None) -> int:
    """Each item as a Signals post: one ``ID.md`` file each in ``folder``, else one after another on ``handle``."""
    if folder is None and handle is None:
        raise ValueError("write_posts needs a folder or a handle")
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for item in items:
        text = render_signals_post(item, closest(item.id))
        if folder is not None:
            (folder / f"{item.id}.md").write_text(text, encoding="utf-8")
        elif handle is not None:
            handle.write(text + "\n")
        count += 1
    return count


def export_items(
    store: SqliteStore,
    fmt: str,
    items: Callable[[], Iterable[Item]],
    closest: ClosestOf,
    *,
    handle: TextIO | None = None,
    path: Path | None = None,
) -> int:
    """Write ``items()`` in ``fmt`` to ``path`` (a folder for md) or else to ``handle``; returns the count.

    jsonl lines carry the record's extras from ``store``; md posts their ``closest`` items.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}: use {', '.join(FORMATS)}")
    if (handle is None) == (path is None):
        raise UsageError("export writes to a file or to a stream: give one of them")
    if fmt == "md":
        return write_posts(items(), closest, folder=path, handle=handle)

    def write(out: TextIO) -> int:
        if fmt == "jsonl":
            return write_jsonl(items(), out, partial(lossless_extras, store))
        return write_csv(items(), out)

    if path is None:
        assert handle is not None
        return write(handle)
    with atomic_text_file(path) as out:
        return write(out)
