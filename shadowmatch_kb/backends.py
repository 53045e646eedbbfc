"""The concrete parts a knowledge base runs on: its vector index and the embedders that fill and query it.

``kb.py`` composes the pipeline; this module only chooses and loads the parts, each once, on first use:
the index kind the configuration names (flat or Chroma), the model that built it, and that model's ONNX export,
which embeds documents, queries and Signals rows alike without torch (``embed.exports`` finds it by the model's
content, or builds it; what cannot be built is an error, never a slower path with a warning).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadowmatch_kb.config import Config
from shadowmatch_kb.embed.base import DEFAULT_MODEL, Embedder
from shadowmatch_kb.errors import BackendError, IndexMismatchError, NotFoundError
from shadowmatch_kb.index.base import VectorIndex
from shadowmatch_kb.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from shadowmatch_kb.embed.persistent import PersistentEmbedder
    from shadowmatch_kb.store.postgres import PostgresStore

__all__ = ["Backends", "RecordStore"]


class RecordStore:
    """The record store of a KB directory, opened once on first use.

    The knowledge base and its write pipeline share one; neither holds the other, so a knowledge base
    that is dropped is freed at once, with its models (no reference cycle to wait for the collector, which
    could otherwise run in a forked crawl worker and hang tearing down the parent's ONNX sessions there).
    """

    def __init__(self, config: Config) -> None:
        """``config`` says where the directory (or the Postgres database) is."""
        self.path = config.store_path
        self.config = config
        self._store: SqliteStore | None = None
        self.notices: list[str] = []  # of edits set aside when shared files were reconciled

    @property
    def exists(self) -> bool:
        """True when the directory (or the database) holds a record store."""
        if self._store is not None:
            return True
        if self.config.record_url:
            from shadowmatch_kb.store.postgres import PostgresStore

            return PostgresStore.holds_a_knowledge_base(self.config.record_url)
        return self.path.exists()

    def read(self) -> SqliteStore:
        """The store; a directory that has none is a clear error."""
        if self._store is None and not self.exists:
            where = "its tables are missing" if self.config.record_url else "corpus/kb.sqlite is missing"
            raise NotFoundError(
                f"no knowledge base in {self.config.kb_label} ({where}); "
                "create one with `smkb ingest PATH` or point --kb at one"
            )
        return self.create()

    def create(self) -> SqliteStore:
        """The store, created empty when the directory has none (writers only)."""
        if self._store is None:
            if self.config.record_url:
                from shadowmatch_kb.store.postgres import PostgresStore

                self._store = PostgresStore(self.config.record_url, aliases_dir=self.config.corpus_dir)
                self.share_files()
            else:
                self._store = SqliteStore(self.path)
        return self._store

    def share_files(self) -> None:
        """In a knowledge base in Postgres, reconcile this machine's copies of the files people edit (crawl sources,
        sector aliases, smkb.toml) with the database's (``store.shared_files``); nothing for a folder."""
        if self.config.record_url:
            from shadowmatch_kb.store.shared_files import reconcile

            self.notices.extend(reconcile(self.create().db, self.config.kb_dir))  # type: ignore[arg-type]

    def close(self) -> None:
        """Release the connection."""
        if self._store is not None:
            self._store.close()
            self._store = None


class Backends:
    """The index and the embedders of one knowledge-base directory, loaded lazily and kept."""

    def __init__(
        self,
        config: Config,
        *,
        doc_embedder: Embedder | None = None,
        kb_id: Callable[[], str | None] = lambda: None,
        record: RecordStore | None = None,
    ) -> None:
        """``doc_embedder`` lets a caller (a benchmark, a server) reuse a model it already loaded; ``kb_id`` gives
        the knowledge base's identity, which names its collections on a Chroma server; ``record`` is the record
        store, which keeps what built the index when the knowledge base is in Postgres."""
        self.config = config
        self._kb_id = kb_id
        self._record = record
        self._index: VectorIndex | None = None
        self._doc_embedder = doc_embedder
        self._query_embedder: Embedder | None = None
        self._signal_embedder: PersistentEmbedder | None = None

    def close(self) -> None:
        """Release the on-disk vector cache of Signals rows."""
        if self._signal_embedder is not None:
            self._signal_embedder.close()
            self._signal_embedder = None

    # ----- the index ---------------------------------------------------------------------

    @property
    def _meta_path(self) -> Path:
        return self.config.indexes_dir / "index.json"

    def _shared_store(self) -> PostgresStore | None:
        """The Postgres store, where the knowledge base is one: there every machine reads what built its index."""
        if not self.config.record_url or self._record is None:
            return None
        return self._record.create()  # type: ignore[return-value]

    def index_meta(self) -> dict[str, Any] | None:
        """What built the index (kind, model, dimension), or None when there is no index."""
        shared = self._shared_store()
        if shared is not None:
            text = shared.meta("index")
            return dict(json.loads(text)) if text else None
        try:
            return dict(json.loads(self._meta_path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise BackendError(f"{self._meta_path} is unreadable ({exc}); run `smkb reindex`") from exc

    def write_meta(self, model: str, dimension: int) -> None:
        """Record which kind of index and which model built it (atomically)."""
        meta: dict[str, Any] = {"kind": self.config.index_kind, "model": model, "dimension": dimension}
        if self.config.chroma_url:
            meta["chroma_url"] = self.config.chroma_url
        if self.config.index_kind == "chroma":
            meta["chroma_collection"] = self._chroma_prefix(rebuild=True)
        shared = self._shared_store()
        if shared is not None:
            shared.set_meta("index", json.dumps(meta))
            return
        self._meta_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2) + "\n")
        os.replace(tmp, self._meta_path)

    @property
    def model_name(self) -> str:
        """The embedding model: the one asked for, else the index's, else the bundled default."""
        meta = self.index_meta()
        if self.config.model:
            if meta and meta["model"] != self.config.model:
                raise IndexMismatchError(
                    f"the index was built with {meta['model']!r}, not {self.config.model!r}; "
                    f"run `smkb reindex --model {self.config.model}` to rebuild it with the new model"
                )
            return self.config.model
        return str(meta["model"]) if meta else DEFAULT_MODEL

    def make_index(self, model: str, dimension: int, *, rebuild: bool = False) -> VectorIndex:
        """A new handle on the configured kind of index (``rebuild`` replaces whatever is there)."""
        if self.config.index_kind == "flat":
            from shadowmatch_kb.index.flat import FlatIndex

            return FlatIndex(self.config.indexes_dir / "flat", model, dimension, rebuild=rebuild)
        if self.config.index_kind == "pgvector" and self.config.record_url:
            from shadowmatch_kb.index.pgvector import PgVectorIndex

            return PgVectorIndex(self.config.record_url, model, dimension, rebuild=rebuild)
        from shadowmatch_kb.index.chroma import ChromaIndex

        options = {"model": model, "dimension": dimension, "rebuild": rebuild,
                   "collection_prefix": self._chroma_prefix(rebuild=rebuild)}  # fmt: skip
        if self.config.chroma_url:
            return ChromaIndex.http(self.config.chroma_url, **options)  # type: ignore[arg-type]
        return ChromaIndex.persistent(self.config.indexes_dir / "chroma", **options)  # type: ignore[arg-type]

    def index(self) -> VectorIndex | None:
        """The vector index for queries, or None when none has been built yet."""
        if self._index is None:
            meta = self.index_meta()
            if meta is None:
                return None
            if meta.get("kind", "flat") != self.config.index_kind:
                raise IndexMismatchError(
                    f"the index of {self.config.kb_label} is a {meta.get('kind')} index, "
                    f"not {self.config.index_kind}; run `smkb reindex` to rebuild it"
                )
            self._index = self.make_index(self.model_name, int(meta["dimension"]))
        else:
            self._index.refresh()  # a long-lived reader sees what writers committed since it opened
        return self._index

    def writable_index(self) -> VectorIndex:
        """The index, created (with its record of the model) when there is none yet."""
        index = self.index()
        if index is None:
            embedder = self.doc_embedder()
            index = self.make_index(embedder.model_name, embedder.dimension)
            self.write_meta(embedder.model_name, embedder.dimension)
            self._index = index
        return index

    def rebuild_index(self, model: str) -> tuple[VectorIndex, Embedder]:
        """A fresh index for ``model`` that replaces the old one when flushed, and the model's embedder.

        The model may differ from the one that built the old index: that is what a rebuild is for.
        """
        if self._doc_embedder is None or self._doc_embedder.model_name != model:
            from shadowmatch_kb.embed.exports import load_embedder

            self._doc_embedder = load_embedder(self.config.indexes_dir, model, spinning=True)
        from dataclasses import replace

        self.config = replace(self.config, model=model)
        embedder = self._doc_embedder
        # A rebuild opens over whatever is there (another model, a damaged file) and replaces it;
        # the flat index keeps serving the old vectors until the new ones are flushed.
        self._index = self.make_index(embedder.model_name, embedder.dimension, rebuild=True)
        return self._index, embedder

    def _chroma_prefix(self, *, rebuild: bool) -> str:
        """The name of the knowledge base's collections in Chroma.

        A Chroma index holds the vectors of one knowledge base only: syncing it removes every vector whose item is
        not in that knowledge base's record. On a server several knowledge bases may meet, so each names its
        collections by its own identity, unless ``SMKB_CHROMA_COLLECTION`` names them. An index built before
        collections were named so keeps the shared name "smkb" until ``smkb reindex`` moves it to its own.
        """
        if self.config.chroma_collection:
            return self.config.chroma_collection
        meta = self.index_meta()
        if meta is not None and meta.get("kind") == "chroma" and (meta.get("chroma_collection") or not rebuild):
            return str(meta.get("chroma_collection") or "smkb")
        kb_id = self._kb_id() if self.config.chroma_url else None  # a local Chroma folder is this KB's alone
        return f"smkb_{kb_id}" if kb_id else "smkb"

    # ----- the embedders --------------------------------------------------------------------

    def doc_embedder(self) -> Embedder:
        """The model that embeds documents and enrichment's sentences: its ONNX export, built first when missing
        (loaded once, on first use). Its idle threads spin between runs: importing and enriching are many small
        runs back to back."""
        if self._doc_embedder is None:
            from shadowmatch_kb.embed.exports import load_embedder

            self._doc_embedder = load_embedder(self.config.indexes_dir, self.model_name, spinning=True)
        return self._doc_embedder

    def query_embedder(self) -> Embedder:
        """The ONNX embedder for queries (threads that sleep between runs: a query is a handful of them)."""
        if self._query_embedder is None:
            from shadowmatch_kb.embed.exports import load_embedder

            self._query_embedder = load_embedder(self.config.indexes_dir, self.model_name)
        return self._query_embedder

    def signal_embedder(self) -> Embedder:
        """The query embedder with its vectors of Signals rows kept on disk: briefings and the tracker compare
        the same rows run after run."""
        if self._signal_embedder is None:
            from shadowmatch_kb.embed.persistent import PersistentEmbedder, cache_path_for

            path = cache_path_for(self.config.indexes_dir, self.model_name, "signals")
            self._signal_embedder = PersistentEmbedder(self.query_embedder(), path)
        return self._signal_embedder

    def onnx_exported(self) -> bool:
        """True when the model's ONNX export is on disk."""
        from shadowmatch_kb.embed.exports import export_dir_for

        return (export_dir_for(self.config.indexes_dir, self.model_name) / "export.json").exists()
