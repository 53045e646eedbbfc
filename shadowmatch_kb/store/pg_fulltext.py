"""Full-text search of a knowledge base in Postgres, answering as ``store.fulltext`` does on SQLite.

Postgres has no FTS5, so this module keeps FTS5's index in tables of its own and ranks with FTS5's BM25
operation for operation: both stores return the same ids in the same order with the same scores. What SQLite
can do itself is left to it: a private in-memory SQLite database with a table laid out as ``items_fts`` (same
columns, same tokenizer) cuts texts and query words into terms, so the terms are FTS5's by construction, and
makes the snippets of the hits shown from their rows alone (a snippet depends on nothing but its row and the
query).

- ``fts_docs``: one row per item, with its length in tokens over the four columns (BM25's document length) and
  a number given on its first write and kept on rewrites, so that equal scores rank in the order SQLite's
  rowids give them.
- ``fts_terms``: one row per item and term: how often the term occurs in the title, summary, keywords and body,
  and where (``column << 29 | offset``, packed as big-endian int32), for the query words that are phrases of
  several tokens (``snake_case``).

What FTS5's ``bm25()`` counts, checked against SQLite (``tests/test_pg_fulltext.py``): each quoted word of the
MATCH is a phrase of its own, even when the same word comes back in another group of ``(a AND b) OR (a AND c)``;
a phrase counts in a row only when its group matches that row; the IDF of a phrase is FTS5's, from the rows
holding it, floored at 1e-6; a phrase with no tokens (``"__"``) matches nothing and makes its group match
nothing; rows of equal score come in rowid order.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import sqlite3
import struct
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from shadowmatch_kb.model import Item
from shadowmatch_kb.store.fulltext import (
    _DEFAULT_TOKENIZE,
    _SNIPPET,
    MAX_TERM_GROUPS,
    _holding_half,
    _match_any,
    query_terms,
)

__all__ = [
    "DAMAGE_QUERIES",
    "SCHEMA",
    "any_term_search",
    "any_word_bm25",
    "keyword_search",
    "keyword_snippets",
    "rebuild_fts_rows",
    "term_statistics",
    "write_fts_row",
]

SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS fts_docs (
        item_id TEXT COLLATE "C" PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
        doc BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
        tokens INTEGER NOT NULL
    )""",
    # Deleting an item deletes its fts_docs row, which deletes its terms.
    """CREATE TABLE IF NOT EXISTS fts_terms (
        doc BIGINT NOT NULL REFERENCES fts_docs(doc) ON DELETE CASCADE,
        term TEXT COLLATE "C" NOT NULL,
        title_tf INTEGER NOT NULL,
        summary_tf INTEGER NOT NULL,
        keywords_tf INTEGER NOT NULL,
        body_tf INTEGER NOT NULL,
        positions BYTEA NOT NULL,
        PRIMARY KEY (doc, term)
    )""",
    # A query reads a term's rows and counts from this index alone.
    "CREATE INDEX IF NOT EXISTS fts_terms_term ON fts_terms (term, doc)"
    " INCLUDE (title_tf, summary_tf, keywords_tf, body_tf)",
)

# Each query counts the rows of one kind of damage; the label says what they are.
DAMAGE_QUERIES: dict[str, str] = {
    "items without full-text terms": "SELECT count(*) FROM items WHERE id NOT IN (SELECT item_id FROM fts_docs)",
    "full-text entries whose terms do not add up to their length": "SELECT count(*) FROM fts_docs d"
    " WHERE tokens <> (SELECT coalesce(sum(title_tf + summary_tf + keywords_tf + body_tf), 0)"
    " FROM fts_terms t WHERE t.doc = d.doc)",
}


class PgConnection(Protocol):
    """What this module uses of ``store.pg.PgConnection``, which it does not import: ``pg.ensure_schema`` imports
    this module for its schema."""

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        """Run one statement (``?`` and ``:name`` placeholders); returns the cursor."""


_COLUMNS = ("title", "summary", "keywords", "body")
# A position is column << 29 | offset: a text Postgres can hold (1 GB) has fewer than 2**29 tokens.
_SHIFT = 29
# A b-tree entry must stay under about 2.7 kB: a longer term is kept as its hash, which a query word hashes to.
_LONGEST_TERM = 512
_BATCH = 200  # items tokenised at once when rebuilding
_KEYWORD_WEIGHTS = (4.0, 2.0, 2.0, 1.0)  # title, summary, keywords, body, as fulltext's bm25() calls weigh them
_EVEN_WEIGHTS = (1.0, 1.0, 1.0, 1.0)
# FTS5's bm25() (fts5_aux.c): k1 and b, the IDF a phrase gets when the formula's is not positive.
_K1 = 1.2
_B = 0.75
_IDF_FLOOR = 1e-6


# ----- SQLite's own tokenizer and snippets ------------------------------------------------------------------------


class _Fts5:
    """An in-memory SQLite database whose ``items_fts`` is the SQLite store's over again, rows only while used."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:", isolation_level=None)
        self.db.execute("CREATE TABLE texts (item_id, title, summary, keywords, body)")
        # External content: rows are indexed for as long as a call needs them, then dropped at once.
        self.db.execute(
            "CREATE VIRTUAL TABLE items_fts USING fts5(item_id UNINDEXED, title, summary, keywords, body,"
            f" content = 'texts', tokenize = '{_DEFAULT_TOKENIZE}')"
        )
        self.db.execute("CREATE VIRTUAL TABLE items_fts_terms USING fts5vocab(items_fts, instance)")

    def terms(self, rows: Sequence[Sequence[str]]) -> list[dict[str, list[int]]]:
        """For each row of (title, summary, keywords, body), its terms with their positions."""
        number = {name: column for column, name in enumerate(_COLUMNS)}
        found: list[dict[str, list[int]]] = [{} for _ in rows]
        self.db.executemany(
            "INSERT INTO items_fts (rowid, title, summary, keywords, body) VALUES (?, ?, ?, ?, ?)",
            ((row, *texts) for row, texts in enumerate(rows)),
        )
        try:
            for term, row, column, offset in self.db.execute("SELECT term, doc, col, offset FROM items_fts_terms"):
                found[row].setdefault(term, []).append(number[column] << _SHIFT | offset)
        finally:
            self.db.execute("INSERT INTO items_fts (items_fts) VALUES ('delete-all')")
        return found

    def phrases(self, words: Sequence[str]) -> list[tuple[str, ...]]:
        """The tokens of each word as FTS5 reads it in a query (none, one, or several for ``snake_case``)."""
        found = self.terms([(word, "", "", "") for word in words])
        return [tuple(term for _, term in sorted((p, t) for t, ps in terms.items() for p in ps)) for terms in found]

    def snippets(self, match: str, rows: Sequence[Sequence[str]]) -> dict[str, str]:
        """FTS5's snippets of ``match`` in the rows (item_id, title, summary, keywords, body) that it matches."""
        numbered = [(row, *texts) for row, texts in enumerate(rows)]
        self.db.executemany(
            "INSERT INTO texts (rowid, item_id, title, summary, keywords, body) VALUES (?, ?, ?, ?, ?, ?)", numbered
        )
        self.db.executemany(
            "INSERT INTO items_fts (rowid, item_id, title, summary, keywords, body) VALUES (?, ?, ?, ?, ?, ?)", numbered
        )
        try:
            found = self.db.execute(f"SELECT item_id, {_SNIPPET} FROM items_fts WHERE items_fts MATCH ?", (match,))
            return {row[0]: row[1] for row in found}
        finally:
            self.db.execute("INSERT INTO items_fts (items_fts) VALUES ('delete-all')")
            self.db.execute("DELETE FROM texts")


_local = threading.local()


def _fts5() -> _Fts5:
    """This thread's scratch database (an SQLite connection serves the thread that made it)."""
    made: _Fts5 | None = getattr(_local, "fts5", None)
    if made is None:
        made = _local.fts5 = _Fts5()
    return made


def _key(term: str) -> str:
    """The term as stored: itself, or for a very long one "#" and its hash ("#" never is part of a term)."""
    if len(term.encode()) <= _LONGEST_TERM:
        return term
    return "#" + hashlib.sha256(term.encode()).hexdigest()


# ----- writing ----------------------------------------------------------------------------------------------------


def write_fts_row(db: PgConnection, item: Item) -> None:
    """Replace an item's full-text terms (inside the caller's transaction)."""
    _store(db, [(item.id, (item.title, item.summary, " ; ".join(item.keywords + item.themes), item.text))])


def rebuild_fts_rows(db: PgConnection) -> None:
    """Refill the full-text terms from the items table (inside the caller's transaction); an item keeps its number."""
    db.execute("DELETE FROM fts_terms")
    db.execute(
        "INSERT INTO fts_docs (item_id, tokens) SELECT id, 0 FROM items"
        " WHERE id NOT IN (SELECT item_id FROM fts_docs) ORDER BY added_at, id"
    )
    last = 0
    while True:
        rows = db.execute(
            "SELECT d.doc, i.id, i.title, i.summary, i.keywords, i.themes, i.text FROM fts_docs d"
            " JOIN items i ON i.id = d.item_id WHERE d.doc > ? ORDER BY d.doc LIMIT ?",
            (last, _BATCH),
        ).fetchall()
        if not rows:
            return
        _store(db, [(row[1], (row[2], row[3], _keywords_text(row[4], row[5]), row[6])) for row in rows])
        last = rows[-1][0]


def _keywords_text(keywords: str, themes: str) -> str:
    """The keywords column of a full-text row from the stored JSON lists, as ``write_fts_row`` writes it."""
    return " ; ".join(json.loads(keywords) + json.loads(themes))


def _store(db: PgConnection, entries: list[tuple[str, tuple[str, str, str, str]]]) -> None:
    found = _fts5().terms([texts for _, texts in entries])
    for (item_id, _), terms in zip(entries, found, strict=True):
        doc = db.execute(
            "INSERT INTO fts_docs (item_id, tokens) VALUES (?, ?)"
            " ON CONFLICT (item_id) DO UPDATE SET tokens = excluded.tokens RETURNING doc",
            (item_id, sum(len(positions) for positions in terms.values())),
        ).fetchone()[0]
        db.execute("DELETE FROM fts_terms WHERE doc = ?", (doc,))
        if not terms:
            continue
        counts = [[0] * len(terms) for _ in _COLUMNS]
        for number, positions in enumerate(terms.values()):
            for position in positions:
                counts[position >> _SHIFT][number] += 1
        # One statement per item: the rows go over as parallel arrays, each written out as one array literal
        # (psycopg adapts a list element by element: that took a third of the time of a write).
        db.execute(
            "INSERT INTO fts_terms (doc, term, title_tf, summary_tf, keywords_tf, body_tf, positions)"
            " SELECT ?, * FROM unnest(?::text[], ?::integer[], ?::integer[], ?::integer[], ?::integer[], ?::bytea[])",
            (
                doc,
                _literal(_quoted_element(_key(term)) for term in terms),
                *(_literal(map(str, column)) for column in counts),
                _literal(f'"\\\\x{_packed(positions).hex()}"' for positions in terms.values()),
            ),
        )


def _literal(elements: Iterable[str]) -> str:
    return "{" + ",".join(elements) + "}"


def _quoted_element(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _packed(positions: Sequence[int]) -> bytes:
    return struct.pack(f">{len(positions)}i", *positions)


def _unpacked(packed: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{len(packed) // 4}i", packed)


# ----- ranking ----------------------------------------------------------------------------------------------------


class _Match:
    """The phrases of a MATCH, one per quoted word in its order (a word of no tokens gives an empty phrase), and
    for each distinct phrase SQL listing (doc, t0, t1, t2, t3): the rows holding it, how often in each column."""

    def __init__(self, db: PgConnection, words: Sequence[str]) -> None:
        self.phrases = _fts5().phrases(words)
        self.distinct = list(dict.fromkeys(phrase for phrase in self.phrases if phrase))
        self.number = {phrase: k for k, phrase in enumerate(self.distinct)}
        self.params: dict[str, Any] = {}
        self.rows = [self._rows_sql(db, k, phrase) for k, phrase in enumerate(self.distinct)]

    def _rows_sql(self, db: PgConnection, k: int, phrase: tuple[str, ...]) -> str:
        if len(phrase) == 1:
            self.params[f"term{k}"] = _key(phrase[0])
            return (
                "SELECT doc, title_tf AS t0, summary_tf AS t1, keywords_tf AS t2, body_tf AS t3"
                f" FROM fts_terms WHERE term = :term{k}"
            )
        found = _occurrences(db, phrase)
        names = ("doc", "t0", "t1", "t2", "t3")
        for name, values in zip(names, zip(*found, strict=True) if found else [()] * 5, strict=True):
            self.params[f"rows{k}_{name}"] = _literal(map(str, values))
        arrays = ", ".join(f":rows{k}_{name}::{'bigint' if name == 'doc' else 'integer'}[]" for name in names)
        return f"SELECT * FROM unnest({arrays}) AS r(doc, t0, t1, t2, t3)"


def _occurrences(db: PgConnection, phrase: tuple[str, ...]) -> list[tuple[int, ...]]:
    """(doc, t0, t1, t2, t3) of the rows where the tokens of ``phrase`` follow one another in a column, how often."""
    joins = "".join(f" JOIN fts_terms a{i} ON a{i}.doc = a0.doc AND a{i}.term = ?" for i in range(1, len(phrase)))
    columns = ", ".join(f"a{i}.positions" for i in range(len(phrase)))
    rows = db.execute(
        f"SELECT a0.doc, {columns} FROM fts_terms a0{joins} WHERE a0.term = ? ORDER BY a0.doc",
        [*map(_key, phrase[1:]), _key(phrase[0])],
    )
    found = []
    for doc, first, *rest in rows:
        later = [set(_unpacked(positions)) for positions in rest]
        counts = [0] * len(_COLUMNS)
        for start in _unpacked(first):
            if all(start + step in held for step, held in enumerate(later, start=1)):
                counts[start >> _SHIFT] += 1
        if any(counts):
            found.append((doc, *counts))
    return found


@dataclass(frozen=True)
class _Counts:
    """What BM25 needs of the whole table, and the number of items for the guards of ``keyword_search``."""

    items: int
    rows: int
    tokens: int
    holders: dict[tuple[str, ...], int]  # per distinct phrase, the rows holding it


def _counts(db: PgConnection, match: _Match) -> _Counts:
    holders = "".join(f", (SELECT count(*) FROM ({sql}) AS r{k})" for k, sql in enumerate(match.rows))
    row = db.execute(
        f"SELECT (SELECT count(*) FROM items), count(*), coalesce(sum(tokens), 0){holders} FROM fts_docs",
        match.params,
    ).fetchone()
    return _Counts(int(row[0]), int(row[1]), int(row[2]), dict(zip(match.distinct, map(int, row[3:]), strict=True)))


def _idf(rows: int, holders: int) -> float:
    idf = math.log((rows - holders + 0.5) / (holders + 0.5))
    return idf if idf > 0.0 else _IDF_FLOOR


def _ranked(
    db: PgConnection,
    match: _Match,
    phrases: Sequence[tuple[str, ...]],
    counts: _Counts,
    *,
    weights: tuple[float, ...],
    limit: int,
    need: int = 1,
    group: int = 0,
) -> list[tuple[str, float]]:
    """Rows holding ``need`` of ``phrases`` (those of the MATCH, in its order) as (id, BM25), best first.

    With ``group``, the MATCH is an OR of every ``group`` of the phrases AND-ed, and a phrase counts once for each
    group that matches the row. The score is summed in FTS5's order, so it is FTS5's to the last bit and ties stay
    ties; they come in the order of the items' numbers, as FTS5's do in rowid order.
    """
    used = [match.number[phrase] for phrase in dict.fromkeys(phrase for phrase in phrases if phrase)]
    if not used or counts.rows == 0:
        return []
    params = dict(match.params, need=need, limit=limit, k1=_K1, k1p1=_K1 + 1.0, omb=1 - _B, b=_B)
    params.update({f"w{column}": weight for column, weight in enumerate(weights)}, avgdl=counts.tokens / counts.rows)
    params.update({f"idf{k}": _idf(counts.rows, counts.holders[match.distinct[k]]) for k in used})
    hits = " UNION ALL ".join(f"SELECT {k} AS k, doc, t0, t1, t2, t3 FROM ({match.rows[k]}) AS r{k}" for k in used)
    frequencies = ", ".join(
        f"max(:w0 * t0 + :w1 * t1 + :w2 * t2 + :w3 * t3) FILTER (WHERE k = {k}) AS f{k}" for k in used
    )
    parts = ", ".join(
        f"CASE WHEN f{k} IS NULL THEN 0::float8"
        f" ELSE :idf{k} * ((f{k} * :k1p1) / (f{k} + :k1 * (:omb + :b * d.tokens / :avgdl))) END AS v{k}"
        for k in used
    )
    number = [match.number[phrase] if phrase else None for phrase in phrases]
    terms = [f"v{k}" for k in number if k is not None]
    if group:
        terms = []
        for members in itertools.combinations(number, group):
            if None not in members:
                held = " AND ".join(f"f{k} IS NOT NULL" for k in members)
                terms += [f"CASE WHEN {held} THEN v{k} ELSE 0::float8 END" for k in members]
    held_count = " + ".join(f"(f{k} IS NOT NULL)::int" for k in number if k is not None)
    rows = db.execute(
        f"WITH hits AS ({hits}), per_doc AS (SELECT doc, {frequencies} FROM hits GROUP BY doc),"
        f" scored AS (SELECT p.*, d.item_id, {parts} FROM per_doc p JOIN fts_docs d ON d.doc = p.doc)"
        f" SELECT item_id, {' + '.join(terms) or '0::float8'} AS score FROM scored"
        f" WHERE {held_count} >= :need ORDER BY score DESC, doc LIMIT :limit",
        params,
    ).fetchall()
    return [(row[0], float(row[1])) for row in rows]


def _discriminating(terms: list[str], match: _Match, counts: _Counts) -> list[str]:
    """``fulltext``'s guard: words in over 40% of the items are dropped when rarer ones remain."""
    if len(terms) < 2 or counts.items < 20:
        return terms
    held = [counts.holders.get(phrase, 0) for phrase in match.phrases]
    common = {term for term, rows in zip(terms, held, strict=True) if rows > 0.4 * counts.items}
    return [term for term in terms if term not in common] or terms


def _snippets(db: PgConnection, match: str, item_ids: list[str]) -> dict[str, str]:
    rows = db.execute(
        "SELECT id, title, summary, keywords, themes, text FROM items WHERE id = ANY(?)", (item_ids,)
    ).fetchall()
    return _fts5().snippets(match, [(r[0], r[1], r[2], _keywords_text(r[3], r[4]), r[5]) for r in rows])


# ----- the functions of fulltext ------------------------------------------------------------------------------


def keyword_search(db: PgConnection, query: str, *, limit: int, snippets: bool = True) -> list[tuple[str, float, str]]:
    """BM25 full-text hits as (id, score, snippet), best first; see ``fulltext.keyword_search``."""
    terms = query_terms(query)
    if not terms:
        return []
    match = _Match(db, terms)
    counts = _counts(db, match)
    kept = _discriminating(terms, match, counts)
    phrase_of = dict(zip(terms, match.phrases, strict=True))
    half = (len(kept) + 1) // 2
    need, group = (1, 0) if len(kept) < 3 else (half, half if math.comb(len(kept), half) <= MAX_TERM_GROUPS else 0)
    phrases = [phrase_of[term] for term in kept]
    hits = _ranked(db, match, phrases, counts, weights=_KEYWORD_WEIGHTS, limit=limit, need=need, group=group)
    # The MATCH whose phrases the snippets mark is the first parameter of fulltext's WHERE clause.
    found = _snippets(db, str(_holding_half(kept)[1][0]), [item_id for item_id, _ in hits]) if snippets and hits else {}
    return [(item_id, score, found.get(item_id, "")) for item_id, score in hits]


def any_term_search(db: PgConnection, terms: list[str], *, limit: int) -> list[tuple[str, float]]:
    """BM25 hits of items holding any of ``terms`` (plain OR), best first; see ``fulltext.any_term_search``."""
    words = list(dict.fromkeys(t for term in terms for t in query_terms(term)))[:32]
    return _any_of(db, words, _KEYWORD_WEIGHTS, limit) if words else []


def keyword_snippets(db: PgConnection, query: str, item_ids: list[str]) -> dict[str, str]:
    """The full-text snippets of ``query`` in the given items (those it matches)."""
    terms = query_terms(query)
    if not terms or not item_ids:
        return {}
    match = _Match(db, terms)
    return _snippets(db, _match_any(_discriminating(terms, match, _counts(db, match))), item_ids)


def term_statistics(
    db: PgConnection, words: list[str], *, up_to_share: float = 1.0
) -> tuple[int, dict[str, tuple[str, int]]]:
    """The number of items, and for each word its indexed term with the number of items holding it (counting
    stops at ``up_to_share`` of the items); see ``fulltext.term_statistics``."""
    words = list(dict.fromkeys(w for w in words if w))
    total = int(db.execute("SELECT count(*) FROM items").fetchone()[0])
    if not words:
        return total, {}
    stems = {word: tokens[0] for word, tokens in zip(words, _fts5().phrases(words), strict=True) if len(tokens) == 1}
    distinct = list(dict.fromkeys(stems.values()))
    cap = max(1, math.ceil(up_to_share * total))
    rows = db.execute(
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM fts_terms t WHERE t.term = s.key LIMIT ?) AS c)"
        " FROM unnest(?::text[]) WITH ORDINALITY AS s(key, n) ORDER BY n",
        (cap, _literal(_quoted_element(_key(stem)) for stem in distinct)),
    ).fetchall()
    counts = {stem: int(row[0]) for stem, row in zip(distinct, rows, strict=True)}
    return total, {word: (stem, counts[stem]) for word, stem in stems.items()}


def any_word_bm25(db: PgConnection, words: list[str], *, limit: int) -> list[tuple[str, float]]:
    """Items holding any of ``words`` as (id, BM25), best first, every column weighted alike; see
    ``fulltext.any_word_bm25``."""
    return _any_of(db, words, _EVEN_WEIGHTS, limit) if words else []


def _any_of(db: PgConnection, words: list[str], weights: tuple[float, ...], limit: int) -> list[tuple[str, float]]:
    match = _Match(db, words)
    return _ranked(db, match, match.phrases, _counts(db, match), weights=weights, limit=limit)
