"""How many items carry each sector or theme, as ``smkb stats``, the web page's theme list and tagging count them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from shadowmatch_kb.text.themes import merge_spellings

if TYPE_CHECKING:
    import sqlite3

    from shadowmatch_kb.text.sectors import SectorVocabulary

__all__ = ["facet_counts"]


def facet_counts(db: sqlite3.Connection, value_sql: str, sectors: SectorVocabulary | None) -> dict[str, int]:
    """Unique items (copies left out) per label of ``value_sql`` (an item's sectors or themes as read, analyst edits
    applied), most first; sectors by section name (``sectors`` given), and the spellings of one theme
    ("Productivity Gains", "productivity gains") counted as one."""
    # The edits are applied in SQL, row by row: no list of every id is sent back (SQLite caps a query's
    # parameters, and a knowledge base may hold 100k items).
    rows = db.execute(f"SELECT {value_sql} FROM items WHERE duplicate_of IS NULL").fetchall()
    vocabulary = sectors if rows else None
    counts: dict[str, int] = {}
    for row in rows:
        values = json.loads(row[0])
        for value in values if vocabulary is None else vocabulary.place(values).names:
            counts[value] = counts.get(value, 0) + 1
    ranked = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return ranked if sectors is not None else merge_spellings(ranked)
