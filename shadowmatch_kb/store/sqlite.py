"""SqliteStore: the system of record in ``corpus/kb.sqlite``.

Every write of one item (its row, full-text entry, raw input and tags) is a single
transaction, so a crash or a kill leaves each item either wholly stored or not at all.
WAL mode lets readers work while one writer imports.
Full-text search lives in ``store.fulltext`` and the consistency check in ``store.consistency``.
Sectors are stored as ISIC section names whoever gives them (``store.sectors``), with the vocabulary of
this record's folder (``sectors``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from shadowmatch_kb.errors import NotFoundError
from shadowmatch_kb.model import Item, ItemFilter, Signal
from shadowmatch_kb.store import fulltext
from shadowmatch_kb.store.consistency import consistency_problems
from shadowmatch_kb.store.migrations import apply_migrations, rebuild_fts_rows
from shadowmatch_kb.store.pg import dialect

if TYPE_CHECKING:
    from shadowmatch_kb.text.sectors import SectorVocabulary
    from shadowmatch_kb.text.themes import ThemeVocabulary

__all__ = [
    "EDITABLE_FIELDS",
    "ITEM_COLUMNS",
    "JSON_FIELDS",
    "UPSERT_RAW",
    "RawInput",
    "SqliteStore",
    "StoredState",
    "effective_sql",
]

# zlib level for raw pages: on the 181 Zyte pages level 3 keeps 22.1 % of the bytes in 1.7 ms a page,
# level 6 19.7 % in 3.5 ms; a crawl is CPU-bound, so the faster level pays for its 12 % more bytes.
RAW_COMPRESSION = 3
JSON_FIELDS = ("keywords", "themes", "sectors", "signals", "reference_closest")
# Analyst corrections override these computed fields; re-imports and re-enrichment never touch them.
EDITABLE_FIELDS = ("sectors", "themes")


@dataclass(frozen=True)
class RawInput:
    """The bytes an item was made from, kept so extraction can be redone."""

    input: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class StoredState:
    """What the store knows of an item before a re-import: is it unchanged?"""

    content_hash: str
    text_hash: str


def effective_sql(field: str) -> str:
    """SQL for an item's ``field`` (sectors, themes) as read: the latest analyst edit wins over the stored value."""
    assert field in EDITABLE_FIELDS
    return (
        f"COALESCE((SELECT value FROM analyst_edits e WHERE e.item_id = items.id"
        f" AND e.field = '{field}' ORDER BY e.id DESC LIMIT 1), {field})"
    )


def json_elements(db: object, expression: str) -> str:
    """A FROM clause listing the elements of a JSON list held as text, each as the column ``v``."""
    if dialect(db) == "postgres":
        return f"jsonb_array_elements_text(({expression})::jsonb) AS elements(v)"
    return f"(SELECT value AS v FROM json_each({expression}))"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SqliteStore:
    """Items, tags, analyst edits and raw inputs in one SQLite file."""

    # Full-text search is where the stores differ most: each names the module that does it on its connection.
    fulltext: ModuleType = fulltext

    def __init__(self, path: Path | str, *, readonly: bool = False) -> None:
        self.path = Path(path) if path != ":memory:" else None
        if readonly and self.path is not None:
            uri = f"file:{self.path}?mode=ro"
            self.db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
        else:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            apply_migrations(self.db)
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @property
    def sectors(self) -> SectorVocabulary:
        """The sector vocabulary of this record: the shipped one with the aliases in its folder, if any
        (read anew when the aliases file changes)."""
        from shadowmatch_kb.text.sectors import SectorVocabulary

        return SectorVocabulary.for_record(self.path.parent if self.path is not None else None)

    @property
    def themes(self) -> ThemeVocabulary:
        """The theme vocabulary of this record: the shipped merges with those in its folder, if any."""
        from shadowmatch_kb.text.themes import ThemeVocabulary

        return ThemeVocabulary.for_record(self.path.parent if self.path is not None else None)

    # ----- writes -------------------------------------------------------------------

    def put_item(self, item: Item, *, content_hash: str, text_hash: str, raw: RawInput | None) -> None:
        """Insert or replace an item with its raw input, keeping its tags and analyst edits."""
        self.put_items([(item, content_hash, text_hash, raw)])

    def put_items(self, entries: Iterable[tuple[Item, str, str, RawInput | None]]) -> None:
        """Store many (item, content_hash, text_hash, raw) in one transaction: all or none."""
        now = _now()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for item, content_hash, text_hash, raw in entries:
                self._write_item(item, content_hash, text_hash, raw, now)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _write_item(self, item: Item, content_hash: str, text_hash: str, raw: RawInput | None, now: str) -> None:
        from shadowmatch_kb.store.sectors import keep_unplaced_labels

        if item.themes:  # by their one name, in the row and in its full-text row alike
            item = replace(item, themes=self.themes.canonical_list(item.themes))
        row = item.to_dict()
        values = {k: row[k] for k in ITEM_COLUMNS}
        vocabulary = self.sectors if item.sectors else None  # a crawled page has none: no vocabulary to load
        if vocabulary is not None:
            values["sectors"] = vocabulary.place(item.sectors).names
        for key in JSON_FIELDS:
            values[key] = json.dumps(values[key], ensure_ascii=False)
        values.update(content_hash=content_hash, text_hash=text_hash, now=now)
        self.db.execute(_UPSERT_ITEM, values)
        if vocabulary is not None:
            keep_unplaced_labels(self.db, vocabulary, item.id, item.sectors, now)
        self.write_fts(item)
        if raw is not None:
            self._write_raw(item.id, raw, now)
        for tag in item.tags:
            self.db.execute("INSERT INTO item_tags VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (item.id, tag, now))

    def write_fts(self, item: Item) -> None:
        """Replace an item's full-text row (inside the caller's transaction)."""
        self.fulltext.write_fts_row(self.db, item)

    def _write_raw(self, item_id: str, raw: RawInput, now: str) -> None:
        self.db.execute(
            UPSERT_RAW,
            (
                item_id,
                raw.input,
                raw.media_type,
                hashlib.sha256(raw.content).hexdigest(),
                zlib.compress(raw.content, RAW_COMPRESSION),
                now,
            ),
        )

    def add_tags(self, item_id: str, add: Iterable[str], remove: Iterable[str]) -> None:
        """Add and remove analyst tags in one transaction."""
        self._require(item_id)
        now = _now()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for tag in add:
                self.db.execute("INSERT INTO item_tags VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (item_id, tag, now))
            for tag in remove:
                self.db.execute("DELETE FROM item_tags WHERE item_id = ? AND tag = ?", (item_id, tag))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def record_edit(self, item_id: str, field: str, value: list[str]) -> None:
        """Record an analyst correction of ``sectors`` or ``themes``; it overrides computed values. Sectors are
        kept as section names; one the vocabulary does not know is a ``UsageError`` that lists the names."""
        if field not in EDITABLE_FIELDS:
            raise ValueError(f"not an editable field: {field}")
        self._require(item_id)
        if field == "sectors":
            vocabulary = self.sectors
            value = list(dict.fromkeys(vocabulary.section_name(label) for label in value))
        self.db.execute(
            "INSERT INTO analyst_edits (item_id, field, value, edited_at) VALUES (?, ?, ?, ?)",
            (item_id, field, json.dumps(value, ensure_ascii=False), _now()),
        )

    def rebuild_fts(self) -> None:
        """Rebuild the full-text index from the items table (part of ``smkb reindex``)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            rebuild_fts_rows(self.db)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # ----- reads --------------------------------------------------------------------

    def _require(self, item_id: str) -> None:
        if not self.db.execute("SELECT 1 FROM items WHERE id = ?", (item_id,)).fetchone():
            raise NotFoundError(f"no item with id {item_id}")

    def state(self, item_id: str) -> StoredState | None:
        """The hashes of a stored item, or None when it is not stored."""
        row = self.db.execute("SELECT content_hash, text_hash FROM items WHERE id = ?", (item_id,)).fetchone()
        return StoredState(row["content_hash"], row["text_hash"]) if row else None

    def find_by_text_hash(self, text_hash: str, exclude_id: str) -> str | None:
        """The oldest other item with identical text, if any."""
        row = self.db.execute(
            "SELECT id FROM items WHERE text_hash = ? AND id != ? AND duplicate_of IS NULL"
            " ORDER BY added_at, id LIMIT 1",
            (text_hash, exclude_id),
        ).fetchone()
        return row["id"] if row else None

    def get(self, item_id: str) -> Item:
        """One item with its tags and analyst edits applied; NotFoundError when absent."""
        row = self.db.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no item with id {item_id}")
        return self._items_from_rows([row])[0]

    def get_many(self, item_ids: list[str]) -> dict[str, Item]:
        """Items by id (absent ids are left out)."""
        found: dict[str, Item] = {}
        for start in range(0, len(item_ids), 500):
            batch = item_ids[start : start + 500]
            marks = ",".join("?" * len(batch))
            rows = self.db.execute(f"SELECT * FROM items WHERE id IN ({marks})", batch).fetchall()
            for item in self._items_from_rows(rows):
                found[item.id] = item
        return found

    def duplicates_of(self, item_id: str) -> list[str]:
        """The ids of items stored as copies of this one."""
        return [
            row[0] for row in self.db.execute("SELECT id FROM items WHERE duplicate_of = ? ORDER BY id", (item_id,))
        ]

    def brief_rows(self, item_ids: list[str]) -> dict[str, sqlite3.Row]:
        """Title, url and date of many items, without loading their text."""
        found: dict[str, sqlite3.Row] = {}
        for start in range(0, len(item_ids), 500):
            batch = item_ids[start : start + 500]
            marks = ",".join("?" * len(batch))
            for row in self.db.execute(
                f"SELECT id, title, url, published, duplicate_of FROM items WHERE id IN ({marks})", batch
            ):
                found[row["id"]] = row
        return found

    def _items_from_rows(self, rows: list[sqlite3.Row]) -> list[Item]:
        ids = [row["id"] for row in rows]
        tags = self._tags_of(ids)
        edits = self._edits_of(ids)
        items = []
        for row in rows:
            data = {k: row[k] for k in ITEM_COLUMNS}
            for key in JSON_FIELDS:
                data[key] = json.loads(data[key])
            data["signals"] = [Signal(**s) for s in data["signals"]]
            data.update(edits.get(row["id"], {}))
            data["tags"] = tags.get(row["id"], [])
            items.append(Item(**data))
        return items

    def _tags_of(self, ids: list[str]) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        if not ids:
            return result
        marks = ",".join("?" * len(ids))
        for row in self.db.execute(f"SELECT item_id, tag FROM item_tags WHERE item_id IN ({marks}) ORDER BY tag", ids):
            result.setdefault(row[0], []).append(row[1])
        return result

    def _edits_of(self, ids: list[str]) -> dict[str, dict[str, list[str]]]:
        result: dict[str, dict[str, list[str]]] = {}
        if not ids:
            return result
        marks = ",".join("?" * len(ids))
        # Later edits win: rows come in insertion order.
        for row in self.db.execute(
            f"SELECT item_id, field, value FROM analyst_edits WHERE item_id IN ({marks}) ORDER BY id", ids
        ):
            result.setdefault(row[0], {})[row[1]] = json.loads(row[2])
        return result

    def analyst_edits(self, item_id: str) -> list[dict[str, object]]:
        """The history of an item's analyst edits, oldest first."""
        return [
            {"field": row[0], "value": json.loads(row[1]), "edited_at": row[2]}
            for row in self.db.execute(
                "SELECT field, value, edited_at FROM analyst_edits WHERE item_id = ? ORDER BY id", (item_id,)
            )
        ]

    def raw_source(self, item_id: str) -> str | None:
        """Where an item's raw input came from (a file's path, a page's URL), without reading its bytes."""
        row = self.db.execute("SELECT input FROM raw_inputs WHERE item_id = ?", (item_id,)).fetchone()
        return row[0] if row else None

    def raw_input(self, item_id: str) -> RawInput | None:
        """The stored raw input of an item, decompressed."""
        row = self.db.execute(
            "SELECT input, media_type, compressed FROM raw_inputs WHERE item_id = ?", (item_id,)
        ).fetchone()
        if row is None:
            return None
        return RawInput(row["input"], row["media_type"], zlib.decompress(row["compressed"]))

    def filtered_ids(self, where: ItemFilter, *, limit: int | None = None) -> list[str]:
        """Ids of items matching the filter, newest first (undated last)."""
        clauses, params = self._filter_sql(where)
        sql = "SELECT id FROM items"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY published IS NULL, published DESC, added_at DESC, id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [row[0] for row in self.db.execute(sql, params)]

    def _filter_sql(self, where: ItemFilter) -> tuple[list[str], list[str]]:
        clauses: list[str] = []
        params: list[str] = []
        if where.since:
            clauses.append("published >= ?")
            params.append(where.since)
        if where.tag:
            clauses.append("id IN (SELECT item_id FROM item_tags WHERE lower(tag) = lower(?))")
            params.append(where.tag)
        # Stored sectors are section names: any name of the section finds them ("Q", "nurses").
        sector = where.sector and (self.sectors.normalise(where.sector) or where.sector)
        theme = where.theme and self.themes.canonical(where.theme)  # stored themes have one name each: "AI" finds them
        for field, value in (("sectors", sector), ("themes", theme)):
            if not value:
                continue
            elements = json_elements(self.db, effective_sql(field))
            clauses.append(f"EXISTS (SELECT 1 FROM {elements} WHERE lower(v) = lower(?))")
            params.append(value)
        return clauses, params

    def keyword_search(self, query: str, *, limit: int, snippets: bool = True) -> list[tuple[str, float, str]]:
        """BM25 full-text hits as (id, score, snippet), best first; see ``fulltext.keyword_search``."""
        return self.fulltext.keyword_search(self.db, query, limit=limit, snippets=snippets)

    def any_term_search(self, terms: list[str], *, limit: int) -> list[tuple[str, float]]:
        """BM25 hits of items holding any of ``terms``, best first; see ``fulltext.any_term_search``."""
        return self.fulltext.any_term_search(self.db, terms, limit=limit)

    def keyword_snippets(self, query: str, item_ids: list[str]) -> dict[str, str]:
        """The full-text snippets of ``query`` in the given items (those it matches)."""
        return self.fulltext.keyword_snippets(self.db, query, item_ids)

    def iter_index_inputs(self) -> Iterator[tuple[str, str, str, str, str]]:
        """(id, content_hash, title, summary, text) of every item, for building indexes."""
        yield from self.db.execute("SELECT id, content_hash, title, summary, text FROM items ORDER BY id")

    def content_hashes(self) -> dict[str, str]:
        """Every item's content hash by id."""
        return {row[0]: row[1] for row in self.db.execute("SELECT id, content_hash FROM items")}

    @property
    def kb_id(self) -> str | None:
        """The knowledge base's identity: 16 hex digits made once, when its record was created or migrated; None
        for a record opened read-only before that migration ran."""
        try:
            row = self.db.execute("SELECT value FROM kb_meta WHERE key = 'kb_id'").fetchone()
        except sqlite3.OperationalError:
            return None
        return str(row[0]) if row else None

    def count(self) -> int:
        """How many items are stored."""
        return int(self.db.execute("SELECT count(*) FROM items").fetchone()[0])

    def size(self, today: str) -> tuple[int, str | None]:
        """The number of items and the newest published date up to ``today`` (a later one is a typo), in one query."""
        row = self.db.execute(
            "SELECT count(*), max(CASE WHEN published <= ? THEN published END) FROM items", (today,)
        ).fetchone()
        return int(row[0]), row[1]

    def data_version(self) -> int:
        """A number that changes whenever another connection commits (SQLite's PRAGMA data_version)."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def stats(self) -> dict[str, object]:
        """Counts for ``smkb stats``."""
        one = self.db.execute
        counts: dict[str, object] = {
            "items": self.count(),
            "unique_items": one("SELECT count(*) FROM items WHERE duplicate_of IS NULL").fetchone()[0],
            "duplicates": one("SELECT count(*) FROM items WHERE duplicate_of IS NOT NULL").fetchone()[0],
            "tags": one("SELECT count(DISTINCT tag) FROM item_tags").fetchone()[0],
            "tagged_items": one("SELECT count(DISTINCT item_id) FROM item_tags").fetchone()[0],
            "analyst_edits": one("SELECT count(*) FROM analyst_edits").fetchone()[0],
            "newest": one("SELECT max(published) FROM items").fetchone()[0],
            "oldest": one("SELECT min(published) FROM items").fetchone()[0],
        }
        kinds = one("SELECT kind, count(*) FROM items GROUP BY kind ORDER BY kind").fetchall()
        counts["by_kind"] = {row[0]: row[1] for row in kinds}
        return counts

    def facet_counts(self, field: str) -> dict[str, int]:
        """How many unique items carry each sector or theme (``store.facets``)."""
        from shadowmatch_kb.store.facets import facet_counts

        return facet_counts(self.db, effective_sql(field), self.sectors if field == "sectors" else None)

    def check(self) -> list[str]:
        """Consistency problems of the record (empty when healthy)."""
        return consistency_problems(self.db)

    def term_statistics(self, words: list[str], *, up_to_share: float = 1.0) -> tuple[int, dict[str, tuple[str, int]]]:
        """The number of items, and each word's indexed term with how many items hold it; see ``fulltext``."""
        return self.fulltext.term_statistics(self.db, words, up_to_share=up_to_share)

    def any_word_bm25(self, words: list[str], *, limit: int) -> list[tuple[str, float]]:
        """BM25 hits of items holding any of ``words``, best first; see ``fulltext.any_word_bm25``."""
        return self.fulltext.any_word_bm25(self.db, words, limit=limit)


ITEM_COLUMNS = (
    "id",
    "title",
    "url",
    "published",
    "source",
    "author",
    "site",
    "language",
    "kind",
    "text",
    "summary",
    "keywords",
    "themes",
    "sectors",
    "signals",
    "reference_closest",
    "duplicate_of",
)


_UPSERT_ITEM = (
    f"INSERT INTO items ({', '.join(ITEM_COLUMNS)}, content_hash, text_hash, added_at, updated_at)"
    f" VALUES ({', '.join(':' + c for c in ITEM_COLUMNS)}, :content_hash, :text_hash, :now, :now)"
    " ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in ITEM_COLUMNS if c != "id")
    + ", content_hash=excluded.content_hash, text_hash=excluded.text_hash, updated_at=excluded.updated_at"
    # New content: what was computed from the old content must be computed again.
    + ", enrichment=NULL"
)

UPSERT_RAW = (
    "INSERT INTO raw_inputs (item_id, input, media_type, sha256, compressed, stored_at) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (item_id) DO UPDATE SET input = excluded.input, media_type = excluded.media_type,"
    " sha256 = excluded.sha256, compressed = excluded.compressed, stored_at = excluded.stored_at"
)
