"""Stored themes under their canonical names: the rewrite a knowledge base made before the theme vocabulary gets.

Items' themes and analysts' theme corrections become canonical names (``ThemeVocabulary.canonical_list``:
order kept, two spellings of one theme kept once), and the full-text row of a changed item is written again,
as it holds the themes. The same rewrite serves both stores: SQLite's migration m009 runs it on the record's
folder's aliases; a Postgres database runs it once when ``ensure_schema`` upgrades it, with the aliases file
the database shares (``kb_files``).
"""

from __future__ import annotations

import json
from typing import Any

from shadowmatch_kb.model import Item
from shadowmatch_kb.store.sectors import json_labels as _labels
from shadowmatch_kb.text.themes import ALIASES_FILE, ThemeVocabulary

__all__ = ["migrate_to_canonical_themes", "upgrade_postgres_themes"]

# The name the shared aliases file has in a Postgres knowledge base's ``kb_files`` (shared_files.SHARED_FILES).
SHARED_NAME = f"corpus/{ALIASES_FILE}"


def migrate_to_canonical_themes(db: Any, vocabulary: ThemeVocabulary) -> int:
    """Rewrite every item's themes and its analysts' theme corrections to canonical names (inside the caller's
    transaction: all of them or none); the number of items and corrections changed."""
    changed = 0
    rows = db.execute("SELECT id, title, summary, keywords, themes, text FROM items").fetchall()
    for item_id, title, summary, keywords, themes, text in rows:
        labels = _labels(themes)
        names = vocabulary.canonical_list(labels)
        if names == labels:
            continue
        db.execute("UPDATE items SET themes = ? WHERE id = ?", (json.dumps(names, ensure_ascii=False), item_id))
        item = Item(id=item_id, title=title, summary=summary, keywords=_labels(keywords), themes=names, text=text)
        _fulltext(db).write_fts_row(db, item)
        changed += 1
    edits = db.execute("SELECT id, value FROM analyst_edits WHERE field = 'themes'").fetchall()
    for edit_id, value in edits:
        labels = _labels(value)
        names = vocabulary.canonical_list(labels)
        if names != labels:
            text = json.dumps(names, ensure_ascii=False)
            db.execute("UPDATE analyst_edits SET value = ? WHERE id = ?", (text, edit_id))
            changed += 1
    return changed


def upgrade_postgres_themes(db: Any) -> None:
    """The Postgres upgrade step: canonical themes with the aliases file the database shares. A file that
    does not read falls back to the shipped merges, so a bad line never locks everyone out of the knowledge
    base; the next command that reads themes names the line."""
    from shadowmatch_kb.errors import InputError

    row = db.execute("SELECT content FROM kb_files WHERE name = ?", (SHARED_NAME,)).fetchone()
    vocabulary = ThemeVocabulary.load()
    if row is not None:
        try:
            vocabulary = ThemeVocabulary.with_aliases_text(str(row[0]), SHARED_NAME)
        except InputError:
            pass
    migrate_to_canonical_themes(db, vocabulary)


def _fulltext(db: Any) -> Any:
    # Asked of the connection, not of store.pg, which runs the upgrade step and so may not be imported here.
    if getattr(db, "dialect", "sqlite") == "postgres":
        from shadowmatch_kb.store import pg_fulltext

        return pg_fulltext
    from shadowmatch_kb.store import fulltext

    return fulltext
