"""SqliteStore: the system of record in ``corpus/kb.sqlite``.

Every write of one item (its row, full-text entry, raw input and tags) is a single
transaction, so a crash or a kill leaves each item either wholly stored or not at all.
WAL mode lets readers work while one writer imports.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shadowmatch_kb.errors import NotFoundError
from shadowmatch_kb.model import Item, Signal
from shadowmatch_kb.store.migrations import MIGRATIONS, apply_migrations, rebuild_fts_rows

__all__ = ["ItemFilter", "RawInput", "SqliteStore", "StoredState", "effective_sql"]

# zlib level for raw pages: on the 181 Zyte pages level 3 keeps 22.1 % of the bytes in 1.7 ms a page,
# level 6 19.7 % in 3.5 ms; a crawl is CPU-bound, so the faster level pays for its 12 % more bytes.
RAW_COMPRESSION = 3
_JSON_FIELDS = ("keywords", "themes", "sectors", "signals", "reference_closest")
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


@dataclass(frozen=True)
class ItemFilter:
    """Filters shared by list and search."""

    sector: str | None = None
    theme: str | None = None
    tag: str | None = None
    since: str | None = None

    def is_empty(self) -> bool:
        """True when nothing is filtered."""
        return not (self.sector or self.theme or self.tag or self.since)


def effective_sql(field: str) -> str:
    """SQL for an item's ``field`` (sectors, themes) as read: the latest analyst edit wins over the stored value."""
    assert field in EDITABLE_FIELDS
    return (
        f"COALESCE((SELECT value FROM analyst_edits e WHERE e.item_id = items.id"
        f" AND e.field = '{field}' ORDER BY e.id DESC LIMIT 1), {field})"
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SqliteStore:
    """Items, tags, analyst edits and raw inputs in one SQLite file."""

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
        row = item.to_dict()
        values = {k: row[k] for k in _ITEM_COLUMNS}
        for key in _JSON_FIELDS:
            values[key] = json.dumps(values[key], ensure_ascii=False)
        values.update(content_hash=content_hash, text_hash=text_hash, now=now)
        self.db.execute(_UPSERT_ITEM, values)
        self.write_fts(item)
        if raw is not None:
            self._write_raw(item.id, raw, now)
        for tag in item.tags:
            self.db.execute("INSERT OR IGNORE INTO item_tags VALUES (?, ?, ?)", (item.id, tag, now))

    def write_fts(self, item: Item) -> None:
        """Replace an item's full-text row (inside the caller's transaction)."""
        # The full-text row shares the item's rowid, so replacing it is a lookup, not a scan.
        rowid = self.db.execute("SELECT rowid FROM items WHERE id = ?", (item.id,)).fetchone()[0]
        self.db.execute("DELETE FROM items_fts WHERE rowid = ?", (rowid,))
        self.db.execute(
            "INSERT INTO items_fts (rowid, item_id, title, summary, keywords, body) VALUES (?, ?, ?, ?, ?, ?)",
            (rowid, item.id, item.title, item.summary, " ; ".join(item.keywords + item.themes), item.text),
        )

    def _write_raw(self, item_id: str, raw: RawInput, now: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO raw_inputs VALUES (?, ?, ?, ?, ?, ?)",
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
                self.db.execute("INSERT OR IGNORE INTO item_tags VALUES (?, ?, ?)", (item_id, tag, now))
            for tag in remove:
                self.db.execute("DELETE FROM item_tags WHERE item_id = ? AND tag = ?", (item_id, tag))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def record_edit(self, item_id: str, field: str, value: list[str]) -> None:
        """Record an analyst correction of ``sectors`` or ``themes``; it overrides computed values."""
        if field not in EDITABLE_FIELDS:
            raise ValueError(f"not an editable field: {field}")
        self._require(item_id)
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
            data = {k: row[k] for k in _ITEM_COLUMNS}
            for key in _JSON_FIELDS:
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
            clauses.append("id IN (SELECT item_id FROM item_tags WHERE tag = ? COLLATE NOCASE)")
            params.append(where.tag)
        for field, value in (("sectors", where.sector), ("themes", where.theme)):
            if not value:
                continue
            clauses.append(
                f"EXISTS (SELECT 1 FROM json_each({effective_sql(field)}) WHERE lower(json_each.value) = lower(?))"
            )
            params.append(value)
        return clauses, params

    def keyword_search(self, query: str, *, limit: int, snippets: bool = True) -> list[tuple[str, float, str]]:
        """BM25 full-text hits as (id, score, snippet), best first; score grows with relevance.

        Snippets cost more than the ranking itself; with ``snippets=False`` they are "" and
        ``keyword_snippets`` makes them for the few hits that are shown.

        Terms are OR-ed, so a question would match almost everything on one common word. Two
        guards, as in a common-terms query: words found in over 40% of items ("AI" in this
        knowledge base) are dropped when rarer ones remain, and for three or more terms a hit
        must contain at least half of them.
        """
        terms = self._discriminating(query_terms(query))
        if not terms:
            return []
        snippet = _SNIPPET if snippets else "''"
        where, params = _holding_half(terms)
        rows = self.db.execute(
            f"SELECT item_id, bm25(items_fts, 0, 4.0, 2.0, 2.0, 1.0) AS rank, {snippet} AS snip"
            f" FROM items_fts WHERE {where} ORDER BY rank LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [(row[0], -float(row[1]), row[2]) for row in rows]

    def keyword_snippets(self, query: str, item_ids: list[str]) -> dict[str, str]:
        """The full-text snippets of ``query`` in the given items (those it matches)."""
        terms = self._discriminating(query_terms(query))
        if not terms or not item_ids:
            return {}
        marks = ",".join("?" * len(item_ids))
        # Full-text rows share their item's rowid: selecting by rowid seeks those rows directly,
        # where a test on the stored item_id would read every matching row.
        rows = self.db.execute(
            f"SELECT item_id, {_SNIPPET} FROM items_fts WHERE items_fts MATCH ?"
            f" AND rowid IN (SELECT rowid FROM items WHERE id IN ({marks}))",
            [_match_any(terms), *item_ids],
        )
        return {row[0]: row[1] for row in rows}

    def _discriminating(self, terms: list[str]) -> list[str]:
        if len(terms) < 2:
            return terms
        total = self.count()
        if total < 20:
            return terms  # too few items to tell common words from rare ones
        common = set()
        for term in terms:
            found = self.db.execute(
                "SELECT count(*) FROM items_fts WHERE items_fts MATCH ?", (f'"{term}"',)
            ).fetchone()[0]
            if found > 0.4 * total:
                common.add(term)
        rare = [t for t in terms if t not in common]
        return rare or terms

    def iter_index_inputs(self) -> Iterator[tuple[str, str, str, str, str]]:
        """(id, content_hash, title, summary, text) of every item, for building indexes."""
        yield from self.db.execute("SELECT id, content_hash, title, summary, text FROM items ORDER BY id")

    def content_hashes(self) -> dict[str, str]:
        """Every item's content hash by id."""
        return {row[0]: row[1] for row in self.db.execute("SELECT id, content_hash FROM items")}

    def count(self) -> int:
        """How many items are stored."""
        return int(self.db.execute("SELECT count(*) FROM items").fetchone()[0])

    def size(self) -> tuple[int, str | None]:
        """The number of items and the newest published date, in one cheap query."""
        row = self.db.execute("SELECT count(*), max(published) FROM items").fetchone()
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
        """How many unique items carry each sector or theme (analyst edits applied)."""
        counts: dict[str, int] = {}
        rows = self.db.execute(f"SELECT id, {field} FROM items WHERE duplicate_of IS NULL").fetchall()
        edits = self._edits_of([row[0] for row in rows]) if rows else {}
        for row in rows:
            values = edits.get(row[0], {}).get(field, json.loads(row[1]))
            for value in values:
                counts[value] = counts.get(value, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def check(self) -> list[str]:
        """Consistency problems of the record (empty when healthy)."""
        problems = []
        result = self.db.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            problems.append(f"SQLite integrity check failed: {result}")
        latest = max(v for v, _, _ in MIGRATIONS)
        have = self.db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
        if have != latest:
            problems.append(f"schema at migration {have}, expected {latest}")
        queries = {
            "items without a full-text entry": "SELECT count(*) FROM items WHERE rowid NOT IN"
            " (SELECT rowid FROM items_fts)",
            "full-text entries without an item": "SELECT count(*) FROM items_fts f WHERE NOT EXISTS"
            " (SELECT 1 FROM items i WHERE i.rowid = f.rowid AND i.id = f.item_id)",
            "items without their raw input": "SELECT count(*) FROM items WHERE id NOT IN"
            " (SELECT item_id FROM raw_inputs)",
            "tags of missing items": "SELECT count(*) FROM item_tags WHERE item_id NOT IN (SELECT id FROM items)",
            "duplicates pointing at missing items": "SELECT count(*) FROM items WHERE duplicate_of IS NOT NULL"
            " AND duplicate_of NOT IN (SELECT id FROM items)",
        }
        for label, sql in queries.items():
            n = self.db.execute(sql).fetchone()[0]
            if n:
                problems.append(f"{n} {label}")
        for row in self.db.execute("SELECT item_id, sha256, compressed FROM raw_inputs"):
            try:
                ok = hashlib.sha256(zlib.decompress(row[2])).hexdigest() == row[1]
            except zlib.error:
                ok = False
            if not ok:
                problems.append(f"raw input of {row[0]} is damaged")
        return problems


_ITEM_COLUMNS = (
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
    f"INSERT INTO items ({', '.join(_ITEM_COLUMNS)}, content_hash, text_hash, added_at, updated_at)"
    f" VALUES ({', '.join(':' + c for c in _ITEM_COLUMNS)}, :content_hash, :text_hash, :now, :now)"
    " ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in _ITEM_COLUMNS if c != "id")
    + ", content_hash=excluded.content_hash, text_hash=excluded.text_hash, updated_at=excluded.updated_at"
    # New content: what was computed from the old content must be computed again.
    + ", enrichment=NULL"
)


MAX_TERM_GROUPS = 35  # seven terms, four at a time: past that, counting rows per term is faster
_SNIPPET = "snippet(items_fts, 4, '', '', ' … ', 24)"


def _holding_half(terms: list[str]) -> tuple[str, list[object]]:
    """A WHERE clause on ``items_fts`` for rows holding any of one or two terms, else half of them.

    Up to ``MAX_TERM_GROUPS`` groups, the clause is a MATCH of every group of half the terms, which
    the index answers by merging its own lists; BM25 then counts a term in each group that a row
    matches in full, so rows holding more of the terms rank higher, as with the coordination factor
    of classic search engines. Past that, each term's rows are gathered once by rowid (no stored text
    is read) and a row is kept when it holds half of them.
    """
    if len(terms) < 3:
        return "items_fts MATCH ?", [_match_any(terms)]
    half = (len(terms) + 1) // 2
    quoted = [f'"{t}"' for t in terms]
    if math.comb(len(terms), half) <= MAX_TERM_GROUPS:
        groups = itertools.combinations(quoted, half)
        return "items_fts MATCH ?", [" OR ".join("(" + " AND ".join(group) + ")" for group in groups)]
    held = " + ".join("(rowid IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?))" for _ in terms)
    return f"items_fts MATCH ? AND ({held}) >= ?", [_match_any(terms), *quoted, half]


def _match_any(terms: list[str]) -> str:
    return " OR ".join(f'"{t}"' for t in terms)


def query_terms(text: str) -> list[str]:
    """The distinct content words of a query, lowercased, stopwords dropped (at most 32)."""
    terms = [t for t in re.findall(r"\w+", text.lower()) if (len(t) > 1 or t.isdigit()) and t not in _STOPWORDS]
    return list(dict.fromkeys(terms))[:32]


def fts_query(text: str) -> str:
    """Turn free text into a safe FTS5 query: quoted terms joined by OR.

    User input is never passed to MATCH as syntax, so quotes, colons or ``NOT`` cannot break it.
    """
    return " OR ".join(f'"{t}"' for t in query_terms(text))


_STOPWORDS = frozenset(
    "a about above after again all also am an and any are as at be been before being below between both"
    " but by can could did do does doing down during each few for from further had has have having he her"
    " here hers him his how i if in into is it its itself just me more most my no nor not now of off on"
    " once only or other our ours out over own same she should so some such than that the their theirs"
    " them then there these they this those through to too under until up very was we were what when"
    " where which while who whom why will with would you your yours".split()
)
