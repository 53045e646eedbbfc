"""Stored sectors are ISIC section names: what every write of an item's sectors goes through.

An item's sectors come from many hands (a post's own list, enrichment, a restored export, an analyst), and
people write them many ways ("healthcare", "Q", "nurses"). The record keeps one form, the section's friendly
name (``SectorVocabulary.names``), so filters and counts agree with briefings. A label the vocabulary (with
the knowledge base's aliases) cannot place is never dropped: it stays on its item as the tag
``sector:<label>`` (removed again once a later write places the label, after an analyst added an alias).
Enrichment's confidence in each sector it computed is kept per section too, the highest of its labels'.

The record's folder is the one the database file is in, so a migration finds the aliases as the store does.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from shadowmatch_kb.text.sectors import UNPLACED_TAG, SectorVocabulary

__all__ = ["keep_unplaced_labels", "migrate_to_section_names", "record_dir", "section_confidence"]


def record_dir(db: sqlite3.Connection) -> Path | None:
    """The folder of the connection's database file (the KB's ``corpus/``); None for one in memory."""
    for row in db.execute("PRAGMA database_list"):
        if row[1] == "main":
            return Path(row[2]).parent if row[2] else None
    return None


def keep_unplaced_labels(
    db: sqlite3.Connection,
    vocabulary: SectorVocabulary,
    item_id: str,
    labels: list[str],
    now: str,
    *,
    settle: bool = True,
) -> list[str]:
    """The section names to store for ``labels``; the labels no section takes become the stored item's
    ``sector:`` tags, and (with ``settle``) such tags of labels placed now go (inside the caller's transaction)."""
    placed = vocabulary.place(labels)
    for tag in placed.unplaced_tags:
        db.execute("INSERT INTO item_tags VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (item_id, tag, now))
    settled = [(UNPLACED_TAG + " ".join(label.split())).lower() for label in labels if vocabulary.normalise(label)]
    if settle and settled:
        marks = ",".join("?" * len(settled))
        db.execute(f"DELETE FROM item_tags WHERE item_id = ? AND lower(tag) IN ({marks})", (item_id, *settled))
    return placed.names


def section_confidence(vocabulary: SectorVocabulary, found: dict[str, Any]) -> dict[str, float]:
    """Confidences keyed by the labels enrichment named, keyed by section name (the highest of a section's);
    labels no section takes, and values that are no number, are left out."""
    merged: dict[str, float] = {}
    for label, value in found.items():
        name = vocabulary.normalise(str(label))
        if name is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        merged[name] = max(merged.get(name, 0.0), float(value))
    return merged


def migrate_to_section_names(db: sqlite3.Connection, vocabulary: SectorVocabulary, now: str) -> None:
    """Rewrite every item's sectors, its analysts' sector corrections and its enrichment record's confidences
    to section names (inside the caller's transaction: all of them or none)."""
    # Nothing has been tagged ``sector:`` by us before, so no tag is settled here: one an analyst added stays.
    rows = db.execute("SELECT id, sectors, enrichment FROM items").fetchall()
    for item_id, sectors, enrichment in rows:
        labels = json_labels(sectors)
        names = keep_unplaced_labels(db, vocabulary, item_id, labels, now, settle=False)
        changed = names != labels
        record = _record(enrichment)
        if record is not None and isinstance(record.get("sector_confidence"), dict):
            merged = section_confidence(vocabulary, record["sector_confidence"])
            if merged != record["sector_confidence"]:
                enrichment, changed = json.dumps({**record, "sector_confidence": merged}, sort_keys=True), True
        if changed:  # one write an item, whatever changed
            db.execute(
                "UPDATE items SET sectors = ?, enrichment = ? WHERE id = ?",
                (json.dumps(names, ensure_ascii=False), enrichment, item_id),
            )
    edits = db.execute("SELECT id, item_id, value FROM analyst_edits WHERE field = 'sectors'").fetchall()
    for edit_id, item_id, value in edits:
        labels = json_labels(value)
        names = keep_unplaced_labels(db, vocabulary, item_id, labels, now, settle=False)
        if names != labels:
            text = json.dumps(names, ensure_ascii=False)
            db.execute("UPDATE analyst_edits SET value = ? WHERE id = ?", (text, edit_id))


def json_labels(text: str | None) -> list[str]:
    """The labels of a JSON list held as text ([] for anything else)."""
    try:
        found = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(label) for label in found] if isinstance(found, list) else []


def _record(text: str | None) -> dict[str, Any] | None:
    try:
        found = json.loads(text) if text else None
    except ValueError:
        return None
    return found if isinstance(found, dict) else None
