"""The consistency check of the record behind ``smkb doctor``: what a crash or a hand edit could break."""

from __future__ import annotations

import hashlib
import sqlite3
import zlib

from shadowmatch_kb.store.migrations import MIGRATIONS

__all__ = ["consistency_problems", "damaged_raw_inputs"]

# Each query counts the rows of one kind of damage; the label says what they are.
_DAMAGE_QUERIES = {
    "items without a full-text entry": "SELECT count(*) FROM items WHERE rowid NOT IN (SELECT rowid FROM items_fts)",
    "full-text entries without an item": "SELECT count(*) FROM items_fts f WHERE NOT EXISTS"
    " (SELECT 1 FROM items i WHERE i.rowid = f.rowid AND i.id = f.item_id)",
    "items without their raw input": "SELECT count(*) FROM items WHERE id NOT IN (SELECT item_id FROM raw_inputs)",
    "tags of missing items": "SELECT count(*) FROM item_tags WHERE item_id NOT IN (SELECT id FROM items)",
    "duplicates pointing at missing items": "SELECT count(*) FROM items WHERE duplicate_of IS NOT NULL"
    " AND duplicate_of NOT IN (SELECT id FROM items)",
}


def consistency_problems(db: sqlite3.Connection) -> list[str]:
    """Consistency problems of the record (empty when healthy)."""
    problems = []
    result = db.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        problems.append(f"SQLite integrity check failed: {result}")
    latest = max(v for v, _, _ in MIGRATIONS)
    have = db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
    if have != latest:
        problems.append(f"schema at migration {have}, expected {latest}")
    for label, sql in _DAMAGE_QUERIES.items():
        n = db.execute(sql).fetchone()[0]
        if n:
            problems.append(f"{n} {label}")
    return problems + damaged_raw_inputs(db)


def damaged_raw_inputs(db: sqlite3.Connection) -> list[str]:
    """One problem per raw input that no longer decompresses to its recorded hash (either store's connection)."""
    # Raw inputs are what extraction is redone from: each must still decompress to its recorded hash.
    problems = []
    for row in db.execute("SELECT item_id, sha256, compressed FROM raw_inputs"):
        try:
            whole = hashlib.sha256(zlib.decompress(row[2])).hexdigest() == row[1]
        except zlib.error:
            whole = False
        if not whole:
            problems.append(f"raw input of {row[0]} is damaged")
    return problems
