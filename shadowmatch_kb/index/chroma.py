"""ChromaIndex: item and chunk vectors in two Chroma collections (embedded or on a server).

Chroma never embeds here: collections are created with ``embedding_function=None`` and are given
vectors, because its default embedding function downloads a model and the project is offline.
``chromadb`` is imported only by the constructors, so importing this module stays cheap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from shadowmatch_kb.errors import BackendError, IndexMismatchError, ShadowmatchError
from shadowmatch_kb.index.base import IndexEntry, VectorHit, checked_vectors, normalised

__all__ = ["DEFAULT_EF_SEARCH", "EF_CONSTRUCTION", "MAX_NEIGHBORS", "ChromaIndex"]

# Recall@10 against exact search (scripts/bench_chroma_recall.py, 10k vectors, M=32,
# ef_construction=200): real sentence embeddings 50 -> 0.98, 100 -> 0.996, 500 -> 1.0; random unit
# vectors (the hard case) 100 -> 0.78, 200 -> 0.93, 500 -> 0.997. 500 keeps a margin as collections
# grow, for about a millisecond per query.
DEFAULT_EF_SEARCH = 500
# Fixed at creation; a denser graph built more carefully than Chroma's defaults (16, 100) costs
# little at knowledge-base sizes and lifts recall for every ef_search.
MAX_NEIGHBORS = 32
EF_CONSTRUCTION = 200
_FORMAT = 1
_WRITE_BATCH = 1000  # below Chroma's max batch size, and keeps a single request small
_AUTO_SYNC = 256  # buffered items written at once, so a long ingest never holds everything in memory
_DEFAULT_PORTS = {"http": 8000, "https": 443}
_LOCK_RETRIES = 6  # about 1.5 s in all


@dataclass(frozen=True)
class _Pending:
    content_hash: str
    item: np.ndarray
    chunks: np.ndarray


class ChromaIndex:
    """Cosine search over a Chroma ``<prefix>_items`` and ``<prefix>_chunks`` collection pair."""

    def __init__(
        self,
        client: Any,
        model: str,
        dimension: int,
        collection_prefix: str = "smkb",
        ef_search: int = DEFAULT_EF_SEARCH,
        *,
        rebuild: bool = False,
    ) -> None:
        """Use (or create) the collection pair on ``client``; ``rebuild`` drops them first (for reindex)."""
        if dimension <= 0:
            raise ValueError(f"dimension must be positive, got {dimension}")
        self.model = model
        self.dimension = dimension
        self.ef_search = ef_search
        self._client = client
        self._prefix = collection_prefix
        self._pending: dict[str, _Pending | None] = {}
        if rebuild:
            self._drop_collections()
        self._items = self._collection("items")
        self._chunks = self._collection("chunks")

    @classmethod
    def persistent(
        cls,
        path: Path,
        model: str,
        dimension: int,
        collection_prefix: str = "smkb",
        ef_search: int = DEFAULT_EF_SEARCH,
        *,
        rebuild: bool = False,
    ) -> ChromaIndex:
        """Open (or create) an index stored by an embedded Chroma in ``path``."""
        chromadb, Settings = _chromadb()

        with _backend_errors(f"Chroma at {path}"):
            client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
        return cls(client, model, dimension, collection_prefix, ef_search, rebuild=rebuild)

    @classmethod
    def http(
        cls,
        url: str,
        model: str,
        dimension: int,
        collection_prefix: str = "smkb",
        ef_search: int = DEFAULT_EF_SEARCH,
        *,
        rebuild: bool = False,
    ) -> ChromaIndex:
        """Open (or create) an index on a Chroma server, e.g. ``http://127.0.0.1:8000``."""
        parts = urlsplit(url if "://" in url else f"http://{url}")
        try:
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        except ValueError:
            port = None
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or port is None:
            raise BackendError(f"not a Chroma server URL: {url!r} (expected http://HOST:PORT)")
        chromadb, Settings = _chromadb()

        with _backend_errors(f"the Chroma server at {url}"):
            client = chromadb.HttpClient(
                host=parts.hostname,
                port=port,
                ssl=parts.scheme == "https",
                settings=Settings(anonymized_telemetry=False),
            )
        return cls(client, model, dimension, collection_prefix, ef_search, rebuild=rebuild)

    # -- writes (buffered; written in batches before any read and by flush) ------------------

    def upsert(self, item_id: str, content_hash: str, item_vector: np.ndarray, chunk_vectors: np.ndarray) -> None:
        """Store or replace an item's vectors (shape (dim,) and (n, dim))."""
        item, chunks = checked_vectors(item_id, self.dimension, item_vector, chunk_vectors)
        self._pending[item_id] = _Pending(content_hash, item, chunks)
        if len(self._pending) >= _AUTO_SYNC:
            self._sync()

    def delete(self, item_ids: list[str]) -> None:
        """Forget these items (unknown ids are ignored)."""
        for item_id in item_ids:
            self._pending[item_id] = None
        if len(self._pending) >= _AUTO_SYNC:
            self._sync()

    def flush(self) -> None:
        """Write buffered changes; Chroma makes each accepted write durable itself."""
        self._sync()

    def refresh(self) -> None:
        """Nothing to do: every read asks the Chroma server, which holds what any writer committed."""

    # -- reads ---------------------------------------------------------------------------------

    def entries(self) -> dict[str, IndexEntry]:
        """Every item held, by id."""
        self._sync()
        found: dict[str, IndexEntry] = {}
        offset = 0
        with _backend_errors(self._where()):
            while True:
                page = self._items.get(include=["metadatas"], limit=_WRITE_BATCH, offset=offset)
                for item_id, meta in zip(page["ids"], page["metadatas"] or [], strict=True):
                    found[item_id] = IndexEntry(item_id, str(meta["hash"]), int(meta["chunks"]))
                if len(page["ids"]) < _WRITE_BATCH:
                    return found
                offset += len(page["ids"])

    def item_vector(self, item_id: str) -> np.ndarray | None:
        """The item-level vector of one item, or None when absent."""
        if item_id in self._pending:
            pending = self._pending[item_id]
            return None if pending is None else pending.item.copy()
        with _backend_errors(self._where()):
            got = self._items.get(ids=[item_id], include=["embeddings"])
        if not got["ids"]:
            return None
        return np.asarray(got["embeddings"][0], dtype=np.float32)

    def chunk_vectors(self, item_id: str) -> np.ndarray | None:
        """The chunk-level vectors of one item in chunk order (shape (n, dim), n may be 0), or None when absent."""
        if item_id in self._pending:
            pending = self._pending[item_id]
            return None if pending is None else pending.chunks.copy()
        with _backend_errors(self._where()):
            owner = self._items.get(ids=[item_id], include=[])
            if not owner["ids"]:
                return None
            got = self._chunks.get(where={"item": item_id}, include=["embeddings", "metadatas"])
        # Chroma returns rows in no promised order; the chunk number in each row's metadata restores it.
        order = np.argsort([int(meta["chunk"]) for meta in got["metadatas"] or []], kind="stable")
        vectors = np.asarray(got["embeddings"], dtype=np.float32).reshape(-1, self.dimension)
        return vectors[order]

    def query_items(self, vector: np.ndarray, k: int, exclude: set[str] | None = None) -> list[VectorHit]:
        """Nearest items by their item-level vectors, best first."""
        query = self._query_vector(vector)
        if k <= 0:
            return []
        self._sync()
        skip = exclude or set()
        # Over-fetch by the number excluded so k hits remain after dropping them.
        ids, distances, _ = self._query(self._items, query, k + len(skip), include_meta=False)
        pairs = zip(ids, distances, strict=True)
        return [VectorHit(i, _similarity(d), -1) for i, d in pairs if i not in skip][:k]

    def query_chunks(self, vector: np.ndarray, k: int) -> list[VectorHit]:
        """Nearest items by their best-matching chunk vector, best first, one hit per item."""
        query = self._query_vector(vector)
        if k <= 0:
            return []
        self._sync()
        fetch = 4 * k
        while True:
            # Results come best first, so the first chunk seen of an item is its best chunk.
            ids, distances, metas = self._query(self._chunks, query, fetch, include_meta=True)
            best: dict[str, VectorHit] = {}
            for distance, meta in zip(distances, metas, strict=True):
                owner = str(meta["item"])
                if owner not in best:
                    best[owner] = VectorHit(owner, _similarity(distance), int(meta["chunk"]))
            if len(best) >= k or len(ids) < fetch:
                return list(best.values())[:k]
            fetch *= 4

    # -- internals -----------------------------------------------------------------------------

    def _where(self) -> str:
        return f"the Chroma collections {self._prefix}_items/_chunks"

    def _collection(self, kind: str) -> Any:
        name = f"{self._prefix}_{kind}"
        hnsw = {
            "space": "cosine",
            "ef_construction": EF_CONSTRUCTION,
            "max_neighbors": MAX_NEIGHBORS,
            "ef_search": self.ef_search,
        }
        meta = {"model": self.model, "dimension": self.dimension, "format": _FORMAT}
        with _backend_errors(f"the Chroma collection {name}"):
            collection = _retrying(
                self._client.get_or_create_collection,
                name=name,
                configuration={"hnsw": hnsw},
                metadata=meta,
                embedding_function=None,
            )
            found = collection.metadata or {}
            config = (collection.configuration or {}).get("hnsw") or {}
            if found.get("model") != self.model or found.get("dimension") != self.dimension:
                raise IndexMismatchError(
                    f"the Chroma collection {name} was built with model {found.get('model')!r} "
                    f"(dimension {found.get('dimension')}), not {self.model!r} (dimension {self.dimension}); "
                    "run `smkb reindex` to rebuild it"
                )
            if config.get("space") != "cosine":
                raise IndexMismatchError(
                    f"the Chroma collection {name} does not use cosine distance; run `smkb reindex` to rebuild it"
                )
            if config.get("ef_search") != self.ef_search:
                _retrying(collection.modify, configuration={"hnsw": {"ef_search": self.ef_search}})
        return collection

    def _drop_collections(self) -> None:
        with _backend_errors(self._where()):
            existing = {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
            for kind in ("items", "chunks"):
                if f"{self._prefix}_{kind}" in existing:
                    _retrying(self._client.delete_collection, name=f"{self._prefix}_{kind}")

    def _query_vector(self, vector: np.ndarray) -> np.ndarray:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape != (self.dimension,):
            raise ValueError(f"query vector has shape {query.shape}, expected ({self.dimension},)")
        return normalised(query)

    def _query(
        self, collection: Any, query: np.ndarray, n: int, include_meta: bool
    ) -> tuple[list[str], list[float], list[dict]]:
        include = ["distances", "metadatas"] if include_meta else ["distances"]
        with _backend_errors(self._where()):
            found = collection.query(query_embeddings=[query], n_results=n, include=include)
        metas = found["metadatas"][0] if include_meta and found["metadatas"] else []
        return list(found["ids"][0]), list(found["distances"][0]), list(metas)

    def _sync(self) -> None:
        """Write buffered changes: drop the old chunks of every touched item, then add the new rows."""
        if not self._pending:
            return
        touched = list(self._pending)
        live = [(i, p) for i, p in self._pending.items() if p is not None]
        gone = [i for i, p in self._pending.items() if p is None]
        with _backend_errors(self._where()):
            # Every step is idempotent (delete, upsert), so a retried or repeated sync is harmless.
            for batch in _batches(touched):
                _retrying(self._chunks.delete, where={"item": {"$in": batch}})
            for batch in _batches(gone):
                _retrying(self._items.delete, ids=batch)
            for batch in _batches(live):
                _retrying(
                    self._items.upsert,
                    ids=[i for i, _ in batch],
                    embeddings=np.stack([p.item for _, p in batch]),
                    metadatas=[{"hash": p.content_hash, "chunks": len(p.chunks)} for _, p in batch],
                )
            rows = [(f"{i}#{n}", i, n, vec) for i, p in live for n, vec in enumerate(p.chunks)]
            for batch in _batches(rows):
                _retrying(
                    self._chunks.upsert,
                    ids=[r[0] for r in batch],
                    embeddings=np.stack([r[3] for r in batch]),
                    metadatas=[{"item": r[1], "chunk": r[2]} for r in batch],
                )
        self._pending.clear()


def _similarity(distance: float) -> float:
    """Chroma's cosine distance is 1 - cosine similarity."""
    return max(-1.0, min(1.0, 1.0 - float(distance)))


def _batches(values: list) -> Iterator[list]:
    for start in range(0, len(values), _WRITE_BATCH):
        yield values[start : start + _WRITE_BATCH]


def _retrying(call: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a Chroma write, retrying briefly when its SQLite store reports itself locked.

    Embedded Chroma 1.5.9 sometimes answers "database is locked" at once (not after its busy
    timeout) when a write meets its own concurrent read; the write did not happen and can be rerun.
    """
    for attempt in range(_LOCK_RETRIES):
        try:
            return call(**kwargs)
        except Exception as exc:
            if "database is locked" not in str(exc) or attempt == _LOCK_RETRIES - 1:
                raise
            time.sleep(0.05 * 2**attempt)


@contextmanager
def _backend_errors(where: str) -> Iterator[None]:
    """Turn whatever Chroma or its transport raises into a BackendError naming the place."""
    try:
        yield
    except ShadowmatchError:
        raise
    except Exception as exc:  # chromadb raises ValueError, its own errors and httpx errors alike
        raise BackendError(f"{where}: {exc}") from exc


def _chromadb() -> tuple[Any, Any]:
    """The chromadb package and its Settings; the default install has neither (the ``[chroma]`` extra does)."""
    try:
        import chromadb
        from chromadb.config import Settings
    except ImportError as exc:
        raise BackendError(
            f"the Chroma index needs chromadb ({exc}); install it with: pip install 'shadowmatch_kb[chroma]'"
        ) from exc
    return chromadb, Settings
