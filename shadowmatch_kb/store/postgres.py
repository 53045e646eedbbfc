"""PostgresStore: the record of a knowledge base shared in PostgreSQL, for a team's analysts, crawlers and servers.

It is the SQLite store over another connection: the same methods and the same SQL wherever the two engines
agree, so both stores give the same answers (``tests/test_store_contract.py`` runs one contract on both).
What differs is here: how the connection is opened and its schema made, full text (Postgres has no FTS5; see
``store.pg_fulltext``, which computes FTS5's BM25 on its own term tables), the change counter readers
cache by, and the consistency check.

Writers do not take turns at one lock as with the file store: each write is one transaction, and Postgres
lets writers of different items go on at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from shadowmatch_kb.store import pg_fulltext
from shadowmatch_kb.store.consistency import damaged_raw_inputs
from shadowmatch_kb.store.pg import SCHEMA_VERSION, PgConnection, ensure_schema
from shadowmatch_kb.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from shadowmatch_kb.text.sectors import SectorVocabulary
    from shadowmatch_kb.text.themes import ThemeVocabulary

__all__ = ["PostgresStore"]

# Each query counts the rows of one kind of damage; the label says what they are.
_DAMAGE_QUERIES = {
    "items without their raw input": "SELECT count(*) FROM items WHERE id NOT IN (SELECT item_id FROM raw_inputs)",
    "duplicates pointing at missing items": "SELECT count(*) FROM items WHERE duplicate_of IS NOT NULL"
    " AND duplicate_of NOT IN (SELECT id FROM items)",
}


class PostgresStore(SqliteStore):
    """Items, tags, analyst edits and raw inputs in a Postgres database (``postgresql://…``)."""

    fulltext = pg_fulltext

    def __init__(self, url: str, *, aliases_dir: Path | None = None) -> None:
        """Open (and on first use create) the knowledge base at ``url``; the analysts' sector aliases are read from
        ``aliases_dir`` (this machine's working folder), as the knowledge base's composer reads them."""
        self.path = None
        self.url = url
        self.aliases_dir = aliases_dir
        self.db = PgConnection(url)  # type: ignore[assignment]
        try:
            ensure_schema(self.db)  # type: ignore[arg-type]
        except BaseException:
            self.db.close()
            raise

    @staticmethod
    def holds_a_knowledge_base(url: str) -> bool:
        """True when the database at ``url`` has a knowledge base's tables (it is not created by asking)."""
        db = PgConnection(url)
        try:
            return bool(db.execute("SELECT to_regclass('kb_meta') IS NOT NULL").fetchone()[0])
        finally:
            db.close()

    @property
    def sectors(self) -> SectorVocabulary:
        """The shipped sector vocabulary with the aliases of the working folder, if any."""
        from shadowmatch_kb.text.sectors import SectorVocabulary

        return SectorVocabulary.for_record(self.aliases_dir)

    @property
    def themes(self) -> ThemeVocabulary:
        """The shipped theme vocabulary with the merges of the working folder, if any."""
        from shadowmatch_kb.text.themes import ThemeVocabulary

        return ThemeVocabulary.for_record(self.aliases_dir)

    def meta(self, key: str) -> str | None:
        """A setting of the knowledge base kept with its record (such as what built its index)."""
        row = self.db.execute("SELECT value FROM kb_meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Keep a setting of the knowledge base with its record."""
        self.db.execute(
            "INSERT INTO kb_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def rebuild_fts(self) -> None:
        """Rebuild the full-text terms from the items table (part of ``smkb reindex``)."""
        self.db.execute("BEGIN")
        try:
            pg_fulltext.rebuild_fts_rows(self.db)  # type: ignore[arg-type]
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def data_version(self) -> int:
        """A number that changes whenever a write to items, tags or analyst edits commits."""
        row = self.db.execute("SELECT value FROM kb_meta WHERE key = 'record_version'").fetchone()
        return int(row[0])

    def check(self) -> list[str]:
        """Consistency problems of the record (empty when healthy)."""
        problems = []
        row = self.db.execute("SELECT value FROM kb_meta WHERE key = 'schema_version'").fetchone()
        if row is None or int(row[0]) != SCHEMA_VERSION:
            problems.append(f"schema at version {row[0] if row else None}, expected {SCHEMA_VERSION}")
        for label, sql in {**_DAMAGE_QUERIES, **pg_fulltext.DAMAGE_QUERIES}.items():
            count = self.db.execute(sql).fetchone()[0]
            if count:
                problems.append(f"{count} {label}")
        return problems + damaged_raw_inputs(self.db)  # type: ignore[arg-type]
