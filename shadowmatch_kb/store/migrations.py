"""Numbered schema migrations of the record store, applied in order and recorded."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

__all__ = ["MIGRATIONS", "apply_migrations", "rebuild_fts_rows"]


def m001_create_items(db: sqlite3.Connection) -> None:
    """Items, their raw inputs, tags, analyst edits and the full-text index."""
    _run_statements(
        db,
        """
        CREATE TABLE items (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            url TEXT,
            published TEXT,
            source TEXT,
            author TEXT,
            site TEXT,
            language TEXT,
            kind TEXT NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            summary TEXT NOT NULL DEFAULT '',
            keywords TEXT NOT NULL DEFAULT '[]',
            themes TEXT NOT NULL DEFAULT '[]',
            sectors TEXT NOT NULL DEFAULT '[]',
            signals TEXT NOT NULL DEFAULT '[]',
            reference_closest TEXT NOT NULL DEFAULT '[]',
            duplicate_of TEXT,
            text_hash TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            added_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX items_published ON items(published);
        CREATE INDEX items_text_hash ON items(text_hash);
        CREATE TABLE raw_inputs (
            item_id TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
            input TEXT NOT NULL,
            media_type TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            compressed BLOB NOT NULL,
            stored_at TEXT NOT NULL
        );
        CREATE TABLE item_tags (
            item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (item_id, tag)
        );
        CREATE INDEX item_tags_tag ON item_tags(tag);
        CREATE TABLE analyst_edits (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            field TEXT NOT NULL,
            value TEXT NOT NULL,
            edited_at TEXT NOT NULL
        );
        CREATE INDEX analyst_edits_item ON analyst_edits(item_id, field);
        CREATE VIRTUAL TABLE items_fts USING fts5(
            item_id UNINDEXED, title, summary, keywords, body,
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        """,
    )


def m002_fts_rows_follow_item_rowids(db: sqlite3.Connection) -> None:
    """Key each full-text row by its item's rowid, so replacing one is a lookup, not a table scan."""
    rebuild_fts_rows(db)


def m003_crawl_frontier_and_fingerprints(db: sqlite3.Connection) -> None:
    """The crawl frontier (every URL a source led to, with its last outcome) and near-duplicate fingerprints."""
    _run_statements(
        db,
        """
        CREATE TABLE crawl_urls (
            url TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            source TEXT NOT NULL,
            role TEXT NOT NULL,
            depth INTEGER NOT NULL DEFAULT 0,
            queued INTEGER NOT NULL DEFAULT 1,
            listed_date TEXT,
            outcome TEXT,
            reason TEXT,
            etag TEXT,
            last_modified TEXT,
            item_id TEXT,
            raw BLOB,
            failures INTEGER NOT NULL DEFAULT 0,
            last_run TEXT,
            first_seen TEXT NOT NULL,
            last_fetched TEXT
        );
        CREATE INDEX crawl_urls_queue ON crawl_urls(queued, source);
        CREATE TABLE item_fingerprints (
            item_id TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            signature BLOB NOT NULL
        );
        CREATE TABLE fingerprint_bands (
            band_key INTEGER NOT NULL,
            item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE
        );
        CREATE INDEX fingerprint_bands_key ON fingerprint_bands(band_key);
        CREATE INDEX fingerprint_bands_item ON fingerprint_bands(item_id);
        """,
    )


def m004_items_record_their_enrichment(db: sqlite3.Connection) -> None:
    """Which enrichment computed an item's fields (NULL: not enriched yet, or its content changed since)."""
    db.execute("ALTER TABLE items ADD COLUMN enrichment TEXT")


def m005_occupation_datasets(db: sqlite3.Connection) -> None:
    """Public occupation datasets as imported: labels, figures under each dataset's own codes, tasks, crosswalks."""
    _run_statements(
        db,
        """
        CREATE TABLE occupation_datasets (
            key TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            year INTEGER NOT NULL,
            licence TEXT NOT NULL,
            attribution TEXT NOT NULL,
            source_path TEXT NOT NULL,
            imported_at TEXT NOT NULL
        );
        CREATE TABLE occupation_labels (
            isco TEXT NOT NULL,
            label TEXT NOT NULL,
            kind TEXT NOT NULL,
            esco_uri TEXT
        );
        CREATE INDEX occupation_labels_isco ON occupation_labels(isco);
        CREATE TABLE occupation_figures (
            dataset TEXT NOT NULL,
            scheme TEXT NOT NULL,
            code TEXT NOT NULL,
            measure TEXT NOT NULL,
            value TEXT NOT NULL,
            number REAL,
            label TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX occupation_figures_code ON occupation_figures(scheme, code);
        CREATE TABLE occupation_tasks (
            dataset TEXT NOT NULL,
            isco TEXT NOT NULL,
            task TEXT NOT NULL,
            score REAL NOT NULL
        );
        CREATE INDEX occupation_tasks_isco ON occupation_tasks(isco);
        CREATE TABLE occupation_crosswalk (
            dataset TEXT NOT NULL,
            from_scheme TEXT NOT NULL,
            from_code TEXT NOT NULL,
            to_scheme TEXT NOT NULL,
            to_code TEXT NOT NULL
        );
        CREATE INDEX occupation_crosswalk_to ON occupation_crosswalk(to_scheme, to_code);
        """,
    )


def m006_sectors_are_section_names(db: sqlite3.Connection) -> None:
    """Sectors name ISIC sections only: items' own and computed labels, analysts' corrections and enrichment's
    confidences become section names ("banking" -> "banking and insurance"), with the knowledge base's
    aliases; a label nothing places is kept as the item's tag ``sector:<label>``."""
    from datetime import UTC, datetime

    from shadowmatch_kb.store.sectors import migrate_to_section_names, record_dir
    from shadowmatch_kb.text.sectors import SectorVocabulary

    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    migrate_to_section_names(db, SectorVocabulary.for_record(record_dir(db)), now)


def m007_knowledge_base_identity(db: sqlite3.Connection) -> None:
    """A random identity of the knowledge base, made once: what it owns in a shared service (its collections on a
    Chroma server) is named by it, so two knowledge bases pointed at one server never touch each other's."""
    _run_statements(
        db,
        """
        CREATE TABLE kb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO kb_meta (key, value) VALUES ('kb_id', lower(hex(randomblob(8))))
        """,
    )


def rebuild_fts_rows(db: sqlite3.Connection) -> None:
    """Refill the full-text table from items (inside the caller's transaction)."""
    db.execute("DELETE FROM items_fts")
    db.execute(
        "INSERT INTO items_fts (rowid, item_id, title, summary, keywords, body)"
        " SELECT rowid, id, title, summary,"
        " coalesce((SELECT group_concat(value, ' ; ') FROM json_each(items.keywords)), '')"
        " || ' ; ' || coalesce((SELECT group_concat(value, ' ; ') FROM json_each(items.themes)), ''),"
        " text FROM items"
    )


def _run_statements(db: sqlite3.Connection, script: str) -> None:
    # executescript() would commit the surrounding transaction; run statements one by one instead.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def m008_edit_history_and_earlier_inputs(db: sqlite3.Connection) -> None:
    """Every analyst change of an item's tags, sectors and themes, with the list before it (``store.edits``),
    filled from the analyst edits and the dates of the tags kept so far; and the raw inputs an item had before
    another input of the same page replaced them."""
    from shadowmatch_kb.store.edits import EDIT_HISTORY_SQLITE, backfill_history

    _run_statements(db, EDIT_HISTORY_SQLITE)
    backfill_history(db)


def m009_themes_are_canonical(db: sqlite3.Connection) -> None:
    """Themes have one name each: items' themes and analysts' theme corrections become the theme vocabulary's
    canonical names ("AI", "A.I." -> "artificial intelligence"), with the knowledge base's aliases; order is
    kept and two spellings of one theme on an item become one."""
    from shadowmatch_kb.store.sectors import record_dir
    from shadowmatch_kb.store.themes import migrate_to_canonical_themes
    from shadowmatch_kb.text.themes import ThemeVocabulary

    migrate_to_canonical_themes(db, ThemeVocabulary.for_record(record_dir(db)))


MIGRATIONS: list[tuple[int, str, Callable[[sqlite3.Connection], None]]] = [
    (1, "m001_create_items", m001_create_items),
    (2, "m002_fts_rows_follow_item_rowids", m002_fts_rows_follow_item_rowids),
    (3, "m003_crawl_frontier_and_fingerprints", m003_crawl_frontier_and_fingerprints),
    (4, "m004_items_record_their_enrichment", m004_items_record_their_enrichment),
    (5, "m005_occupation_datasets", m005_occupation_datasets),
    (6, "m006_sectors_are_section_names", m006_sectors_are_section_names),
    (7, "m007_knowledge_base_identity", m007_knowledge_base_identity),
    (8, "m008_edit_history_and_earlier_inputs", m008_edit_history_and_earlier_inputs),
    (9, "m009_themes_are_canonical", m009_themes_are_canonical),
]


def apply_migrations(db: sqlite3.Connection) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
    applied = []
    for version, name, migrate in MIGRATIONS:
        if version in done:
            continue
        # Each migration and its record land together or not at all.
        db.execute("BEGIN IMMEDIATE")
        try:
            migrate(db)
            db.execute("INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))", (version, name))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
