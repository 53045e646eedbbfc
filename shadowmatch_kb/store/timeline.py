"""Items seen through time: their Signals rows and their sectors and themes, each with its dates.

An item's ``date`` is its published date. An item whose source gave none is *undated*: its ``date`` is then the
day it was imported, which a briefing may use for recency, but the tracker never counts it in a period (an
archive imported today would otherwise read as this quarter's upturn). Analyst corrections of sectors and themes
win, as on read.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from shadowmatch_kb.model import ItemFilter, Signal, SignalRow
from shadowmatch_kb.store.sqlite import SqliteStore, effective_sql

__all__ = [
    "DatedItem",
    "FacetColumn",
    "TrackerColumns",
    "dated_items",
    "doubtful_dates",
    "signal_rows",
    "tracker_columns",
]

_BATCH = 500


@dataclass(frozen=True)
class DatedItem:
    """What the tracker counts of one item."""

    item_id: str
    date: str  # YYYY-MM-DD: published; for an undated item, the day it was imported
    dated_by: str  # "published", or "undated" (no published date: ``date`` is the import day)
    sectors: tuple[str, ...]
    themes: tuple[str, ...]
    duplicate_of: str | None
    # How sure enrichment was of each sector it computed, by section name (as ``sectors`` are stored); sectors
    # an item states itself or an analyst set are not in it (they are as sure as can be: see ``sector_confidence``).
    computed_confidence: tuple[tuple[str, float], ...] = ()
    imported: str = ""  # YYYY-MM-DD: the day the item was first imported

    @property
    def undated(self) -> bool:
        """Whether the source gave no published date."""
        return self.dated_by == "undated"

    def sector_confidence(self, label: str) -> float:
        """Enrichment's confidence in one of the item's sectors (a section name); 1.0 for a post's own or an
        analyst's."""
        return dict(self.computed_confidence).get(label, 1.0)


def dated_items(
    store: SqliteStore, where: ItemFilter | None = None, *, item_ids: Iterable[str] | None = None
) -> list[DatedItem]:
    """Items matching ``where`` (all when None), or those of ``item_ids``, with their date, sectors and themes,
    oldest first."""
    if item_ids is not None:
        ids: list[str] | None = list(dict.fromkeys(item_ids))
    else:
        ids = None if where is None or where.is_empty() else store.filtered_ids(where)
    sql = (
        f"SELECT id, published, substr(added_at, 1, 10) AS added, {effective_sql('sectors')} AS sectors,"
        f" {effective_sql('themes')} AS themes, duplicate_of, enrichment,"
        " EXISTS (SELECT 1 FROM analyst_edits e WHERE e.item_id = items.id AND e.field = 'sectors') AS edited"
        " FROM items"
    )
    found: list[DatedItem] = []
    for rows in _select(store, sql, ids):
        for row in rows:
            found.append(
                DatedItem(
                    row["id"],
                    row["published"] or row["added"],
                    "published" if row["published"] else "undated",
                    tuple(json.loads(row["sectors"])),
                    tuple(json.loads(row["themes"])),
                    row["duplicate_of"],
                    () if row["edited"] else _computed_confidence(row["enrichment"]),
                    row["added"],
                )
            )
    return sorted(found, key=lambda d: (d.date, d.item_id))


def _computed_confidence(record: str | None) -> tuple[tuple[str, float], ...]:
    if not record:
        return ()
    try:
        found = json.loads(record).get("sector_confidence") or {}
        return tuple((str(label), float(value)) for label, value in found.items())
    except (ValueError, TypeError, AttributeError):
        return ()


def doubtful_dates(store: SqliteStore, today: str) -> list[tuple[str, str, str]]:
    """Items whose published date the tracker cannot count, as (id, date, why), latest first: after ``today`` or
    before 1990 (``text.dates.date_doubt``)."""
    from shadowmatch_kb.text.dates import EARLIEST_PLAUSIBLE, date_doubt

    rows = store.db.execute(
        "SELECT id, published FROM items WHERE published > ? OR published < ? ORDER BY published DESC, id",
        (today, EARLIEST_PLAUSIBLE),
    ).fetchall()
    return [(row[0], row[1], date_doubt(row[1], today) or "") for row in rows]


def signal_rows(store: SqliteStore, item_ids: Iterable[str] | None = None) -> list[SignalRow]:
    """The Signals rows of the given items (all when None), each with its item's published date (None when
    undated), in item order."""
    ids = None if item_ids is None else list(dict.fromkeys(item_ids))
    sql = "SELECT id, published, signals, duplicate_of FROM items"
    by_id: dict[str, list[SignalRow]] = {}
    for rows in _select(store, sql, ids, extra="signals != '[]'"):
        for row in rows:
            date = row["published"]
            by_id[row["id"]] = [
                SignalRow(row["id"], Signal(**raw), date, row["duplicate_of"]) for raw in json.loads(row["signals"])
            ]
    order = ids if ids is not None else sorted(by_id)
    return [signal_row for item_id in order for signal_row in by_id.get(item_id, [])]


def _select(store: SqliteStore, sql: str, ids: list[str] | None, *, extra: str | None = None) -> Iterable[list]:
    """Run ``sql`` over all items, or over ``ids`` in batches (SQLite bounds the parameters of a query)."""
    if ids is None:
        yield store.db.execute(sql + (f" WHERE {extra}" if extra else "")).fetchall()
        return
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        marks = ",".join("?" * len(batch))
        where = f" WHERE id IN ({marks})" + (f" AND {extra}" if extra else "")
        yield store.db.execute(sql + where, batch).fetchall()


@dataclass(frozen=True)
class FacetColumn:
    """One list column of every item (its sectors or its themes) as arrays: each value as a code into ``values``,
    with the item it belongs to, items ascending and each item's values in list order."""

    items: np.ndarray  # int64: the item's number in the columns
    codes: np.ndarray  # int64: the value's position in ``values``
    values: list[str]  # each distinct value once, in the order first met


@dataclass
class TrackerColumns:
    """Every item as the tracker counts it, a list per column, oldest first (in the order of ``dated_items``)."""

    ids: list[str] = field(default_factory=list)
    published: list[str | None] = field(default_factory=list)
    duplicate_of: list[str | None] = field(default_factory=list)
    signal_keys: list[int] = field(default_factory=list)  # a digest of its Signals rows as stored; 0: none
    facets: dict[str, FacetColumn] = field(default_factory=dict)  # "sectors", "themes" as read (edits win)


def tracker_columns(store: SqliteStore) -> TrackerColumns:
    """Every item's id, dates, original, a digest of its Signals rows and its sectors and themes, in one pass that
    reads no Signals JSON in Python (only its digest is needed)."""
    edited = store.db.execute("SELECT 1 FROM analyst_edits WHERE field IN ('sectors', 'themes') LIMIT 1").fetchone()
    # An analyst's edit wins over the stored list; with none, the lists are read as they are (a tenth of a second
    # less at 100k items than asking for an edit per item).
    sectors, themes = (effective_sql("sectors"), effective_sql("themes")) if edited else ("sectors", "themes")
    found = store.db.execute(
        f"SELECT id, published, substr(added_at, 1, 10), duplicate_of, signals, {sectors}, {themes} FROM items"
    ).fetchall()
    found.sort(key=lambda row: (row[1] or row[2], row[0]))
    columns = TrackerColumns(
        [row[0] for row in found],
        [row[1] for row in found],
        [row[3] for row in found],
        [_digest(row[4]) if row[4] and row[4] != "[]" else 0 for row in found],
    )
    for name, at in (("sectors", 5), ("themes", 6)):
        columns.facets[name] = _facet_column([row[at] for row in found])
    return columns


def _facet_column(texts: list[str | None]) -> FacetColumn:
    """The JSON lists of every item as one column of codes. All lists are parsed in one call (100k calls cost
    most of a warm trends call); a damaged one makes that fail, and the lists are then read one by one."""
    lists = _json_lists(texts)
    lengths = [len(found) for found in lists]
    values = [value for found in lists for value in found]
    if set(map(type, values)) - {str}:  # something other than names: left out, list by list
        lists = [[value for value in found if isinstance(value, str)] for found in lists]
        lengths, values = [len(found) for found in lists], [value for found in lists for value in found]
    code: dict[str, int] = {}
    codes = [code.setdefault(value, len(code)) for value in cast(list[str], values)]
    items = np.repeat(np.arange(len(texts), dtype=np.int64), np.asarray(lengths, dtype=np.int64))
    return FacetColumn(items, np.asarray(codes, dtype=np.int64), list(code))


def _json_lists(texts: list[str | None]) -> list[list[object]]:
    try:
        together = json.loads("[" + ",".join(text or "[]" for text in texts) + "]")
    except ValueError:
        together = None
    # A text that held two values would shift every list after it; each text gives at least one value, so the
    # same count means one each.
    if isinstance(together, list) and len(together) == len(texts):
        return [found if isinstance(found, list) else [] for found in together]
    return [_json_list(text) for text in texts]


def _json_list(text: str | None) -> list[object]:
    if not text or text == "[]":
        return []
    try:
        found = json.loads(text)
    except ValueError:
        return []  # a damaged list counts as empty rather than stopping the tracker
    return found if isinstance(found, list) else []


def _digest(text: str) -> int:
    """Two checksums of an item's stored rows in one 64-bit key. It only tells the kept grouping which items
    changed, and two C calls are a tenth of a hashlib object's cost per item, which counts at 100k items."""
    data = text.encode()
    return (zlib.crc32(data) << 32) | zlib.adler32(data)
