"""Items seen through time: their Signals rows and their sectors and themes, each with the date it counts on.

The date is the published date, else the day the item was imported (a page without a date still says
something about the period it was found in). Analyst corrections of sectors and themes win, as on read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from shadowmatch_kb.model import ItemFilter, Signal, SignalRow
from shadowmatch_kb.store.sqlite import SqliteStore, effective_sql

__all__ = ["DatedItem", "dated_items", "signal_rows"]

_BATCH = 500


@dataclass(frozen=True)
class DatedItem:
    """What the tracker counts of one item."""

    item_id: str
    date: str  # YYYY-MM-DD: published, else imported
    dated_by: str  # "published" or "imported"
    sectors: tuple[str, ...]
    themes: tuple[str, ...]
    duplicate_of: str | None
    # How sure enrichment was of each sector it computed, by section name (as ``sectors`` are stored); sectors
    # an item states itself or an analyst set are not in it (they are as sure as can be: see ``sector_confidence``).
    computed_confidence: tuple[tuple[str, float], ...] = ()

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
                    "published" if row["published"] else "imported",
                    tuple(json.loads(row["sectors"])),
                    tuple(json.loads(row["themes"])),
                    row["duplicate_of"],
                    () if row["edited"] else _computed_confidence(row["enrichment"]),
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


def signal_rows(store: SqliteStore, item_ids: Iterable[str] | None = None) -> list[SignalRow]:
    """The Signals rows of the given items (all when None), each dated as the item is, in item order."""
    ids = None if item_ids is None else list(dict.fromkeys(item_ids))
    sql = "SELECT id, published, substr(added_at, 1, 10) AS added, signals, duplicate_of FROM items"
    by_id: dict[str, list[SignalRow]] = {}
    for rows in _select(store, sql, ids, extra="signals != '[]'"):
        for row in rows:
            date = row["published"] or row["added"]
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
