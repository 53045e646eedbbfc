"""A knowledge base's record in PostgreSQL: the connection the store's modules talk to, and its schema.

The store's modules were written against ``sqlite3`` and keep their SQL portable where both engines agree
(``ON CONFLICT``, ``COALESCE``, sub-selects). ``PgConnection`` gives them the same small interface over
psycopg: ``execute`` with ``?`` and ``:name`` placeholders, rows read by position or by column name, and
transactions opened with ``BEGIN IMMEDIATE`` (SQLite's way to take the write lock; Postgres needs no such
hint, as its row locks let writers on different items go on at once). Where the engines differ a module asks
``dialect(db)``. psycopg is imported only here, so the default install, which has no Postgres, never loads it.

Text columns that are sorted use the "C" collation, so ids, dates and names sort by code point as in SQLite
whatever the server's locale is; JSON lists stay text, as the SQLite record keeps them, so both stores read and
write the same strings.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from shadowmatch_kb.errors import BackendError

__all__ = [
    "SCHEMA_VERSION",
    "PgConnection",
    "PostgresError",
    "dialect",
    "insertion_order",
    "is_postgres_url",
    "shown_url",
]


def is_postgres_url(location: object) -> bool:
    """True for a ``postgresql://`` or ``postgres://`` URL (a knowledge base in Postgres, not a folder)."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def dialect(db: object) -> str:
    """``"postgres"`` for a ``PgConnection``, else ``"sqlite"``."""
    return str(getattr(db, "dialect", "sqlite"))


def insertion_order(db: object) -> str:
    """The column that orders a table's rows as they were written: SQLite's rowid, the schema's ``seq`` here."""
    return "seq" if dialect(db) == "postgres" else "rowid"


class Row(tuple[Any, ...]):
    """A result row read by position (``row[0]``) or by column name (``row["id"]``), as ``sqlite3.Row`` is."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self.names)


def _row_factory(cursor: Any) -> Any:
    names = {column.name: position for position, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row.names = names
        return row

    return make


# A quoted string, a quoted name, a "::" cast, a "?" or a ":name" placeholder, or a literal "%".
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|\?|:([A-Za-z_]\w*)|%")


def translate(sql: str) -> str:
    """SQLite's placeholders as psycopg's (``?`` -> ``%s``, ``:name`` -> ``%(name)s``), every literal ``%``
    doubled; a ``?`` or ``:`` inside a quoted string and ``::`` casts are left as they are."""

    def swap(found: re.Match[str]) -> str:
        token = found.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if found.group(1):
            return f"%({found.group(1)})s"
        return token.replace("%", "%%")  # psycopg reads "%" even inside a quoted string

    return _TOKENS.sub(swap, sql)


class PostgresError(sqlite3.Error):
    """A statement Postgres refused. It is an ``sqlite3.Error``, so code that handles a failed write of the record
    (a restore that goes on with the next line) handles both stores alike."""


class PgConnection:
    """The part of ``sqlite3.Connection`` the store uses, over one psycopg connection in autocommit mode
    (each statement commits by itself unless a ``BEGIN`` opened a transaction)."""

    dialect = "postgres"

    def __init__(self, url: str) -> None:
        """Connect to ``url``; a server that cannot be reached is a ``BackendError`` naming it."""
        try:
            import psycopg
        except ImportError as exc:
            raise BackendError(
                "a knowledge base in Postgres needs psycopg: pip install 'shadowmatch_kb[postgres]'"
            ) from exc
        self.url = url
        try:
            self.conn = psycopg.connect(url, autocommit=True, row_factory=_row_factory)
        except psycopg.Error as exc:
            reason = _first_line(exc)
            raise BackendError(
                f"cannot open the knowledge base at {shown_url(url)}: {reason}{_advice(reason)}"
            ) from exc

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        """Run one statement; returns the cursor (``fetchone``, ``fetchall``, iteration)."""
        statement = sql.strip()
        if statement.upper() == "BEGIN IMMEDIATE":
            statement = "BEGIN"
        with self._refusals():
            if not params:  # psycopg reads placeholders (and "%") only in a statement given parameters
                return self.conn.execute(statement)  # type: ignore[arg-type]
            return self.conn.execute(translate(statement), _params(params))  # type: ignore[arg-type]

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> None:
        """Run one statement once per row of parameters."""
        with self._refusals(), self.conn.cursor() as cursor:
            cursor.executemany(translate(sql), [_params(row) for row in rows])  # type: ignore[arg-type]

    @contextmanager
    def _refusals(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.OperationalError as exc:
            raise BackendError(f"lost the knowledge base at {shown_url(self.url)}: {_first_line(exc)}") from exc
        except psycopg.Error as exc:
            raise PostgresError(_first_line(exc)) from exc

    def script(self, statements: Iterable[str]) -> None:
        """Run statements given without parameters, one by one."""
        for statement in statements:
            self.conn.execute(statement)  # type: ignore[arg-type]

    def rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Iterator[Row]:
        """The rows of a query, read as they come."""
        yield from self.execute(sql, params)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def _params(params: Sequence[Any] | Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
    # memoryview and bytearray (what sqlite3 returns and takes for blobs) go to Postgres as bytea.
    if isinstance(params, Mapping):
        return {key: _value(value) for key, value in params.items()}
    return [_value(value) for value in params]


def _value(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview | bytearray) else value


def shown_url(url: str) -> str:
    """A URL as it may be shown: without its password."""
    url = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1@", url)
    return re.sub(r"([?&])password=[^&]*&?", r"\1", url).rstrip("?&")


def _advice(reason: str) -> str:
    """What to do about the commonest reasons a connection is refused."""
    if "database" in reason and "does not exist" in reason:
        return "; create it first (createdb NAME, or CREATE DATABASE NAME), and smkb makes its tables"
    if "password" in reason:
        return "; give the password in PGPASSWORD or ~/.pgpass rather than in the URL"
    return ""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ----- the schema ------------------------------------------------------------------------------------------------

# Raise with every change to SCHEMA; a database made by an older version is brought forward by ``ensure_schema``.
SCHEMA_VERSION = 3

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS items (
        id TEXT COLLATE "C" PRIMARY KEY,
        title TEXT COLLATE "C" NOT NULL,
        url TEXT COLLATE "C",
        published TEXT COLLATE "C",
        source TEXT COLLATE "C",
        author TEXT,
        site TEXT,
        language TEXT,
        kind TEXT COLLATE "C" NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        summary TEXT NOT NULL DEFAULT '',
        keywords TEXT NOT NULL DEFAULT '[]',
        themes TEXT NOT NULL DEFAULT '[]',
        sectors TEXT NOT NULL DEFAULT '[]',
        signals TEXT NOT NULL DEFAULT '[]',
        reference_closest TEXT NOT NULL DEFAULT '[]',
        duplicate_of TEXT COLLATE "C",
        text_hash TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        added_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL,
        enrichment TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS items_published ON items(published)",
    "CREATE INDEX IF NOT EXISTS items_text_hash ON items(text_hash)",
    "CREATE INDEX IF NOT EXISTS items_duplicate_of ON items(duplicate_of)",
    """CREATE TABLE IF NOT EXISTS raw_inputs (
        item_id TEXT COLLATE "C" PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
        input TEXT NOT NULL,
        media_type TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        compressed BYTEA NOT NULL,
        stored_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS item_tags (
        item_id TEXT COLLATE "C" NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        tag TEXT COLLATE "C" NOT NULL,
        added_at TEXT NOT NULL,
        PRIMARY KEY (item_id, tag)
    )""",
    "CREATE INDEX IF NOT EXISTS item_tags_tag ON item_tags(lower(tag))",
    """CREATE TABLE IF NOT EXISTS analyst_edits (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        item_id TEXT COLLATE "C" NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        field TEXT NOT NULL,
        value TEXT NOT NULL,
        edited_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS analyst_edits_item ON analyst_edits(item_id, field)",
    # Added in schema 2, with earlier_inputs. An item edited before has its history derived from analyst_edits
    # and item_tags until its next change stores it (``store.edits``), so an upgraded database needs no copy.
    """CREATE TABLE IF NOT EXISTS edit_history (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        item_id TEXT COLLATE "C" NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        change_no INTEGER NOT NULL,
        field TEXT NOT NULL,
        action TEXT NOT NULL,
        value TEXT NOT NULL,
        previous TEXT,
        edited_at TEXT NOT NULL,
        undoes INTEGER
    )""",
    "CREATE INDEX IF NOT EXISTS edit_history_item ON edit_history(item_id, change_no)",
    """CREATE TABLE IF NOT EXISTS earlier_inputs (
        item_id TEXT COLLATE "C" NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        input TEXT NOT NULL,
        media_type TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        compressed BYTEA NOT NULL,
        stored_at TEXT NOT NULL,
        replaced_at TEXT NOT NULL,
        PRIMARY KEY (item_id, sha256)
    )""",
    "CREATE TABLE IF NOT EXISTS kb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # The files people edit (crawl sources, sector aliases, smkb.toml), shared by every machine (shared_files.py).
    "CREATE TABLE IF NOT EXISTS kb_files (name TEXT PRIMARY KEY, content TEXT NOT NULL)",
    # ``seq``, last so that a plain ``INSERT ... VALUES`` of the other columns fills it, keeps the order rows were
    # written in, which the SQLite record reads from its rowid (``insertion_order``).
    """CREATE TABLE IF NOT EXISTS crawl_urls (
        url TEXT COLLATE "C" PRIMARY KEY,
        host TEXT COLLATE "C" NOT NULL,
        source TEXT COLLATE "C" NOT NULL,
        role TEXT NOT NULL,
        depth INTEGER NOT NULL DEFAULT 0,
        queued INTEGER NOT NULL DEFAULT 1,
        listed_date TEXT,
        outcome TEXT COLLATE "C",
        reason TEXT,
        etag TEXT,
        last_modified TEXT,
        item_id TEXT,
        raw BYTEA,
        failures INTEGER NOT NULL DEFAULT 0,
        last_run TEXT,
        first_seen TEXT NOT NULL,
        last_fetched TEXT,
        claimed_by TEXT,
        claimed_until TEXT COLLATE "C",
        seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
    )""",
    "CREATE INDEX IF NOT EXISTS crawl_urls_queue ON crawl_urls(queued, source)",
    """CREATE TABLE IF NOT EXISTS item_fingerprints (
        item_id TEXT COLLATE "C" PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        signature BYTEA NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS fingerprint_bands (
        band_key BIGINT NOT NULL,
        item_id TEXT COLLATE "C" NOT NULL REFERENCES items(id) ON DELETE CASCADE
    )""",
    "CREATE INDEX IF NOT EXISTS fingerprint_bands_key ON fingerprint_bands(band_key)",
    "CREATE INDEX IF NOT EXISTS fingerprint_bands_item ON fingerprint_bands(item_id)",
    """CREATE TABLE IF NOT EXISTS occupation_datasets (
        key TEXT COLLATE "C" PRIMARY KEY,
        name TEXT NOT NULL,
        year INTEGER NOT NULL,
        licence TEXT NOT NULL,
        attribution TEXT NOT NULL,
        source_path TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
    )""",
    """CREATE TABLE IF NOT EXISTS occupation_labels (
        isco TEXT COLLATE "C" NOT NULL,
        label TEXT COLLATE "C" NOT NULL,
        kind TEXT NOT NULL,
        esco_uri TEXT,
        seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
    )""",
    "CREATE INDEX IF NOT EXISTS occupation_labels_isco ON occupation_labels(isco)",
    """CREATE TABLE IF NOT EXISTS occupation_figures (
        dataset TEXT COLLATE "C" NOT NULL,
        scheme TEXT COLLATE "C" NOT NULL,
        code TEXT COLLATE "C" NOT NULL,
        measure TEXT COLLATE "C" NOT NULL,
        value TEXT NOT NULL,
        number DOUBLE PRECISION,
        label TEXT NOT NULL DEFAULT '',
        seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
    )""",
    "CREATE INDEX IF NOT EXISTS occupation_figures_code ON occupation_figures(scheme, code)",
    """CREATE TABLE IF NOT EXISTS occupation_tasks (
        dataset TEXT COLLATE "C" NOT NULL,
        isco TEXT COLLATE "C" NOT NULL,
        task TEXT COLLATE "C" NOT NULL,
        score DOUBLE PRECISION NOT NULL,
        seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
    )""",
    "CREATE INDEX IF NOT EXISTS occupation_tasks_isco ON occupation_tasks(isco)",
    """CREATE TABLE IF NOT EXISTS occupation_crosswalk (
        dataset TEXT COLLATE "C" NOT NULL,
        from_scheme TEXT COLLATE "C" NOT NULL,
        from_code TEXT COLLATE "C" NOT NULL,
        to_scheme TEXT COLLATE "C" NOT NULL,
        to_code TEXT COLLATE "C" NOT NULL,
        seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
    )""",
    "CREATE INDEX IF NOT EXISTS occupation_crosswalk_to ON occupation_crosswalk(to_scheme, to_code)",
    # A number every committed write to what readers cache advances, so a reader can tell that the record
    # changed (SQLite's PRAGMA data_version tells the same of its file). It is a row, not a sequence: a
    # sequence moves before the writer commits, and a reader that refreshed in between would keep stale data.
    # Writers of these tables therefore take turns at the row from their first write to their commit.
    "INSERT INTO kb_meta (key, value) VALUES ('record_version', '0') ON CONFLICT DO NOTHING",
    """CREATE OR REPLACE FUNCTION smkb_record_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE kb_meta SET value = (value::bigint + 1)::text WHERE key = 'record_version';
        RETURN NULL;
    END $$""",
    *(
        f"CREATE OR REPLACE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE ON {table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION smkb_record_changed()"
        for table in ("items", "item_tags", "analyst_edits")
    ),
)

# Any number will do as long as no other part of the project takes the same advisory lock.
_SCHEMA_LOCK = 0x736D6B62  # "smkb"


def ensure_schema(db: PgConnection) -> None:
    """Create the tables a knowledge base needs, once, even when several processes open it at the same moment."""
    found = db.execute("SELECT to_regclass('kb_meta') IS NOT NULL").fetchone()[0]
    before: int | None = None  # the schema version of an older database being upgraded; None for a new one
    if found:
        row = db.execute("SELECT value FROM kb_meta WHERE key = 'schema_version'").fetchone()
        if row is not None and int(row[0]) == SCHEMA_VERSION:
            return
        if row is not None and int(row[0]) > SCHEMA_VERSION:
            raise BackendError(
                f"the knowledge base at {shown_url(db.url)} was made by a newer shadowmatch_kb "
                f"(schema {row[0]}, this one knows {SCHEMA_VERSION}); upgrade shadowmatch_kb"
            )
    db.execute("BEGIN")
    try:
        db.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
        from shadowmatch_kb.store import pg_fulltext
        from shadowmatch_kb.store.themes import upgrade_postgres_themes

        if found:  # read under the lock: of two processes upgrading at once, the second finds the work done
            row = db.execute("SELECT value FROM kb_meta WHERE key = 'schema_version'").fetchone()
            before = int(row[0]) if row is not None else 0
        db.script((*SCHEMA, *pg_fulltext.SCHEMA))
        # Data an upgrade rewrites once the tables are made, by the schema version that brought the change.
        upgrade_steps = {3: upgrade_postgres_themes}
        for version, step in sorted(upgrade_steps.items()):
            if before is not None and before < version:
                step(db)
        db.execute(
            "INSERT INTO kb_meta (key, value) VALUES ('kb_id', substr(md5(random()::text || clock_timestamp()::text),"
            " 1, 16)) ON CONFLICT DO NOTHING"
        )
        db.execute(
            "INSERT INTO kb_meta (key, value) VALUES ('schema_version', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
