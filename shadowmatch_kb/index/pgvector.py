"""PgVectorIndex: item and chunk vectors in PostgreSQL tables with pgvector HNSW indexes.

Tables, named from a prefix (``smkb`` by default)::

    smkb_vector_meta     one row: the model and dimension that built the vectors
    smkb_item_vectors    item_id (key), content_hash, chunks (count), embedding vector(dim)
    smkb_chunk_vectors   (item_id, chunk) key, embedding vector(dim)

Every ``upsert`` and ``delete`` is one transaction, durable when it returns. Buffering would buy little
and lose work in a crash: a one-item transaction costs 0.75 ms without a graph to update, while growing
the HNSW graph costs 6 ms per real MiniLM vector and 16 ms per hard random one (scripts/bench_pgvector.py,
10k rows, two shared cores). ``refresh`` does nothing, as every read asks the server, and so does
``flush`` except after ``rebuild=True``: a rebuild loads rows into tables without HNSW indexes and
``flush`` builds them in bulk, 5-10x faster (queries are exact, by sequential scan, until then; an open
that finds them missing, say after a crash mid-rebuild, creates them).
``psycopg`` is imported only when an index is opened, so importing this module stays cheap.
"""

from __future__ import annotations

import math
import re
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from shadowmatch_kb.errors import BackendError, IndexMismatchError, ShadowmatchError
from shadowmatch_kb.index.base import IndexEntry, VectorHit, checked_vectors, normalised

__all__ = ["DDL_LOCK_KEY", "DEFAULT_EF_SEARCH", "EF_CONSTRUCTION", "MAX_NEIGHBORS", "PgVectorIndex"]

# Recall@10 of query_items against exact search, the HNSW index forced (scripts/bench_pgvector.py,
# PostgreSQL 18.4, pgvector 0.8.5, m=32, ef_construction=200; bulk and incremental builds agree):
# 5,000 real MiniLM sentence vectors 40 -> 0.998, 100 -> 1.0; 10,000 random unit vectors (the hard
# case) 100 -> 0.845, 200 -> 0.966, 400 -> 0.998, 800 -> 1.0. 400 is the smallest value above 0.98 on
# both, at a p50 of about 3 ms (real) and 6-12 ms (random; two busy shared cores). At these sizes the
# planner, whose cost estimate grows with ef_search, picks an exact sequential scan instead (p50 2 ms
# and 4-9 ms); the HNSW index takes over as the tables grow.
DEFAULT_EF_SEARCH = 400
# Fixed when the tables are created. With pgvector's defaults (16, 64) random vectors reach only 0.939
# at ef_search 400 and 0.993 at 800, and pgvector caps ef_search at 1,000, so a bigger KB would have
# no headroom left; (32, 200), as ChromaIndex uses, costs a 4x slower build (15.7 s vs 3.8 s for 10k
# vectors in bulk) for that margin.
MAX_NEIGHBORS = 32
EF_CONSTRUCTION = 200
# pgvector indexes `vector` columns of up to 2,000 dimensions; wider models get exact scans.
_MAX_INDEXED_DIMENSION = 2000
# One advisory lock for every DDL step of the knowledge base in a database: CREATE EXTENSION and
# CREATE TABLE IF NOT EXISTS are not safe against each other when two processes open at once.
DDL_LOCK_KEY = int.from_bytes(b"smkb-ddl", "big")
_FORMAT = 1
# Short enough that "<prefix>_chunk_vectors_hnsw" fits PostgreSQL's 63-byte names.
_PREFIX = re.compile(r"[a-z_][a-z0-9_]{0,39}")
_BUILD_MEMORY = "512MB"
_CONNECT_TIMEOUT_S = 10
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = struct.pack("!h", -1)


class PgVectorIndex:
    """Cosine search over ``<prefix>_item_vectors`` and ``<prefix>_chunk_vectors`` in PostgreSQL."""

    def __init__(
        self,
        conninfo: str,
        model: str,
        dimension: int,
        *,
        table_prefix: str = "smkb",
        ef_search: int = DEFAULT_EF_SEARCH,
        rebuild: bool = False,
    ) -> None:
        """Connect and use (or create) the tables; ``rebuild`` drops them first (for reindex)."""
        if dimension <= 0:
            raise ValueError(f"dimension must be positive, got {dimension}")
        if not _PREFIX.fullmatch(table_prefix):
            raise ValueError(f"table prefix must be 1-40 lower-case letters, digits or _, got {table_prefix!r}")
        self.model = model
        self.dimension = dimension
        self.ef_search = ef_search
        self._conninfo = conninfo
        self._prefix = table_prefix
        self._where = f"the vector tables {table_prefix}_* in PostgreSQL at {_describe(conninfo)}"
        # The web server queries from several threads; one connection runs one statement at a time.
        self._lock = threading.RLock()
        self._graph_pending = False
        self._conn = _connect(conninfo)
        with self._errors():
            self._prepare_tables(rebuild)
            self._configure(self._conn)

    def close(self) -> None:
        """Close the connection (an index is also closed when it is garbage collected)."""
        with self._lock:
            self._conn.close()

    # -- writes (each one transaction) -------------------------------------------------------

    def upsert(self, item_id: str, content_hash: str, item_vector: np.ndarray, chunk_vectors: np.ndarray) -> None:
        """Store or replace an item's vectors (shape (dim,) and (n, dim))."""
        item, chunks = checked_vectors(item_id, self.dimension, item_vector, chunk_vectors)
        with self._errors() as conn, conn.transaction():
            # The item row is written first: its row lock orders two writers of the same item, so the
            # second one's DELETE sees (and replaces) the chunks the first one committed.
            conn.execute(
                self._sql(
                    "INSERT INTO {items} (item_id, content_hash, chunks, embedding) VALUES (%s, %s, %s, %b) "
                    "ON CONFLICT (item_id) DO UPDATE SET content_hash = EXCLUDED.content_hash, "
                    "chunks = EXCLUDED.chunks, embedding = EXCLUDED.embedding"
                ),
                (item_id, content_hash, len(chunks), item),
            )
            conn.execute(self._sql("DELETE FROM {chunks} WHERE item_id = %s"), (item_id,))
            if len(chunks):
                with conn.cursor().copy(
                    self._sql("COPY {chunks} (item_id, chunk, embedding) FROM STDIN (FORMAT BINARY)")
                ) as copy:
                    copy.write(_binary_chunk_rows(item_id, chunks))

    def delete(self, item_ids: list[str]) -> None:
        """Forget these items (unknown ids are ignored)."""
        if not item_ids:
            return
        ids = sorted(set(item_ids))  # rows locked in one order, so two deleting writers cannot deadlock
        with self._errors() as conn, conn.transaction():
            conn.execute(self._sql("DELETE FROM {items} WHERE item_id = ANY(%s)"), (ids,))
            conn.execute(self._sql("DELETE FROM {chunks} WHERE item_id = ANY(%s)"), (ids,))

    def flush(self) -> None:
        """Build the HNSW indexes a rebuild left for last; every upsert and delete is already committed."""
        if not self._graph_pending:
            return
        with self._errors() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
            # pgvector builds much faster while the graph fits in memory; the default 64 MB holds only
            # some 20k vectors of 384 dimensions. SET LOCAL: the larger budget ends with this build.
            conn.execute(f"SET LOCAL maintenance_work_mem = '{_BUILD_MEMORY}'")
            self._create_graph()
        self._graph_pending = False

    def refresh(self) -> None:
        """Nothing to do: every read asks the server, which holds what any writer committed."""

    # -- reads ---------------------------------------------------------------------------------

    def entries(self) -> dict[str, IndexEntry]:
        """Every item held, by id."""
        with self._errors() as conn:
            rows = conn.execute(self._sql("SELECT item_id, content_hash, chunks FROM {items}")).fetchall()
        return {item_id: IndexEntry(item_id, content_hash, chunks) for item_id, content_hash, chunks in rows}

    def item_vector(self, item_id: str) -> np.ndarray | None:
        """The item-level vector of one item, or None when absent."""
        with self._errors() as conn:
            row = conn.execute(
                self._sql("SELECT embedding FROM {items} WHERE item_id = %s"), (item_id,), binary=True
            ).fetchone()
        return None if row is None else row[0]

    def chunk_vectors(self, item_id: str) -> np.ndarray | None:
        """The chunk-level vectors of one item in chunk order (shape (n, dim), n may be 0), or None when absent."""
        # The join yields one row with a NULL embedding for an item without chunks and none for an unknown id.
        statement = "SELECT c.embedding FROM {items} i LEFT JOIN {chunks} c USING (item_id) WHERE i.item_id = %s"
        with self._errors() as conn:
            rows = conn.execute(self._sql(statement + " ORDER BY c.chunk"), (item_id,), binary=True).fetchall()
        vectors = [vector for (vector,) in rows if vector is not None]
        return None if not rows else np.array(vectors, dtype=np.float32).reshape(-1, self.dimension)

    def query_items(self, vector: np.ndarray, k: int, exclude: set[str] | None = None) -> list[VectorHit]:
        """Nearest items by their item-level vectors, best first."""
        query = self._query_vector(vector)
        if k <= 0:
            return []
        skip = sorted(exclude or ())
        statement = self._sql(
            "SELECT item_id, embedding <=> %b FROM {items} "
            + ("WHERE NOT item_id = ANY(%s) " if skip else "")
            + "ORDER BY embedding <=> %b LIMIT %s"
        )
        params = (query, skip, query, k) if skip else (query, query, k)
        with self._errors() as conn:
            rows = conn.execute(statement, params).fetchall()
            if len(rows) < k:
                # Iterative scans bring back k rows despite `exclude` unless they stop at
                # hnsw.max_scan_tuples; an exact scan settles whether fewer exist.
                rows = _exact(conn, statement, params)
        return [VectorHit(item_id, _similarity(distance), -1) for item_id, distance in rows]

    def query_chunks(self, vector: np.ndarray, k: int) -> list[VectorHit]:
        """Nearest items by their best-matching chunk vector, best first, one hit per item."""
        query = self._query_vector(vector)
        if k <= 0:
            return []
        nearest = self._sql("SELECT item_id, chunk, embedding <=> %b FROM {chunks} ORDER BY embedding <=> %b LIMIT %s")
        fetch = 4 * k
        with self._errors() as conn:
            while True:
                rows = conn.execute(nearest, (query, query, fetch)).fetchall()
                # Rows come best first, so the first row seen of an item is its best chunk.
                best: dict[str, VectorHit] = {}
                for item_id, chunk, distance in rows:
                    if item_id not in best:
                        best[item_id] = VectorHit(item_id, _similarity(distance), chunk)
                if len(best) >= k:
                    return list(best.values())[:k]
                if len(rows) < fetch:
                    break
                fetch *= 4
            # Fewer than k items: the scan ran out of chunks or hit hnsw.max_scan_tuples; only an
            # exact scan tells which, so ask for each item's best chunk over every row.
            grouped = self._sql(
                "SELECT item_id, chunk, distance FROM (SELECT DISTINCT ON (item_id) item_id, chunk, "
                "embedding <=> %b AS distance FROM {chunks} ORDER BY item_id, distance) AS best "
                "ORDER BY distance LIMIT %s"
            )
            rows = _exact(conn, grouped, (query, k))
        return [VectorHit(item_id, _similarity(distance), chunk) for item_id, chunk, distance in rows]

    # -- internals -----------------------------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[Any]:
        """The open connection, under the lock; whatever psycopg raises becomes one BackendError line."""
        with self._lock:
            if self._conn.broken or self._conn.closed:
                # The server restarted or the network dropped: the next call gets a fresh connection.
                self._conn = _connect(self._conninfo)
                self._configure(self._conn)
            try:
                yield self._conn
            except ShadowmatchError:
                raise
            except Exception as exc:  # psycopg's errors; ValueError for bad input is raised before this
                raise BackendError(f"{self._where}: {_one_line(exc)}") from exc

    def _sql(self, template: str) -> Any:
        """``template`` with {items}, {chunks}, {meta} and their index names quoted as identifiers."""
        from psycopg import sql

        names = {
            "items": f"{self._prefix}_item_vectors",
            "chunks": f"{self._prefix}_chunk_vectors",
            "meta": f"{self._prefix}_vector_meta",
            "items_hnsw": f"{self._prefix}_item_vectors_hnsw",
            "chunks_hnsw": f"{self._prefix}_chunk_vectors_hnsw",
        }
        return sql.SQL(template).format(**{key: sql.Identifier(name) for key, name in names.items()})

    def _prepare_tables(self, rebuild: bool) -> None:
        """Create what is missing (any number of processes may race here) and check what the tables record."""
        conn = self._conn
        with conn.transaction():
            recorded, complete = (None, False) if rebuild else self._inspect()
            if not complete:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
                if rebuild:
                    conn.execute(self._sql("DROP TABLE IF EXISTS {items}, {chunks}, {meta}"))
                else:
                    # What a process that held the lock before us made. Even a no-op CREATE INDEX IF NOT
                    # EXISTS waits for that process's writes to end, so nothing complete is touched again.
                    recorded, complete = self._inspect()
                if not complete and recorded in (None, (self.model, self.dimension)):
                    self._create_tables(graph=not rebuild)
                    recorded, _ = self._inspect()
            if recorded != (self.model, self.dimension):
                found = recorded or ("?", "?")
                raise IndexMismatchError(
                    f"{self._where} were built with model {found[0]!r} (dimension {found[1]}), not "
                    f"{self.model!r} (dimension {self.dimension}); run `smkb reindex` to rebuild them"
                )
        # A rebuild loads every vector before the first flush: one CREATE INDEX over the loaded rows
        # (parallel, in bulk) is far faster than growing the graph one insert at a time.
        self._graph_pending = rebuild and self.dimension <= _MAX_INDEXED_DIMENSION

    def _inspect(self) -> tuple[tuple[str, int] | None, bool]:
        """The (model, dimension) the tables record (None when not yet), and whether every table and index exists."""
        parts = ["item_vectors", "chunk_vectors", "vector_meta"]
        if self.dimension <= _MAX_INDEXED_DIMENSION:
            parts += ["item_vectors_hnsw", "chunk_vectors_hnsw"]
        names = [f"{self._prefix}_{part}" for part in parts]
        found = self._conn.execute("SELECT to_regclass(n) FROM unnest(%s::text[]) AS n", (names,)).fetchall()
        present = [relation is not None for (relation,) in found]
        row = self._conn.execute(self._sql("SELECT model, dimension FROM {meta}")).fetchone() if present[2] else None
        recorded = None if row is None else (str(row[0]), int(row[1]))
        return recorded, all(present) and recorded is not None

    def _create_tables(self, graph: bool) -> None:
        """DDL, run under DDL_LOCK_KEY; every step is idempotent so a second process's run is a no-op."""
        conn = self._conn
        installed = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
        if installed is None:  # skipped when present, so a role that may not create extensions can open
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        column = f"vector({self.dimension})"
        conn.execute(
            self._sql(
                "CREATE TABLE IF NOT EXISTS {meta} (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), "
                "model text NOT NULL, dimension integer NOT NULL, format integer NOT NULL)"
            )
        )
        conn.execute(
            self._sql(
                "CREATE TABLE IF NOT EXISTS {items} (item_id text PRIMARY KEY, content_hash text NOT NULL, "
                f"chunks integer NOT NULL, embedding {column} NOT NULL)"
            )
        )
        conn.execute(
            self._sql(
                "CREATE TABLE IF NOT EXISTS {chunks} (item_id text NOT NULL, chunk integer NOT NULL, "
                f"embedding {column} NOT NULL, PRIMARY KEY (item_id, chunk))"
            )
        )
        if graph and self.dimension <= _MAX_INDEXED_DIMENSION:
            self._create_graph()
        conn.execute(
            self._sql("INSERT INTO {meta} (model, dimension, format) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"),
            (self.model, self.dimension, _FORMAT),
        )

    def _create_graph(self) -> None:
        """The two HNSW indexes (cosine), in the caller's transaction."""
        method = (
            f"USING hnsw (embedding vector_cosine_ops) WITH (m = {MAX_NEIGHBORS}, ef_construction = {EF_CONSTRUCTION})"
        )
        self._conn.execute(self._sql("CREATE INDEX IF NOT EXISTS {items_hnsw} ON {items} " + method))
        self._conn.execute(self._sql("CREATE INDEX IF NOT EXISTS {chunks_hnsw} ON {chunks} " + method))

    def _configure(self, conn: Any) -> None:
        """Session settings every query relies on, and the vector type's adapters."""
        conn.execute(f"SET hnsw.ef_search = {int(self.ef_search)}")
        # Without it an HNSW scan stops after ef_search rows, so LIMIT k over-fetches (for `exclude`
        # and for one hit per item) would come back short. strict_order keeps rows sorted by distance.
        conn.execute("SET hnsw.iterative_scan = strict_order")
        # psycopg prepares a statement after five runs, and a generic plan cannot see the LIMIT;
        # planning each query afresh keeps the HNSW index scan (planning costs microseconds).
        conn.execute("SET plan_cache_mode = force_custom_plan")
        _register_vector_type(conn)

    def _query_vector(self, vector: np.ndarray) -> np.ndarray:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape != (self.dimension,):
            raise ValueError(f"query vector has shape {query.shape}, expected ({self.dimension},)")
        return normalised(query)


# -- module helpers ------------------------------------------------------------------------------


def _connect(conninfo: str) -> Any:
    """An autocommit connection (writes open their own transactions); one BackendError line when it fails."""
    try:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
    except ImportError as exc:
        raise BackendError(
            f"the PostgreSQL vector index needs psycopg ({exc}); "
            "install it with: pip install 'shadowmatch_kb[postgres]'"
        ) from exc
    try:
        options = conninfo_to_dict(conninfo)
    except psycopg.Error as exc:
        raise BackendError(f"not a PostgreSQL connection URL: {_redacted(_one_line(exc))}") from exc
    port = str(options.get("port") or "5432")
    if not all(part.strip().isdigit() for part in port.split(",")):
        # Caught here: psycopg would first look the host up (DNS) only to fail on the port.
        raise BackendError(f"not a PostgreSQL connection URL: port {port!r} is not a number ({_describe(conninfo)})")
    timeout: dict[str, Any] = {} if "connect_timeout" in options else {"connect_timeout": _CONNECT_TIMEOUT_S}
    try:
        return psycopg.connect(conninfo, autocommit=True, **timeout)
    except psycopg.Error as exc:
        raise BackendError(
            f"cannot connect to PostgreSQL at {_describe(conninfo)}: {_redacted(_one_line(exc))}"
        ) from exc


def _describe(conninfo: str) -> str:
    """host:port/database of a connection string, never its password."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        options = conninfo_to_dict(conninfo)
    except Exception:
        return "an unreadable address"
    host = str(options.get("host") or options.get("hostaddr") or "localhost")
    port = f":{options['port']}" if options.get("port") else ""
    return f"{host}{port}/{options.get('dbname') or options.get('user') or ''}"


def _redacted(text: str) -> str:
    """``text`` with the password of any URL in it masked (libpq quotes a URL it cannot parse)."""
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def _one_line(exc: BaseException) -> str:
    """psycopg's messages span lines (a hint, the libpq detail); the CLI prints one."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _register_vector_type(conn: Any) -> None:
    """Send numpy arrays as binary ``vector`` parameters and read ``vector`` results back as arrays."""
    from psycopg.adapt import Dumper, Loader
    from psycopg.pq import Format
    from psycopg.types import TypeInfo

    info = TypeInfo.fetch(conn, "vector")
    if info is None:
        raise BackendError("the pgvector extension is not installed in this database")

    class VectorDumper(Dumper):
        format = Format.BINARY
        oid = info.oid

        def dump(self, obj: Any) -> bytes:
            return struct.pack("!HH", len(obj), 0) + np.asarray(obj, dtype=">f4").tobytes()

    class VectorLoader(Loader):
        format = Format.BINARY

        def load(self, data: Any) -> np.ndarray:
            return np.frombuffer(data, dtype=">f4", offset=4).astype(np.float32)

    conn.adapters.register_dumper(np.ndarray, VectorDumper)
    conn.adapters.register_loader(info.oid, VectorLoader)


def _binary_chunk_rows(item_id: str, chunks: np.ndarray) -> bytes:
    """The COPY BINARY stream of (item_id, chunk, embedding) rows: no text formatting of floats."""
    name = item_id.encode("utf-8")
    vector_bytes = 4 + 4 * chunks.shape[1]
    parts = [_COPY_HEADER]
    for number, vector in enumerate(np.asarray(chunks, dtype=">f4")):
        parts.append(struct.pack("!hi", 3, len(name)) + name)
        parts.append(struct.pack("!iiiHH", 4, number, vector_bytes, chunks.shape[1], 0) + vector.tobytes())
    parts.append(_COPY_TRAILER)
    return b"".join(parts)


def _exact(conn: Any, statement: Any, params: tuple) -> list[tuple]:
    """Run a nearest-neighbour statement as an exact scan: the HNSW index is switched off for it alone."""
    with conn.transaction():
        # Both, so a session that turned sequential scans off still gets one rather than the index.
        conn.execute("SET LOCAL enable_indexscan = off")
        conn.execute("SET LOCAL enable_seqscan = on")
        return conn.execute(statement, params).fetchall()


def _similarity(distance: float | None) -> float:
    """pgvector's cosine distance is 1 - cosine similarity; a zero vector has none (NaN), counted as 0."""
    if distance is None or math.isnan(distance):
        return 0.0
    return max(-1.0, min(1.0, 1.0 - float(distance)))
