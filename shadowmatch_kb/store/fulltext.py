"""Full-text search of the record: the ``items_fts`` FTS5 table, its rows, BM25 queries and snippets.

User input never reaches MATCH as FTS5 syntax: it is cut into words and each word is quoted, so
quotes, colons or ``NOT`` in a question cannot break a query. ``SqliteStore`` delegates here.
"""

from __future__ import annotations

import itertools
import math
import re
import sqlite3

from shadowmatch_kb.model import Item

__all__ = [
    "MAX_TERM_GROUPS",
    "any_term_search",
    "any_word_bm25",
    "fts_query",
    "keyword_search",
    "keyword_snippets",
    "query_terms",
    "term_statistics",
    "write_fts_row",
]

MAX_TERM_GROUPS = 35  # seven terms, four at a time: past that, counting rows per term is faster
_SNIPPET = "snippet(items_fts, 4, '', '', ' … ', 24)"


def write_fts_row(db: sqlite3.Connection, item: Item) -> None:
    """Replace an item's full-text row (inside the caller's transaction)."""
    # The full-text row shares the item's rowid, so replacing it is a lookup, not a scan.
    rowid = db.execute("SELECT rowid FROM items WHERE id = ?", (item.id,)).fetchone()[0]
    db.execute("DELETE FROM items_fts WHERE rowid = ?", (rowid,))
    db.execute(
        "INSERT INTO items_fts (rowid, item_id, title, summary, keywords, body) VALUES (?, ?, ?, ?, ?, ?)",
        (rowid, item.id, item.title, item.summary, " ; ".join(item.keywords + item.themes), item.text),
    )


def keyword_search(
    db: sqlite3.Connection, query: str, *, limit: int, snippets: bool = True
) -> list[tuple[str, float, str]]:
    """BM25 full-text hits as (id, score, snippet), best first; score grows with relevance.

    Snippets cost more than the ranking itself; with ``snippets=False`` they are "" and
    ``keyword_snippets`` makes them for the few hits that are shown.

    Terms are OR-ed, so a question would match almost everything on one common word. Two
    guards, as in a common-terms query: words found in over 40% of items ("AI" in this
    knowledge base) are dropped when rarer ones remain, and for three or more terms a hit
    must contain at least half of them.
    """
    terms = _discriminating(db, query_terms(query))
    if not terms:
        return []
    snippet = _SNIPPET if snippets else "''"
    where, params = _holding_half(terms)
    rows = db.execute(
        f"SELECT item_id, bm25(items_fts, 0, 4.0, 2.0, 2.0, 1.0) AS rank, {snippet} AS snip"
        f" FROM items_fts WHERE {where} ORDER BY rank LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [(row[0], -float(row[1]), row[2]) for row in rows]


def any_term_search(db: sqlite3.Connection, terms: list[str], *, limit: int) -> list[tuple[str, float]]:
    """BM25 hits of items holding any of ``terms`` (plain OR, no term dropped), best first; score grows.

    For rankings that are one signal among several (the briefing's): there a common word costs little,
    and the guards of ``keyword_search`` would hide the items that hold only the rare words of a question.
    """
    words = list(dict.fromkeys(t for term in terms for t in query_terms(term)))[:32]
    if not words:
        return []
    rows = db.execute(
        "SELECT item_id, bm25(items_fts, 0, 4.0, 2.0, 2.0, 1.0) AS rank FROM items_fts WHERE items_fts MATCH ?"
        " ORDER BY rank LIMIT ?",
        (_match_any(words), limit),
    ).fetchall()
    return [(row[0], -float(row[1])) for row in rows]


def keyword_snippets(db: sqlite3.Connection, query: str, item_ids: list[str]) -> dict[str, str]:
    """The full-text snippets of ``query`` in the given items (those it matches)."""
    terms = _discriminating(db, query_terms(query))
    if not terms or not item_ids:
        return {}
    marks = ",".join("?" * len(item_ids))
    # Full-text rows share their item's rowid: selecting by rowid seeks those rows directly,
    # where a test on the stored item_id would read every matching row.
    rows = db.execute(
        f"SELECT item_id, {_SNIPPET} FROM items_fts WHERE items_fts MATCH ?"
        f" AND rowid IN (SELECT rowid FROM items WHERE id IN ({marks}))",
        [_match_any(terms), *item_ids],
    )
    return {row[0]: row[1] for row in rows}


def _discriminating(db: sqlite3.Connection, terms: list[str]) -> list[str]:
    if len(terms) < 2:
        return terms
    total = int(db.execute("SELECT count(*) FROM items").fetchone()[0])
    if total < 20:
        return terms  # too few items to tell common words from rare ones
    common = set()
    for term in terms:
        found = db.execute("SELECT count(*) FROM items_fts WHERE items_fts MATCH ?", (f'"{term}"',)).fetchone()[0]
        if found > 0.4 * total:
            common.add(term)
    rare = [t for t in terms if t not in common]
    return rare or terms


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


# ----- term statistics, for ranking items by the words of another -------------------------------

# Used when the record's own table cannot be read for its tokenizer (it always can once migrated).
_DEFAULT_TOKENIZE = "porter unicode61 remove_diacritics 2"
_TOKENIZE = re.compile(r"tokenize\s*=\s*'([^']*)'", re.IGNORECASE)


def term_statistics(
    db: sqlite3.Connection, words: list[str], *, up_to_share: float = 1.0
) -> tuple[int, dict[str, tuple[str, int]]]:
    """The number of items, and for each word the term the full-text index keeps for it (its stem) with
    the number of rows that hold that term; a word the index would cut into several terms is left out.
    Counting stops at ``up_to_share`` of the items (a count that reaches it means "at least that many"),
    which spares reading the longest lists when the caller has no use for words that common.

    The words are put through the index's own tokenizer in a scratch table of the connection's temporary
    schema, so stems are exactly those of ``items_fts`` (Porter stems are not stable under re-stemming:
    "employe" becomes "employ", so a stem cannot be sent back as a query word). Works on read-only stores.
    """
    words = list(dict.fromkeys(w for w in words if w))
    total = int(db.execute("SELECT count(*) FROM items").fetchone()[0])
    if not words:
        return total, {}
    _ensure_term_tables(db)
    db.execute("DELETE FROM temp.smkb_words")
    db.executemany("INSERT INTO temp.smkb_words (rowid, word) VALUES (?, ?)", enumerate(words, start=1))
    terms_of: dict[int, list[str]] = {}
    for term, row in db.execute("SELECT term, doc FROM temp.smkb_word_terms"):
        terms_of.setdefault(int(row), []).append(term)
    db.execute("DELETE FROM temp.smkb_words")
    stems = {words[row - 1]: terms[0] for row, terms in sorted(terms_of.items()) if len(terms) == 1}
    spelled = {stem: word for word, stem in reversed(stems.items())}  # the first word of each stem
    # Counting the rows a query word matches reads only row ids; the vocabulary table (fts5vocab) would
    # also read every position, which for "the" at 10k items is 20 times slower.
    cap = max(1, math.ceil(up_to_share * total))
    count = "SELECT count(*) FROM (SELECT 1 FROM items_fts WHERE items_fts MATCH ? LIMIT ?)"
    counts = {stem: int(db.execute(count, (_quoted(word), cap)).fetchone()[0]) for stem, word in spelled.items()}
    return total, {word: (stem, counts[stem]) for word, stem in stems.items()}


def any_word_bm25(db: sqlite3.Connection, words: list[str], *, limit: int) -> list[tuple[str, float]]:
    """Items holding any of ``words`` as (id, BM25), best first, every column weighted alike; score grows.

    Each word is matched as the index matches it (stemmed); none is dropped, so the caller chooses them.
    """
    if not words:
        return []
    rows = db.execute(
        "SELECT item_id, bm25(items_fts, 0, 1.0, 1.0, 1.0, 1.0) AS rank FROM items_fts WHERE items_fts MATCH ?"
        " ORDER BY rank LIMIT ?",
        (" OR ".join(_quoted(w) for w in words), limit),
    ).fetchall()
    return [(row[0], -float(row[1])) for row in rows]


def _quoted(word: str) -> str:
    """A word as an FTS5 string: whatever it holds is matched as text, never read as query syntax."""
    return '"' + word.replace('"', '""') + '"'


def _ensure_term_tables(db: sqlite3.Connection) -> None:
    """The scratch tables of ``term_statistics`` in the temporary schema (made once per connection)."""
    if db.execute("SELECT 1 FROM temp.sqlite_master WHERE name = 'smkb_word_terms'").fetchone():
        return
    row = db.execute("SELECT sql FROM sqlite_master WHERE name = 'items_fts'").fetchone()
    found = _TOKENIZE.search(row[0]) if row and row[0] else None
    tokenize = found.group(1) if found else _DEFAULT_TOKENIZE
    db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.smkb_words USING fts5(word, tokenize = '{tokenize}')")
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.smkb_word_terms USING fts5vocab(temp, smkb_words, instance)")
