"""The record store: migrations, writes, analyst edits, filters, full text, consistency.

Tests taking ``store`` run on both stores: the file one (SQLite) and the shared one (a real Postgres).
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from shadowmatch_kb.errors import NotFoundError
from shadowmatch_kb.model import Item, ItemFilter, Signal
from shadowmatch_kb.store.fulltext import fts_query
from shadowmatch_kb.store.migrations import MIGRATIONS
from shadowmatch_kb.store.sqlite import RawInput, SqliteStore


def make_item(n: int, **fields) -> Item:
    base = {
        "id": f"{n:032x}",
        "title": f"Item {n} about nurses and AI scribes",
        "published": f"2024-0{n % 9 + 1}-01",
        "text": f"Body {n}: hospitals adopt ambient documentation tools.",
        "summary": "A short summary.",
        "keywords": ["nursing", "documentation"],
        "themes": ["task automation"],
        "sectors": ["healthcare and social care"],
        "signals": [Signal("AI scribes spread", "manual notes to drafts", "notes drafted by default", "cost")],
    }
    base.update(fields)
    return Item(**base)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "postgres":
        from shadowmatch_kb.store.postgres import PostgresStore

        s: SqliteStore = PostgresStore(request.getfixturevalue("postgres_url"))
    else:
        s = SqliteStore(tmp_path / "corpus" / "kb.sqlite")
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path):
    s = SqliteStore(tmp_path / "corpus" / "kb.sqlite")
    yield s
    s.close()


def put(store: SqliteStore, item: Item, content: bytes = b"raw") -> None:
    store.put_item(item, content_hash=f"c{len(content)}", text_hash=item.id, raw=RawInput("in", "text/plain", content))


def test_migrations_are_recorded_once(tmp_path):
    path = tmp_path / "kb.sqlite"
    SqliteStore(path).close()
    SqliteStore(path).close()  # a second open applies nothing again
    rows = sqlite3.connect(path).execute("SELECT version, name FROM schema_migrations").fetchall()
    assert rows == [(v, n) for v, n, _ in MIGRATIONS]


def test_round_trip_of_every_field(store):
    item = make_item(1, url="https://example.org/a", reference_closest=["b" * 32], author="A. Writer")
    put(store, item, b"original bytes")
    got = store.get(item.id)
    assert got.to_dict() == item.to_dict()
    assert store.raw_input(item.id).content == b"original bytes"


def test_update_keeps_tags_and_edits(store):
    item = make_item(2)
    put(store, item)
    store.add_tags(item.id, ["review"], [])
    store.record_edit(item.id, "sectors", ["social work"])
    put(store, make_item(2, title="New title", sectors=["retail"]), b"changed")
    got = store.get(item.id)
    assert got.title == "New title"
    assert got.tags == ["review"]
    assert got.sectors == ["healthcare and social care"]  # the analyst's correction wins, as a section name
    assert store.analyst_edits(item.id)[0]["value"] == ["healthcare and social care"]


def test_unknown_id_is_not_found(store):
    with pytest.raises(NotFoundError, match="no item with id"):
        store.get("f" * 32)
    with pytest.raises(NotFoundError):
        store.add_tags("f" * 32, ["x"], [])


def test_filters(store):
    for n in range(1, 6):  # the labels as posts write them; stored as section names
        put(store, make_item(n, sectors=["healthcare"] if n % 2 else ["banking"]))
    store.add_tags(make_item(3).id, ["star"], [])
    store.record_edit(make_item(5).id, "sectors", ["banking"])
    assert set(store.filtered_ids(ItemFilter(sector="Healthcare"))) == {make_item(1).id, make_item(3).id}
    assert store.filtered_ids(ItemFilter(tag="star")) == [make_item(3).id]
    newest_first = store.filtered_ids(ItemFilter())
    dates = [store.get(i).published for i in newest_first]
    assert dates == sorted(dates, reverse=True)
    assert all(store.get(i).published >= "2024-04-01" for i in store.filtered_ids(ItemFilter(since="2024-04-01")))
    assert store.facet_counts("sectors") == {"banking and insurance": 3, "healthcare and social care": 2}


def test_keyword_search_ranks_title_matches(store):
    put(store, make_item(1, title="Robots in warehouses", text="Pickers work beside robots."))
    put(store, make_item(2, title="Bank tellers", text="Branches close as apps grow."))
    hits = store.keyword_search("warehouse robots", limit=5)
    assert hits[0][0] == make_item(1).id
    assert all(h[0] != make_item(2).id for h in hits)


@pytest.mark.parametrize("query", ['"', "NOT", "a:b", "(", "*", "nurse OR", "-"])
def test_keyword_search_survives_fts_syntax(store, query):
    put(store, make_item(1))
    store.keyword_search(query, limit=5)  # must not raise


def test_fts_query_quotes_terms():
    assert fts_query('nurse "AI" NOT robots:') == '"nurse" OR "ai" OR "robots"'
    assert fts_query("the of a") == ""


def test_check_finds_damage(sqlite_store):
    store = sqlite_store
    put(store, make_item(1))
    assert store.check() == []
    store.db.execute("DELETE FROM items_fts")
    store.db.execute("UPDATE raw_inputs SET compressed = x'00'")
    problems = store.check()
    assert any("without a full-text entry" in p for p in problems)
    assert any("damaged" in p for p in problems)
    store.rebuild_fts()
    assert not any("full-text" in p for p in store.check())


def test_failed_write_leaves_nothing(store):
    item = make_item(1)
    with pytest.raises(Exception, match="(?i)not null|not-null"):
        # A row that violates NOT NULL fails inside the transaction.
        store.put_item(item, content_hash=None, text_hash="t", raw=None)  # type: ignore[arg-type]
    assert store.count() == 0
    assert store.keyword_search("nurses", limit=5) == []


def test_keyword_search_ignores_common_words_and_needs_half_the_terms(store):
    for n in range(30):
        put(store, make_item(n, title=f"AI at work, report {n}", text="AI tools reach offices.", keywords=[]))
    put(store, make_item(40, title="AI scribes for nurses", text="Nurses dictate notes to AI at work.", keywords=[]))
    put(store, make_item(41, title="Hospital rotas", text="AI plans the hospital rota for nurses.", keywords=[]))
    hits = [h[0] for h in store.keyword_search("how is AI changing the work of nurses?", limit=10)]
    # "ai" and "work" are in nearly every item, so only "changing" and "nurses" decide.
    assert set(hits) == {make_item(40).id, make_item(41).id}
    three = [h[0] for h in store.keyword_search("nurses hospital rota", limit=10)]
    assert three == [make_item(41).id]  # the scribes item has one of the three terms only


@pytest.mark.parametrize("extra", [[], ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]])
def test_keyword_search_needs_half_the_terms_before_the_limit(store, extra):
    # Without ``extra`` the terms' groups are spelled out for the index; with six more words (ten
    # terms, 252 groups) rows are counted by term instead. Both give the same rows.
    words = ["nurses", "hospital", "rota", "scribes", *extra]
    for n in range(12):  # strong on one term only: would fill the limit if ranked before filtering
        put(store, make_item(n, title=f"nurses nurses nurses {n}", text="nurses", keywords=[], summary=""))
    for n in range(100, 140):  # none of the terms, so that "nurses" is not a common word
        put(store, make_item(n, title=f"Filler {n}", text="unrelated", keywords=[], summary=""))
    holds = {20: words[: len(words) // 2], 21: words, 22: words[1 : len(words) // 2 + 1]}
    for n, held in holds.items():
        # Long texts that mention each term once: they rank below the strong items above.
        text = " ".join(held) + " report" * 150
        put(store, make_item(n, title="Holder", text=text, keywords=[], summary=""))
    hits = [h[0] for h in store.keyword_search(" ".join(words), limit=3)]
    assert set(hits) == {make_item(n).id for n in holds}
    assert hits[0] == make_item(21).id  # holds every term


def test_migration_2_keys_full_text_rows_by_item_rowid(tmp_path, monkeypatch):
    from shadowmatch_kb.store import migrations

    path = tmp_path / "kb.sqlite"
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
    old = SqliteStore(path)
    old.db.execute("INSERT INTO items_fts (rowid, item_id, title) VALUES (999, 'x', 'orphan row from v1')")
    old.close()
    monkeypatch.undo()
    store = SqliteStore(path)
    assert store.db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == len(migrations.MIGRATIONS)
    assert store.db.execute("SELECT count(*) FROM items_fts").fetchone()[0] == 0
    put(store, make_item(1))
    assert (
        store.db.execute("SELECT rowid FROM items WHERE id = ?", (make_item(1).id,)).fetchone()[0]
        == (store.db.execute("SELECT rowid FROM items_fts").fetchone()[0])
    )
    assert store.check() == []
    store.close()


def test_every_knowledge_base_has_an_identity_of_its_own(tmp_path):
    first, second = SqliteStore(tmp_path / "a.sqlite"), SqliteStore(tmp_path / "b.sqlite")
    assert re.fullmatch(r"[0-9a-f]{16}", first.kb_id or "") and first.kb_id != second.kb_id
    kept = first.kb_id
    first.close()
    assert SqliteStore(tmp_path / "a.sqlite").kb_id == kept  # made once, then read back
