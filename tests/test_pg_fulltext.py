"""Full text in Postgres (``store.pg_fulltext``) against FTS5 (``store.fulltext``): for the same real items and the
same calls, the same ids in the same order, the same scores and the same snippets. Every Postgres here is a real
server (``postgres_url``); the items are real Signals posts and news articles from ../shared/data."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator

import pytest
from conftest import require_shared

from shadowmatch_kb.formats.signals_post import parse_signals_post
from shadowmatch_kb.model import Item
from shadowmatch_kb.store import fulltext, pg_fulltext
from shadowmatch_kb.store.postgres import PostgresStore
from shadowmatch_kb.store.sqlite import SqliteStore

# People's questions, single words, rare and common words, punctuation, diacritics, long questions, nothing.
QUERIES = [
    "How will AI change the work of customer support agents?",
    "productivity",
    "AI",
    "ai workers",
    "What does generative AI mean for my job as a nurse in a hospital?",
    "stadia",
    "climate change",
    "the of and",
    "",
    "   ",
    'workers\' rights & "gig economy" -- NOT (automation) OR AND',
    "title: ai* ^jobs {near}",
    "café résumé naïve Zürich straße",
    "Resume CAFE",
    "running runs ran runner",
    "2023 14 percent",
    "remote work from home hybrid office",
    "generative AI productivity customer support workers knowledge retention sentiment",
    "robots automation factory manufacturing jobs wages skills training unions policy",
    "teachers students education learning",
    "banking finance fraud detection",
    "snake_case gig_economy self_driving",
    "__ _ ___init___",
    "東京 émoji 🚀 ½",
    "large language models chatbots",
    "energy electricity grid solar",
    "health care doctors patients diagnosis",
    "apple google microsoft amazon facebook",
    "video games console subscription",
    "police crime court law judge",
    "employees employee employment employer",
    "a b c d e f g h i j",
    "new jobs for young people",
    "How are new AI tools used at work?",
    "new uses",
]


def _signals_items() -> list[Item]:
    folder = require_shared("signals_posts")
    items = []
    for path in sorted(folder.rglob("*.md")):
        post = parse_signals_post(path.read_text(encoding="utf-8"), item_id=path.stem)
        item_id = path.stem if len(path.stem) == 32 else hashlib.md5(path.stem.encode()).hexdigest()
        items.append(
            Item(
                id=item_id,
                title=post.title,
                text=post.summary,
                summary=post.summary,
                keywords=post.keywords,
                themes=post.themes,
                kind="signals_post",
            )
        )
    return items


def _article_items() -> list[Item]:
    truth = json.loads(require_shared("extraction", "zyte", "ground-truth.json").read_text(encoding="utf-8"))
    items = []
    for key, page in sorted(truth.items()):
        body = page["articleBody"]
        title = body.split("\n", 1)[0][:120]
        items.append(Item(id=key[:32], title=title, url=page["url"], text=body))
    return items


def _corpus() -> list[Item]:
    """Real items, with three exact copies under other ids so that equal scores must tie in the same order."""
    items = _signals_items() + _article_items()
    copies = [Item(**{**vars(items[n]), "id": f"{n:032x}"}) for n in (5, 40, 200)]
    return items[:100] + copies[:1] + items[100:250] + copies[1:] + items[250:]


def _put(store: PostgresStore | SqliteStore, items: list[Item]) -> None:
    store.put_items((item, f"hash-{item.id}", item.id, None) for item in items)


@pytest.fixture
def stores(tmp_path, postgres_url) -> Iterator[tuple[SqliteStore, PostgresStore]]:
    """An empty file store and an empty Postgres store."""
    sqlite = SqliteStore(tmp_path / "kb.sqlite")
    postgres = PostgresStore(postgres_url)
    yield sqlite, postgres
    sqlite.close()
    postgres.close()


def _close(expected: list, got: list, what: str) -> None:
    """The same ids in the same order, scores equal to 1e-9 relative, the same snippets."""
    assert [row[0] for row in got] == [row[0] for row in expected], what
    for want, have in zip(expected, got, strict=True):
        assert math.isclose(have[1], want[1], rel_tol=1e-9, abs_tol=0.0), f"{what}: {want} != {have}"
        assert have[2:] == want[2:], f"{what}: snippet of {want[0]}"


def _compare_all(sqlite: SqliteStore, postgres: PostgresStore, words: list[str]) -> None:
    """Every function on both stores, with every query."""
    for query in QUERIES:
        for limit in (5, 1000):
            for snippets in (True, False):
                want = fulltext.keyword_search(sqlite.db, query, limit=limit, snippets=snippets)
                got = pg_fulltext.keyword_search(postgres.db, query, limit=limit, snippets=snippets)
                _close(want, got, f"keyword_search({query!r}, limit={limit}, snippets={snippets})")
        want = fulltext.any_term_search(sqlite.db, [query, "skills"], limit=50)
        _close(
            want, pg_fulltext.any_term_search(postgres.db, [query, "skills"], limit=50), f"any_term_search({query!r})"
        )
        hits = [row[0] for row in fulltext.any_term_search(sqlite.db, [query], limit=8)]
        ids = [*hits, sqlite.db.execute("SELECT id FROM items").fetchone()[0], "f" * 32]
        want_snippets = fulltext.keyword_snippets(sqlite.db, query, ids)
        assert pg_fulltext.keyword_snippets(postgres.db, query, ids) == want_snippets, f"keyword_snippets({query!r})"
    for share in (0.5, 1.0):
        want_stats = fulltext.term_statistics(sqlite.db, words, up_to_share=share)
        assert pg_fulltext.term_statistics(postgres.db, words, up_to_share=share) == want_stats, share
    for chosen in (words[:12], words[40:60], ["workers", "worker", "workers", ""], ['say "hi"', "gig_economy"], []):
        want = fulltext.any_word_bm25(sqlite.db, chosen, limit=40)
        _close(want, pg_fulltext.any_word_bm25(postgres.db, chosen, limit=40), f"any_word_bm25({chosen})")


def _words(items: list[Item]) -> list[str]:
    """Words as ``related`` looks them up: an item's own words, with ones FTS5 cuts in two or none."""
    words = [w.lower() for item in items[:3] + items[150:152] for w in (item.title + " " + item.text).split()]
    return [*dict.fromkeys(w.strip(".,;:()\"'") for w in words), "snake_case", "__", "ai", "AI", "employees"]


def test_every_function_answers_as_fts5_does(stores):
    sqlite, postgres = stores
    items = _corpus()
    for store in stores:
        _put(store, items)
    dropping = [
        q for q in QUERIES if fulltext._discriminating(sqlite.db, fulltext.query_terms(q)) != fulltext.query_terms(q)
    ]
    assert len(dropping) >= 2, "queries need words in over 40% of the items, so that keyword_search drops them"
    long_queries = [q for q in QUERIES if len(fulltext.query_terms(q)) >= 8]
    assert long_queries, "a query needs 8 terms or more, so that keyword_search counts terms per row"
    assert len(QUERIES) >= 30
    _compare_all(sqlite, postgres, _words(items))

    # Rebuilding gives the same terms; an item keeps its number, so ties keep their order.
    before = postgres.db.execute("SELECT item_id, doc, tokens FROM fts_docs ORDER BY doc").fetchall()
    postgres.db.execute("BEGIN")
    pg_fulltext.rebuild_fts_rows(postgres.db)
    postgres.db.execute("COMMIT")
    assert postgres.db.execute("SELECT item_id, doc, tokens FROM fts_docs ORDER BY doc").fetchall() == before
    _close(
        fulltext.keyword_search(sqlite.db, QUERIES[0], limit=20),
        pg_fulltext.keyword_search(postgres.db, QUERIES[0], limit=20),
        "after rebuild",
    )
    assert all(postgres.db.execute(sql).fetchone()[0] == 0 for sql in pg_fulltext.DAMAGE_QUERIES.values())


def test_texts_the_tokenizer_finds_hard(stores):
    """Diacritics, combining marks, scripts without spaces, emoji, phrases of several tokens, a token too long for
    a b-tree, empty fields: the same terms, lengths and answers as FTS5."""
    # One token of 3,000 letters and digits that do not compress: too long for a b-tree entry as it is.
    giant = "".join(hashlib.sha256(str(n).encode()).hexdigest() for n in range(47))
    texts = [
        ("Café résumé", "naïve coöperation in Zürich", ["e\u0301cole", "straße"], "Crème brûlée. Then: more.\n\nNext"),
        ("snake_case names", "", ["gig_economy"], "gig economy and gig_economy; self driving self_driving self self"),
        ("東京の仕事", "🚀 launch", [], "Workers in 東京 and Ὀδυσσεύς met ½ of them. " + giant),
        ("", "", [], ""),
        ("Only a title", "", [], "  leading spaces. Sentence two: three"),
    ]
    items = [
        Item(id=f"{n:032x}", title=title, summary=summary, keywords=keywords, text=body)
        for n, (title, summary, keywords, body) in enumerate(texts, start=1)
    ]
    for store in stores:
        _put(store, items)
    sqlite, postgres = stores
    queries = [
        "ecole",
        "école",
        "STRASSE straße",
        "東京",
        "🚀 launch",
        "gig_economy",
        "self_driving",
        "gig economy",
        giant,
    ]
    for query in [*queries, "__", "crème title"]:
        for function in ("keyword_search", "any_term_search"):
            args = (query,) if function == "keyword_search" else ([query],)
            want = getattr(fulltext, function)(sqlite.db, *args, limit=10)
            _close(want, getattr(pg_fulltext, function)(postgres.db, *args, limit=10), f"{function}({query!r})")
    assert [row[0] for row in pg_fulltext.keyword_search(postgres.db, "self_driving", limit=5)] == [items[1].id]
    assert [row[0] for row in pg_fulltext.keyword_search(postgres.db, giant, limit=5)] == [items[2].id]
    words = ["café", "gig_economy", giant, "東京", "self", "brûlée"]
    assert pg_fulltext.term_statistics(postgres.db, words) == fulltext.term_statistics(sqlite.db, words)
    for item in items:
        fts5 = {pg_fulltext._key(term): counts for term, counts in _fts5_terms(sqlite, item.id).items()}
        assert _terms(postgres, item.id) == fts5, item.title


def test_rewriting_an_item_replaces_its_terms_and_deleting_it_removes_them(stores):
    sqlite, postgres = stores
    first = Item(id="a" * 32, title="Robots in warehouses", text="Robots move boxes in warehouses.")
    second = Item(id="b" * 32, title="Nurses and rotas", text="Nurses plan rotas with software.")
    for store in stores:
        _put(store, [first, second])
        _put(store, [Item(id=first.id, title="Drones in farms", text="Drones spray crops.")])
    for query in ("robots warehouses", "drones", "nurses"):
        _close(
            fulltext.keyword_search(sqlite.db, query, limit=5),
            pg_fulltext.keyword_search(postgres.db, query, limit=5),
            query,
        )
    assert pg_fulltext.keyword_search(postgres.db, "robots", limit=5) == []
    assert [row[0] for row in pg_fulltext.keyword_search(postgres.db, "drones", limit=5)] == [first.id]
    assert _terms(postgres, first.id) == _fts5_terms(sqlite, first.id)
    assert set(_terms(postgres, first.id)) == {"drone", "in", "farm", "sprai", "crop"}

    # FTS5 rows do not follow their item: the file store's row goes by hand, the shared store's by cascade.
    sqlite.db.execute("DELETE FROM items_fts WHERE item_id = ?", (first.id,))
    for store in stores:
        store.db.execute("DELETE FROM items WHERE id = ?", (first.id,))
    assert _terms(postgres, first.id) == {}
    assert postgres.db.execute("SELECT count(*) FROM fts_docs").fetchone()[0] == 1
    assert pg_fulltext.keyword_search(postgres.db, "drones", limit=5) == []
    _close(
        fulltext.keyword_search(sqlite.db, "nurses", limit=5),
        pg_fulltext.keyword_search(postgres.db, "nurses", limit=5),
        "after delete",
    )


def _terms(store: PostgresStore, item_id: str) -> dict[str, tuple[int, ...]]:
    """An item's terms in Postgres, with how often each occurs in the title, summary, keywords and body."""
    rows = store.db.execute(
        "SELECT t.term, title_tf, summary_tf, keywords_tf, body_tf FROM fts_terms t JOIN fts_docs d ON d.doc = t.doc"
        " WHERE d.item_id = ?",
        (item_id,),
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def _fts5_terms(store: SqliteStore, item_id: str) -> dict[str, tuple[int, ...]]:
    """An item's terms in FTS5's own index, the same way."""
    store.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.terms USING fts5vocab(main, items_fts, instance)")
    found: dict[str, list[int]] = {}
    rowid = store.db.execute("SELECT rowid FROM items WHERE id = ?", (item_id,)).fetchone()[0]
    for term, column in store.db.execute("SELECT term, col FROM temp.terms WHERE doc = ?", (rowid,)):
        found.setdefault(term, [0, 0, 0, 0])[("title", "summary", "keywords", "body").index(column)] += 1
    return {term: tuple(counts) for term, counts in found.items()}


def test_damage_queries_find_an_item_without_terms(stores):
    _, postgres = stores
    _put(postgres, [Item(id="c" * 32, title="Chatbots at the bank", text="Banks answer customers with chatbots.")])
    assert {label: postgres.db.execute(sql).fetchone()[0] for label, sql in pg_fulltext.DAMAGE_QUERIES.items()} == {
        label: 0 for label in pg_fulltext.DAMAGE_QUERIES
    }
    postgres.db.execute("DELETE FROM fts_terms WHERE term = 'bank'")
    postgres.db.execute("DELETE FROM fts_docs")
    assert [postgres.db.execute(sql).fetchone()[0] for sql in pg_fulltext.DAMAGE_QUERIES.values()] == [1, 0]


def test_a_rare_word_is_read_from_the_term_index(stores):
    """No query of a rare word reads the whole term table: Postgres counts the scans of this transaction."""
    _, postgres = stores
    _put(postgres, _corpus())
    postgres.db.execute("ANALYZE")
    postgres.db.execute("BEGIN")
    hits = pg_fulltext.keyword_search(postgres.db, "stadia subscription", limit=10)
    scans = "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'fts_terms'"
    whole, indexed = postgres.db.execute(scans).fetchone()
    postgres.db.execute("COMMIT")
    assert hits
    assert (whole, indexed > 0) == (0, True)
