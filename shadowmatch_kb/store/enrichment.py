"""Computed fields of items (summary, keywords, themes, sectors, signals) and which enrichment made them.

Analyst edits live apart (``analyst_edits``) and win on read, so writing computed fields here never
overwrites a correction; tags are never touched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace

from shadowmatch_kb.model import Item
from shadowmatch_kb.store.records import now
from shadowmatch_kb.store.sectors import keep_unplaced_labels, section_confidence
from shadowmatch_kb.store.sqlite import SqliteStore

__all__ = ["enrichment_record", "items_to_enrich", "labelled_theme_items", "save_enrichment"]


def items_to_enrich(store: SqliteStore, ids: Iterable[str] | None = None, *, force: bool = False) -> list[str]:
    """Ids to enrich: those given (all with ``force``), else every item not enriched since its content changed."""
    if ids is not None:
        wanted = list(dict.fromkeys(ids))
        if force:
            return wanted
        marks = ",".join("?" * len(wanted))
        rows = store.db.execute(
            f"SELECT id FROM items WHERE enrichment IS NULL AND id IN ({marks}) ORDER BY id", wanted
        ).fetchall()
        return [row[0] for row in rows]
    query = "SELECT id FROM items" + ("" if force else " WHERE enrichment IS NULL") + " ORDER BY id"
    return [row[0] for row in store.db.execute(query)]


def save_enrichment(store: SqliteStore, item: Item, marker: dict[str, object]) -> None:
    """Write an item's computed fields and full-text row in one transaction; its sectors as section names
    (a label of the item's own that none takes is kept as its ``sector:`` tag), ``marker``'s
    ``sector_confidence`` per section."""
    vocabulary = store.sectors
    # Themes by their one name, in the row and in its full-text row alike.
    item = replace(item, themes=store.themes.canonical_list(item.themes))
    confidence = marker.get("sector_confidence")
    if isinstance(confidence, dict):
        marker = {**marker, "sector_confidence": section_confidence(vocabulary, confidence)}
    store.db.execute("BEGIN IMMEDIATE")
    try:
        sectors = keep_unplaced_labels(store.db, vocabulary, item.id, item.sectors, now())
        store.db.execute(
            "UPDATE items SET summary = ?, keywords = ?, themes = ?, sectors = ?, signals = ?, enrichment = ?"
            " WHERE id = ?",
            (
                item.summary,
                json.dumps(item.keywords, ensure_ascii=False),
                json.dumps(item.themes, ensure_ascii=False),
                json.dumps(sectors, ensure_ascii=False),
                json.dumps([s.to_dict() for s in item.signals], ensure_ascii=False),
                json.dumps(marker, sort_keys=True),
                item.id,
            ),
        )
        store.write_fts(item)
        store.db.execute("COMMIT")
    except BaseException:
        store.db.execute("ROLLBACK")
        raise


def enrichment_record(store: SqliteStore, item_id: str) -> dict[str, object] | None:
    """The record ``save_enrichment`` kept for an item; None when it was never enriched (or changed since)."""
    row = store.db.execute("SELECT enrichment FROM items WHERE id = ?", (item_id,)).fetchone()
    return json.loads(row[0]) if row and row[0] else None


def labelled_theme_items(store: SqliteStore) -> list[tuple[str, str, list[str], bool]]:
    """(id, text to embed, themes, corrected by an analyst) of items whose themes were given, not computed.

    Imported posts bring their own themes; analysts' corrections are the strongest labels.
    """
    corrected = {
        row[0]: json.loads(row[1])
        for row in store.db.execute(
            "SELECT item_id, value FROM analyst_edits WHERE field = 'themes' ORDER BY id"
        )  # later rows win
    }
    rows = store.db.execute(
        "SELECT id, title, summary, text, themes, kind FROM items WHERE duplicate_of IS NULL"
        " AND (kind = 'signals_post' OR id IN (SELECT item_id FROM analyst_edits WHERE field = 'themes'))"
    ).fetchall()
    found = []
    for row in rows:
        themes = corrected.get(row[0], json.loads(row[4]))
        if themes:
            found.append((row[0], f"{row[1]}. {row[2] or row[3][:2000]}", themes, row[0] in corrected))
    return found
