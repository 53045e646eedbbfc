"""The shared store (Postgres) against the file store (SQLite): the same answers from the same record, and what
only a shared store must do — writers in several processes at once, a change counter readers can trust, clear
errors for a server that cannot be reached. Every Postgres here is a real server (``postgres_url``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_store import make_item, put

from shadowmatch_kb.errors import BackendError
from shadowmatch_kb.model import ItemFilter, Signal
from shadowmatch_kb.store.enrichment import enrichment_record, items_to_enrich, save_enrichment
from shadowmatch_kb.store.pg import translate
from shadowmatch_kb.store.postgres import PostgresStore
from shadowmatch_kb.store.records import read_record, write_record
from shadowmatch_kb.store.sqlite import RawInput, SqliteStore
from shadowmatch_kb.store.timeline import dated_items, signal_rows

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def both(tmp_path, postgres_url):
    """A file store and a Postgres store holding the same varied items, written the same way."""
    stores = (SqliteStore(tmp_path / "corpus" / "kb.sqlite"), PostgresStore(postgres_url))
    for store in stores:
        entries = []
        for n in range(1, 13):
            fields: dict[str, object] = {
                "sectors": [["healthcare"], ["banking"], ["Q", "retail"], ["made-up trade"]][n % 4],
                "themes": [["task automation"], ["AI adoption", "skills"]][n % 2],
            }
            if n % 5 == 0:
                fields["published"] = None  # undated: listed last
            if n == 12:
                fields["duplicate_of"] = make_item(3).id
            content = f"raw {n} 100% ünïcode".encode()
            entries.append(
                (make_item(n, **fields), f"c{len(content)}", make_item(n).id, RawInput("in", "text/plain", content))
            )
        # One batch: every item gets the same import time, so items of one date are listed by id in both
        # stores (written one by one, a clock tick between two writes could order them apart).
        store.put_items(entries)
        store.add_tags(make_item(2).id, ["Star", "review"], [])
        store.add_tags(make_item(2).id, [], ["review"])
        store.record_edit(make_item(4).id, "sectors", ["nurses"])
        store.record_edit(make_item(4).id, "themes", ["care work"])
    yield stores
    for store in stores:
        store.close()


def test_both_stores_answer_alike(both):
    sqlite, postgres = both
    filters = [
        ItemFilter(),
        ItemFilter(sector="healthcare"),
        ItemFilter(sector="Q"),
        ItemFilter(theme="skills"),
        ItemFilter(theme="CARE WORK"),
        ItemFilter(tag="star"),
        ItemFilter(since="2024-05-01"),
    ]
    for where in filters:
        assert sqlite.filtered_ids(where) == postgres.filtered_ids(where), where
    assert sqlite.filtered_ids(ItemFilter(), limit=3) == postgres.filtered_ids(ItemFilter(), limit=3)
    ids = [make_item(n).id for n in range(1, 14)]
    assert {k: v.to_dict() for k, v in sqlite.get_many(ids).items()} == {
        k: v.to_dict() for k, v in postgres.get_many(ids).items()
    }
    assert {k: tuple(v) for k, v in sqlite.brief_rows(ids).items()} == {
        k: tuple(v) for k, v in postgres.brief_rows(ids).items()
    }
    for field in ("sectors", "themes"):
        assert sqlite.facet_counts(field) == postgres.facet_counts(field)
    assert sqlite.stats() == postgres.stats()
    assert sqlite.size("2099-12-31") == postgres.size("2099-12-31")
    assert sqlite.content_hashes() == postgres.content_hashes()
    assert [tuple(r) for r in sqlite.iter_index_inputs()] == [tuple(r) for r in postgres.iter_index_inputs()]
    assert sqlite.duplicates_of(make_item(3).id) == postgres.duplicates_of(make_item(3).id) == [make_item(12).id]
    assert sqlite.find_by_text_hash(make_item(5).id, "x") == postgres.find_by_text_hash(make_item(5).id, "x")
    assert dated_items(sqlite) == dated_items(postgres)
    assert signal_rows(sqlite) == signal_rows(postgres)
    assert items_to_enrich(sqlite) == items_to_enrich(postgres)
    for n in (2, 4, 7):
        assert undated(read_record(sqlite, make_item(n).id)) == undated(read_record(postgres, make_item(n).id))
        edits = [[(e["field"], e["value"]) for e in store.analyst_edits(make_item(n).id)] for store in both]
        assert edits[0] == edits[1]
    assert sqlite.get(make_item(3).id).tags == postgres.get(make_item(3).id).tags == ["sector:made-up trade"]
    assert sqlite.check() == postgres.check() == []


def undated(record):
    """A record without the times of its writes, which differ between two stores written one after the other."""
    return (record.item, record.content_hash, record.text_hash, record.enrichment, [t for t, _ in record.tags],
            [(e.field, e.value) for e in record.edits], record.raw)  # fmt: skip


def test_a_record_moves_between_stores_unchanged(both):
    sqlite, postgres = both
    record = read_record(sqlite, make_item(4).id)
    assert record is not None
    record = type(record)(**{**record.__dict__, "item": make_item(4, title="Changed title")})
    # Into a store without the item: its own copy's edits were written at other moments, and edits of other
    # moments join a record's history rather than replace it.
    postgres.db.execute("DELETE FROM items WHERE id = ?", (make_item(4).id,))
    assert write_record(postgres, record, None) == "added"
    assert undated(read_record(postgres, make_item(4).id)) == undated(record)
    assert write_record(postgres, record, None) == "unchanged"


def test_enrichment_is_saved_alike(both):
    for store in both:
        item = make_item(6, summary="Computed.", signals=[Signal("A", "b to c", "d", "cost")], sectors=["banking"])
        save_enrichment(store, item, {"version": 1, "sector_confidence": {"banking": 0.7}})
    assert enrichment_record(both[0], make_item(6).id) == enrichment_record(both[1], make_item(6).id)
    assert both[0].get(make_item(6).id).to_dict() == both[1].get(make_item(6).id).to_dict()


def test_a_batch_that_fails_part_way_stores_none_of_it(postgres_url):
    store = PostgresStore(postgres_url)
    good = (make_item(1), "c", "t", None)
    bad = (make_item(2), None, "t", None)  # NOT NULL content hash: fails inside the transaction
    with pytest.raises(Exception, match="(?i)not-null|not null"):
        store.put_items([good, bad])  # type: ignore[list-item]
    assert store.count() == 0
    put(store, make_item(3))  # the connection is usable after the rollback
    assert store.count() == 1
    store.close()


def test_readers_see_that_another_process_wrote(postgres_url):
    reader = PostgresStore(postgres_url)
    before = reader.data_version()
    assert reader.data_version() == before  # reading alone changes nothing
    writer = PostgresStore(postgres_url)
    put(writer, make_item(1))
    writer.add_tags(make_item(1).id, ["x"], [])
    assert reader.data_version() > before
    settled = reader.data_version()
    writer.db.execute("BEGIN")
    writer.db.execute("UPDATE items SET title = 'in flight'")
    assert reader.data_version() == settled  # a write not yet committed is not yet a change
    writer.db.execute("COMMIT")
    assert reader.data_version() > settled
    reader.close()
    writer.close()


_WRITER = """
import sys
sys.path.insert(0, {tests!r})
from test_store import make_item, put
from shadowmatch_kb.store.postgres import PostgresStore
store = PostgresStore(sys.argv[1])
first = int(sys.argv[2])
for n in range(first, first + 40):
    put(store, make_item(n, title=f"written by {{first}}"))
    store.add_tags(make_item(n).id, ["shared"], [])
store.close()
"""


def test_two_processes_write_one_store_at_once(postgres_url, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(_WRITER.format(tests=str(REPO / "tests"))))
    # Each writer starts in its own working directory: nothing is shared but the database.
    writers = []
    for first in (1000, 2000):
        folder = tmp_path / f"w{first}"
        folder.mkdir()
        writers.append(
            subprocess.Popen(
                [sys.executable, str(script), postgres_url, str(first)], cwd=folder, stderr=subprocess.PIPE
            )
        )
    for process in writers:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    store = PostgresStore(postgres_url)
    assert store.count() == 80
    assert len(store.filtered_ids(ItemFilter(tag="shared"))) == 80
    assert store.check() == []
    store.close()


def test_a_server_that_cannot_be_reached_is_one_clear_line(tmp_path):
    url = f"postgresql://smkb:secret@/kb?host={tmp_path}&connect_timeout=2"
    with pytest.raises(BackendError) as found:
        PostgresStore(url)
    message = str(found.value)
    assert "cannot open the knowledge base at" in message and "\n" not in message
    assert "secret" not in message


def test_placeholders_are_translated_outside_quotes_only():
    sql = "SELECT 1 FROM t WHERE a = ? AND b = :name AND c = 'x?:y' AND d::text LIKE '5%'"
    assert translate(sql) == "SELECT 1 FROM t WHERE a = %s AND b = %(name)s AND c = 'x?:y' AND d::text LIKE '5%%'"


def test_raw_bytes_round_trip(postgres_url):
    store = PostgresStore(postgres_url)
    content = bytes(range(256)) * 10
    store.put_item(make_item(1), content_hash="c", text_hash="t", raw=RawInput("f.bin", "application/pdf", content))
    assert store.raw_input(make_item(1).id) == RawInput("f.bin", "application/pdf", content)
    store.close()


def test_the_crawl_frontier_behaves_alike(both):
    from shadowmatch_kb.store.frontier import Frontier, QueuedUrl

    results = []
    for store in both:
        frontier = Frontier(store.db, run="run-1")
        queued = [
            QueuedUrl(f"https://{host}.example/{n}", "news", "article", depth=n % 3, listed_date=f"2024-01-0{n + 1}")
            for host in ("a", "b", "c")
            for n in range(4)
        ]
        added = frontier.enqueue(queued)
        again = frontier.enqueue([QueuedUrl("https://a.example/2", "news", "article", depth=0)])  # nearer now
        batch = frontier.next_batch(["news"], 5, skip={"https://b.example/0"})
        frontier.record(batch[0].url, "stored", etag='"v1"', item_id=make_item(1).id, raw=b"<html>listing</html>")
        frontier.record(batch[1].url, "failed", reason="HTTP 503")
        frontier.record(batch[2].url, "not_modified", fetched=False, keep_validators=True)
        finished = frontier.enqueue([QueuedUrl(batch[0].url, "news", "article")])  # done in this run: not again
        results.append(
            (
                added,
                again,
                finished,
                batch,
                frontier.next_batch(["news"], 8),  # a shared store claims at most CLAIM_BATCH (8) at once
                frontier.queued_count(["news"]),
                frontier.stored_body(batch[0].url),
                frontier.outcome_counts(),
            )
        )
    assert results[0] == results[1]
    assert results[0][0] == 12 and results[0][3][0].depth == 0


def test_fingerprints_behave_alike(both):
    from shadowmatch_kb.store.fingerprints import FingerprintTable

    found = []
    for store in both:
        table = FingerprintTable(store.db)
        table.save(make_item(1).id, 2, b"\x00\x01sig-one", [1, 2**62, -(2**62)])
        table.save(make_item(2).id, 2, b"sig-two", [2**62, 7])
        table.save(make_item(3).id, 1, b"old scheme", [7])
        table.save(make_item(2).id, 2, b"sig-two", [2**62, 8])  # replaced: 7 is no longer its key
        found.append(
            (
                table.candidates([2**62], version=2, exclude_id=make_item(9).id),
                table.candidates([7, 8], version=2, exclude_id=make_item(1).id),
                table.candidates([-(2**62)], version=2, exclude_id=make_item(1).id),
            )
        )
    assert [[tuple(map(bytes_or_value, hit)) for hit in hits] for hits in found[0]] == [
        [tuple(map(bytes_or_value, hit)) for hit in hits] for hits in found[1]
    ]
    assert [hit[0] for hit in found[1][0]] == [make_item(1).id, make_item(2).id]


def bytes_or_value(value: object) -> object:
    """sqlite3 gives blobs as bytes, psycopg as bytes too; memoryviews are read out so both compare."""
    return bytes(value) if isinstance(value, memoryview) else value


def test_occupation_datasets_read_back_alike(both):
    from conftest import require_shared

    from shadowmatch_kb.occupations import store as occupations
    from shadowmatch_kb.occupations.datasets import read_dataset

    records = [read_dataset(require_shared("occupations", name)) for name in ("ilo_genai_exposure_2025", "esco_v1")]
    answers = []
    for store in both:
        counts = [occupations.save_dataset(store.db, found, "somewhere") for found in records]
        answers.append(
            (
                counts,
                occupations.labels(store.db)[:500],
                occupations.figures_for(store.db, "2221", []),
                occupations.tasks_for(store.db, "2221"),
                occupations.work_texts(store.db)[:500],
                sorted(occupations.imported_datasets(store.db)),
            )
        )
    assert answers[0] == answers[1]
    assert answers[0][3]  # the ILO scores nurses' tasks


def test_crawlers_sharing_a_frontier_claim_different_urls(postgres_url):
    from shadowmatch_kb.store.frontier import CLAIM_BATCH, Frontier, QueuedUrl

    stores = [PostgresStore(postgres_url), PostgresStore(postgres_url)]
    first, second = Frontier(stores[0].db, run="first"), Frontier(stores[1].db, run="second")
    first.enqueue(QueuedUrl(f"https://h{n % 3}.example/{n}", "news", "article") for n in range(10))
    mine = {entry.url for entry in first.next_batch(["news"], 6)}
    theirs = {entry.url for entry in second.next_batch(["news"], 10)}
    assert len(mine) == 6 and len(theirs) == 4 and not mine & theirs
    assert {entry.url for entry in first.next_batch(["news"], 10)} == mine  # a crawl sees its own claims again
    done = sorted(mine)[0]
    first.record(done, "stored")
    assert first.queued_count(["news"]) == 9
    first.release()  # a crawl that stops hands back what it did not finish
    assert first.claimed_elsewhere(["news"]) == 4  # the second crawl's
    again = {entry.url for entry in second.next_batch(["news"], 10)}
    assert len(again) == CLAIM_BATCH and again < (mine | theirs) - {done}  # no more than a batch at once
    # A claim lapses: a crawler killed mid-crawl does not hold its URLs for ever.
    stores[1].db.execute("UPDATE crawl_urls SET claimed_until = '2000-01-01T00:00:00Z' WHERE claimed_by = 'second'")
    assert first.claimed_elsewhere(["news"]) == 0
    assert len(first.next_batch(["news"], 10)) == CLAIM_BATCH
    for store in stores:
        store.close()


_CRAWLER = """
import sys
import time
from shadowmatch_kb.store.frontier import Frontier
from shadowmatch_kb.store.postgres import PostgresStore
store = PostgresStore(sys.argv[1])
frontier = Frontier(store.db, run=sys.argv[2])
while batch := frontier.next_batch(["news"], 7):
    for entry in batch:
        print(entry.url, flush=True)  # "fetched"
        time.sleep(0.01)  # as a fetch would take a while, so the two crawls overlap
        frontier.record(entry.url, "stored")
store.close()
"""


def test_two_crawler_processes_fetch_each_url_once(postgres_url, tmp_path):
    from shadowmatch_kb.store.frontier import Frontier, QueuedUrl

    store = PostgresStore(postgres_url)
    Frontier(store.db).enqueue(QueuedUrl(f"https://h{n % 5}.example/{n}", "news", "article") for n in range(300))
    script = tmp_path / "crawler.py"
    script.write_text(_CRAWLER)
    crawlers = [
        subprocess.Popen(
            [sys.executable, str(script), postgres_url, name], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for name in ("left", "right")
    ]
    fetched = []
    for process in crawlers:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
        fetched.append(out.decode().split())
    assert all(fetched)  # both did some of the work
    assert sorted(fetched[0] + fetched[1]) == sorted(set(fetched[0] + fetched[1]))  # none twice
    assert len(fetched[0]) + len(fetched[1]) == 300
    assert store.db.execute("SELECT count(*) FROM crawl_urls WHERE queued = 1").fetchone()[0] == 0
    store.close()


def test_doctor_finds_damage_in_postgres(postgres_url):
    store = PostgresStore(postgres_url)
    put(store, make_item(1))
    assert store.check() == []
    store.db.execute("DELETE FROM fts_docs")
    store.db.execute("UPDATE raw_inputs SET compressed = '\\x00'::bytea")
    problems = store.check()
    assert any("full-text" in problem for problem in problems), problems
    assert any("damaged" in problem for problem in problems), problems
    store.rebuild_fts()
    assert not any("full-text" in problem for problem in store.check())
    store.close()


_HOLDER = """
import sys, time
from shadowmatch_kb.store.lock import SharedStoreLock
from shadowmatch_kb.store.pg import PgConnection
lock = SharedStoreLock(PgConnection(sys.argv[1]), "kb", exclusive=True)
lock.acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_writers_share_the_lock_that_a_rebuild_holds_alone(postgres_url, tmp_path):
    from shadowmatch_kb.errors import LockTimeoutError
    from shadowmatch_kb.store.lock import SharedStoreLock
    from shadowmatch_kb.store.pg import PgConnection

    first, second = PgConnection(postgres_url), PgConnection(postgres_url)
    with SharedStoreLock(first, "kb"), SharedStoreLock(second, "kb", timeout=1):
        with pytest.raises(LockTimeoutError, match="has been writing to kb"):
            SharedStoreLock(PgConnection(postgres_url), "kb", exclusive=True, timeout=0.3).acquire()
    # A process that holds it alone and dies frees it, as a killed command would.
    script = tmp_path / "holder.py"
    script.write_text(_HOLDER)
    holder = subprocess.Popen([sys.executable, str(script), postgres_url], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(LockTimeoutError, match="has been rebuilding kb"):
        SharedStoreLock(first, "kb", timeout=0.3).acquire()
    holder.kill()
    holder.wait()
    with SharedStoreLock(first, "kb", timeout=30) as lock:
        assert lock.waited < 30
    first.close()
    second.close()
