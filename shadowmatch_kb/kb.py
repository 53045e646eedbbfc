"""KnowledgeBase: opens a KB directory, picks the concrete backends and runs the pipeline.

This is the one place that constructs stores, indexes and embedders; the CLI and the web
layer talk only to this class and to the shapes in ``model``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadowmatch_kb.config import Config
from shadowmatch_kb.embed.base import DEFAULT_MODEL, Embedder
from shadowmatch_kb.errors import (
    BackendError,
    IndexMismatchError,
    InputError,
    LockTimeoutError,
    NotFoundError,
    ShadowmatchError,
)
from shadowmatch_kb.index.base import VectorIndex
from shadowmatch_kb.model import Item, SearchResult
from shadowmatch_kb.progress import NullProgress, Progress
from shadowmatch_kb.store.lock import WriteLock
from shadowmatch_kb.store.sqlite import ItemFilter, SqliteStore

if TYPE_CHECKING:
    from shadowmatch_kb.brief.model import Briefing
    from shadowmatch_kb.crawl.report import CrawlObserver, CrawlReport
    from shadowmatch_kb.crawl.run import CrawlOptions
    from shadowmatch_kb.crawl.sources import Source
    from shadowmatch_kb.embed.persistent import PersistentEmbedder
    from shadowmatch_kb.enrich.run import EnrichResult
    from shadowmatch_kb.enrich.sectors import SectorResolver
    from shadowmatch_kb.occupations.match import OccupationMatcher
    from shadowmatch_kb.occupations.service import ImportResult

__all__ = ["DoctorReport", "IngestResult", "KnowledgeBase"]


@dataclass
class IngestResult:
    """The outcome of one input, as in SPEC.md's ingest JSON."""

    input: str
    id: str | None
    status: str  # added | updated | unchanged | failed
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of SPEC.md."""
        return {"input": self.input, "id": self.id, "status": self.status, "error": self.error}


@dataclass
class DoctorReport:
    """Problems break the record or the index; notes are harmless (e.g. items not yet embedded)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class KnowledgeBase:
    """One knowledge-base directory: ``corpus/`` (the record) and ``indexes/`` (derived)."""

    def __init__(self, config: Config, *, doc_embedder: Embedder | None = None) -> None:
        """``doc_embedder`` lets a caller (a benchmark, a server) reuse a model it already loaded."""
        self.config = config
        self.notices: list[str] = []  # warnings for the user; the CLI prints them to stderr
        self._store: SqliteStore | None = None
        self._index: VectorIndex | None = None
        self._doc_embedder: Embedder | None = doc_embedder
        self._query_embedder: Embedder | None = None
        self._enrich_embedder: Embedder | None = None
        self._signal_embedder: PersistentEmbedder | None = None
        self._sector_resolver: SectorResolver | None = None
        self._occupation_matcher: OccupationMatcher | None = None

    @classmethod
    def open(cls, kb_dir: str | Path | None = None, **options: Any) -> KnowledgeBase:
        """Open the KB at ``kb_dir`` (else $SHADOWMATCH_KB, else the current directory)."""
        return cls(Config.resolve(kb_dir, **options))

    def close(self) -> None:
        """Release the store connection."""
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._signal_embedder is not None:
            self._signal_embedder.close()
            self._signal_embedder = None

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- backends -------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        """True when the directory holds a record store."""
        return self.config.store_path.exists()

    @property
    def store(self) -> SqliteStore:
        """The record store; reading a directory that has none is a clear error."""
        if self._store is None and not self.exists:
            raise NotFoundError(
                f"no knowledge base in {self.config.kb_dir} (corpus/kb.sqlite is missing); "
                "create one with `smkb ingest PATH` or point --kb at one"
            )
        return self._create_store()

    def _create_store(self) -> SqliteStore:
        """Open the record store, creating an empty one when the directory has none (writers only)."""
        if self._store is None:
            self._store = SqliteStore(self.config.store_path)
        return self._store

    @property
    def _meta_path(self) -> Path:
        return self.config.indexes_dir / "index.json"

    def index_meta(self) -> dict[str, Any] | None:
        """What built the index (kind, model, dimension), or None when there is no index."""
        try:
            return dict(json.loads(self._meta_path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise BackendError(f"{self._meta_path} is unreadable ({exc}); run `smkb reindex`") from exc

    def _write_meta(self, model: str, dimension: int) -> None:
        meta = {"kind": self.config.index_kind, "model": model, "dimension": dimension}
        if self.config.chroma_url:
            meta["chroma_url"] = self.config.chroma_url
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

    def _make_index(self, model: str, dimension: int, *, rebuild: bool = False) -> VectorIndex:
        if self.config.index_kind == "flat":
            from shadowmatch_kb.index.flat import FlatIndex

            return FlatIndex(self.config.indexes_dir / "flat", model, dimension, rebuild=rebuild)
        from shadowmatch_kb.index.chroma import ChromaIndex

        options = {"model": model, "dimension": dimension, "rebuild": rebuild,
                   "collection_prefix": self.config.chroma_collection}  # fmt: skip
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
                    f"the index in {self.config.indexes_dir} is a {meta.get('kind')} index, "
                    f"not {self.config.index_kind}; run `smkb reindex` to rebuild it"
                )
            self._index = self._make_index(self.model_name, int(meta["dimension"]))
        return self._index

    def _writable_index(self) -> VectorIndex:
        index = self.index()
        if index is None:
            embedder = self.doc_embedder()
            index = self._make_index(embedder.model_name, embedder.dimension)
            self._write_meta(embedder.model_name, embedder.dimension)
            self._index = index
        return index

    def doc_embedder(self) -> Embedder:
        """The sentence-transformers model that embeds documents (loaded once, on first use)."""
        if self._doc_embedder is None:
            from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

            self._doc_embedder = SentenceTransformerEmbedder(self.model_name)
        return self._doc_embedder

    def enrich_embedder(self) -> Embedder:
        """The embedder enrichment uses: the ONNX export of the document model (the same vectors, and
        faster for the many small batches an item needs), else the document model itself."""
        if self._enrich_embedder is None:
            from shadowmatch_kb.embed.onnx import OnnxEmbedder, export_dir_for

            self._ensure_onnx_export()
            try:
                self._enrich_embedder = OnnxEmbedder.load(
                    export_dir_for(self.config.indexes_dir, self.model_name), spinning=True
                )
            except BackendError:
                self._enrich_embedder = self.doc_embedder()
        return self._enrich_embedder

    def query_embedder(self) -> Embedder:
        """The fast ONNX query embedder, or sentence-transformers with a notice when not exported."""
        if self._query_embedder is None:
            from shadowmatch_kb.embed.onnx import load_query_embedder

            self._query_embedder, warning = load_query_embedder(self.config.indexes_dir, self.model_name)
            if warning:
                self.notices.append(warning)
        return self._query_embedder

    def signal_embedder(self) -> Embedder:
        """The query embedder with its vectors of Signals rows kept on disk: briefings and the tracker compare
        the same rows run after run."""
        if self._signal_embedder is None:
            from shadowmatch_kb.embed.persistent import PersistentEmbedder, cache_path_for

            path = cache_path_for(self.config.indexes_dir, self.model_name, "signals")
            self._signal_embedder = PersistentEmbedder(self.query_embedder(), path)
        return self._signal_embedder

    def sector_resolver(self) -> SectorResolver:
        """Maps questions to sectors; its description vectors come from the on-disk cache after the first run."""
        if self._sector_resolver is None:
            from shadowmatch_kb.enrich.sectors import SectorResolver

            self._sector_resolver = SectorResolver(self.signal_embedder())
        return self._sector_resolver

    def _ensure_onnx_export(self) -> None:
        """Export the document model to ONNX once, so later queries need no torch."""
        from shadowmatch_kb.embed.onnx import export_dir_for

        target = export_dir_for(self.config.indexes_dir, self.model_name)
        if (target / "export.json").exists():
            return
        embedder = self.doc_embedder()
        try:
            embedder.export_onnx(target)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - any exporter failure only costs query speed
            self.notices.append(f"could not export {self.model_name} to ONNX ({exc}); queries will be slower")

    def writing(self) -> WriteLock:
        """The write lock: one writer at a time; others wait for it."""
        return WriteLock(self.config.corpus_dir / "write.lock", timeout=self.config.lock_timeout)

    # ----- ingest -----------------------------------------------------------------------

    def ingest(
        self,
        inputs: Iterable[str],
        *,
        tags: Iterable[str] = (),
        allow_private: bool = False,
        progress: Progress | None = None,
    ) -> list[IngestResult]:
        """Import files, folders and URLs; one bad input never stops the others."""
        from shadowmatch_kb.ingest.readers import expand_inputs

        progress = progress or NullProgress()
        values = list(expand_inputs(inputs))
        tags = sorted({t.strip() for t in tags if t.strip()})
        results: list[IngestResult] = []
        with self.writing():
            self._create_store()
            progress.start("Importing", len(values))
            for value in values:
                results.append(self._ingest_one(value, tags, allow_private))
                progress.advance()
            progress.finish()
            self._enrich_pending(progress)
            self._sync(progress)
        return results

    def enrich(
        self, ids: Iterable[str] = (), *, all_items: bool = False, progress: Progress | None = None
    ) -> list[EnrichResult]:
        """(Re)compute summary, keywords, themes, sectors and signals of the items named, or of all."""
        from shadowmatch_kb.enrich.run import enrich_items

        wanted = [_normalise_id(i) for i in ids if i.strip()]
        for item_id in wanted:
            self.store.get(item_id)  # NotFoundError before any work
        with self.writing():
            results = enrich_items(
                self.store,
                self.enrich_embedder,
                wanted or None,
                force=bool(wanted) or all_items,
                progress=progress,
                notices=self.notices,
            )
            self._sync(progress or NullProgress())
        return results

    def _enrich_pending(self, progress: Progress) -> None:
        """Enrich the items an import or a crawl stored without computed fields (under the write lock)."""
        from shadowmatch_kb.enrich.run import enrich_items

        results = enrich_items(self.store, self.enrich_embedder, progress=progress, notices=self.notices)
        failed = [r for r in results if r.status == "failed"]
        if failed:
            self.notices.append(
                f"{len(failed)} item(s) could not be enriched (first: {failed[0].id}: {failed[0].error})"
            )

    def _ingest_one(self, value: str, tags: list[str], allow_private: bool) -> IngestResult:
        from shadowmatch_kb.ingest.duplicates import store_once
        from shadowmatch_kb.ingest.readers import read_input

        try:
            loaded = read_input(value, user_agent=self.config.user_agent, allow_private=allow_private)
            decision = store_once(self.store, loaded.item, loaded.raw, identical="link", tags=tags)
            return IngestResult(value, decision.item_id, decision.outcome)
        except InputError as exc:
            # The input is reported beside the error already: keep just the reason.
            return IngestResult(value, None, "failed", _one_line(exc.reason))
        except ShadowmatchError as exc:
            return IngestResult(value, None, "failed", _one_line(exc))
        except Exception as exc:  # noqa: BLE001 - a reader bug must not stop the other inputs
            return IngestResult(value, None, "failed", _one_line(exc, prefix=type(exc).__name__))

    # ----- crawl ------------------------------------------------------------------------------

    def sources(self, names: Iterable[str] = ()) -> list[Source]:
        """The registered sources, or those named (NotFoundError for a name not registered)."""
        from shadowmatch_kb.crawl.sources import SOURCES_FILE, load_sources

        registered = load_sources(self.config.corpus_dir / SOURCES_FILE)
        wanted = list(dict.fromkeys(n.strip() for n in names if n.strip()))
        if not wanted:
            return registered
        by_name = {source.name: source for source in registered}
        missing = [name for name in wanted if name not in by_name]
        if missing:
            known = ", ".join(sorted(by_name)) or "none"
            raise NotFoundError(f"no source named {', '.join(missing)} (registered: {known}); see `smkb sources list`")
        return [by_name[name] for name in wanted]

    def crawl(
        self,
        names: Iterable[str] = (),
        *,
        options: CrawlOptions | None = None,
        observer: CrawlObserver | None = None,
        progress: Progress | None = None,
        transport_factory: Any = None,
    ) -> CrawlReport:
        """Crawl registered sources (all, or those named) into the record, then index what was stored."""
        from shadowmatch_kb.crawl.articles import ArticleWriter
        from shadowmatch_kb.crawl.run import Crawler, CrawlOptions, start_extraction_workers
        from shadowmatch_kb.store.frontier import Frontier

        sources = self.sources(names)
        if not sources:
            raise NotFoundError(
                "no sources registered; add one with `smkb sources add NAME URL` or `smkb sources starter`"
            )
        if options is None:
            from shadowmatch_kb.fetch.async_http import FetchOptions

            options = CrawlOptions(fetch=FetchOptions(user_agent=self.config.user_agent))
        # One crawl at a time; items are written without the write lock (SQLite serialises writers),
        # which is taken only to index them, so an analyst's `smkb tag` never waits for a long crawl.
        crawl_lock = WriteLock(self.config.corpus_dir / "crawl.lock", timeout=0)
        # Workers first: forked later, they would inherit the lock and the database's file handles.
        extractor = start_extraction_workers(options.workers)
        try:
            try:
                crawl_lock.acquire()
            except LockTimeoutError:
                raise LockTimeoutError(
                    f"another `smkb crawl` is running on {self.config.kb_dir}; wait for it"
                ) from None
            try:
                store = self._create_store()
                crawler = Crawler(
                    Frontier(store.db),
                    ArticleWriter(store),
                    sources,
                    options,
                    transport_factory=transport_factory,
                    extractor=extractor,
                )
                report = crawler.run(observer)
            finally:
                crawl_lock.release()
        finally:
            if extractor is not None:
                extractor.shutdown(wait=False, cancel_futures=True)
        if report.stored and report.stopped != "interrupted":
            with self.writing():
                self._enrich_pending(progress or NullProgress())
                self._sync(progress or NullProgress())
        return report

    def _sync(self, progress: Progress) -> None:
        from shadowmatch_kb.index.sync import sync_index

        if self.store.count() == 0 and self.index() is None:
            return
        index = self._writable_index()
        sync_index(self.store, index, self.doc_embedder, progress=progress)
        if self._doc_embedder is not None:
            self._ensure_onnx_export()

    def reindex(self, *, progress: Progress | None = None) -> dict[str, Any]:
        """Rebuild every derived index from ``corpus/`` (with the configured model)."""
        from shadowmatch_kb.index.sync import sync_index

        progress = progress or NullProgress()
        with self.writing():
            self.store.rebuild_fts()
            old_meta = self.index_meta()
            # The model may differ from the one that built the old index: that is what reindex is for.
            target = self.config.model or (str(old_meta["model"]) if old_meta else DEFAULT_MODEL)
            if self._doc_embedder is None or self._doc_embedder.model_name != target:
                from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

                self._doc_embedder = SentenceTransformerEmbedder(target)
            self.config = _with_model(self.config, target)
            embedder = self._doc_embedder
            # A rebuild opens over whatever is there (another model, a damaged file) and replaces it;
            # the flat index keeps serving the old vectors until the new ones are flushed.
            self._index = self._make_index(embedder.model_name, embedder.dimension, rebuild=True)
            report = sync_index(self.store, self._index, lambda: embedder, progress=progress)
            self._index.flush()
            self._write_meta(embedder.model_name, embedder.dimension)
            self._ensure_onnx_export()
        return {
            "items": report.embedded,
            "chunks": report.chunks,
            "seconds": round(report.seconds, 2),
            "model": self.model_name,
            "index": self.config.index_kind,
        }

    # ----- occupations --------------------------------------------------------------------

    def import_occupations(self, paths: Iterable[str], *, progress: Progress | None = None) -> list[ImportResult]:
        """Import public occupation datasets (each as published); then embed the labels, so matching is warm."""
        from shadowmatch_kb.occupations.service import import_datasets, load_matcher

        with self.writing():
            results = import_datasets(self._create_store().db, paths, progress=progress)
        if any(r.dataset == "esco" for r in results):
            self._occupation_matcher = load_matcher(
                self.store.db, self._occupation_cache, self.enrich_embedder, progress
            )
        return results

    def match_occupations(self, text: str, k: int = 5) -> dict[str, Any]:
        """ISCO-08 unit groups for a person's words, with what each imported dataset says of them."""
        from shadowmatch_kb.occupations.service import load_matcher, match_question

        if self._occupation_matcher is None:  # a read: the query embedder never exports or loads torch itself
            self._occupation_matcher = load_matcher(self.store.db, self._occupation_cache, self.query_embedder)
        return match_question(self.store.db, self._occupation_matcher, text, k)

    @property
    def _occupation_cache(self) -> Path:
        return self.config.indexes_dir / "occupations"

    # ----- reads --------------------------------------------------------------------------

    def get(self, item_id: str) -> Item:
        """One item; NotFoundError when the id is unknown."""
        return self.store.get(_normalise_id(item_id))

    def enrichment_record(self, item_id: str) -> dict[str, Any] | None:
        """How an item's fields were computed (method, model, language, sector confidences); None if never."""
        from shadowmatch_kb.store.enrichment import enrichment_record

        return enrichment_record(self.store, _normalise_id(item_id))

    def list_items(self, where: ItemFilter | None = None, *, limit: int | None = None) -> list[Item]:
        """Items matching the filter, newest first."""
        ids = self.store.filtered_ids(where or ItemFilter(), limit=limit)
        found = self.store.get_many(ids)
        return [found[i] for i in ids if i in found]

    def tag(
        self,
        item_id: str,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        sectors: list[str] | None = None,
        themes: list[str] | None = None,
    ) -> Item:
        """Change an item's tags and correct its sectors or themes, as an analyst edit."""
        item_id = _normalise_id(item_id)
        with self.writing():
            add = [t.strip() for t in add if t.strip()]
            remove = [t.strip() for t in remove if t.strip()]
            self.store.add_tags(item_id, add, remove)
            if sectors is not None:
                self.store.record_edit(item_id, "sectors", _clean_list(sectors))
            if themes is not None:
                self.store.record_edit(item_id, "themes", _clean_list(themes))
        return self.store.get(item_id)

    def related(self, item_id: str, *, k: int = 10) -> list[SearchResult]:
        """The items closest to one item by the embedding index, best first."""
        item = self.get(item_id)
        index = self.index()
        vector = index.item_vector(item.id) if index is not None else None
        if index is None or vector is None:
            raise BackendError(f"item {item.id} is not in the index yet; run `smkb reindex`")
        same = {item.id} | ({item.duplicate_of} if item.duplicate_of else set())
        hits = index.query_items(vector, k + 10, exclude=same)
        rows = self.store.brief_rows([h.item_id for h in hits])
        results = []
        for hit in hits:
            row = rows.get(hit.item_id)
            # Duplicates are counted once: only the original of a group is listed.
            if row is None or row["duplicate_of"] is not None:
                continue
            results.append(SearchResult(row["id"], row["title"], row["url"], row["published"], hit.score))
        return results[:k]

    def closest(self, item_id: str, *, k: int = 5) -> list[SearchResult]:
        """Related items for rendering; empty, with a notice, when the index is not built."""
        try:
            return self.related(item_id, k=k)
        except BackendError as exc:
            self.notices.append(str(exc))
            return []

    def search(self, query: str, *, k: int = 10, where: ItemFilter | None = None) -> list[SearchResult]:
        """Hybrid keyword + semantic search with filters, best first."""
        from shadowmatch_kb.search.run import hybrid_search

        return hybrid_search(self, query, k=k, where=where or ItemFilter())

    def brief(self, question: str, *, since: str | None = None) -> Briefing:
        """The mentor's briefing for a question in their own words, every claim cited."""
        from shadowmatch_kb.brief.compose import build_briefing

        return build_briefing(self, question, since=since)

    def item_document(self, item_id: str, *, k: int = 5) -> dict[str, Any]:
        """The JSON of `smkb show --format json` (and the web's /api/items/{id}): the item, its Closest
        items, the copies of it and how its fields were computed."""
        item = self.get(item_id)
        closest = self.closest(item.id, k=k) if k else []
        data = item.to_dict()
        data["closest"] = [{"id": c.id, "title": c.title, "score": round(c.score, 4)} for c in closest]
        data["duplicates"] = self.store.duplicates_of(item.id)
        data["enrichment"] = self.enrichment_record(item.id)
        return data

    def size(self) -> dict[str, Any]:
        """How many items the knowledge base holds and the date of the newest (for page footers)."""
        if not self.exists:
            return {"items": 0, "newest": None}
        items, newest = self.store.size()
        return {"items": items, "newest": newest}

    def version(self) -> int | None:
        """Changes whenever another process writes to the record: a key for caches of what was read."""
        return self.store.data_version() if self.exists else None

    def sector_counts(self) -> dict[str, int]:
        """Items per ISIC section (a post's own "healthcare" and a computed "healthcare and social care" are
        one), copies left out, most first."""
        from shadowmatch_kb.store.timeline import dated_items

        resolver = self.sector_resolver()
        counts: dict[str, int] = {}
        for dated in dated_items(self.store):
            if dated.duplicate_of:
                continue
            for section in {resolver.normalise(label) for label in dated.sectors} - {None}:
                counts[str(section)] = counts.get(str(section), 0) + 1
        return dict(sorted(counts.items(), key=lambda entry: (-entry[1], entry[0])))

    def iter_all(self) -> Iterator[Item]:
        """Every item, in id order, in batches (for export)."""
        ids = sorted(self.store.content_hashes())
        for start in range(0, len(ids), 200):
            batch = ids[start : start + 200]
            found = self.store.get_many(batch)
            for item_id in batch:
                yield found[item_id]

    def stats(self) -> dict[str, Any]:
        """Counts of the record and the state of the index."""
        from shadowmatch_kb.index.sync import pending_changes

        counts = self.store.stats()
        counts["sectors"] = self.store.facet_counts("sectors")
        counts["themes"] = self.store.facet_counts("themes")
        meta = self.index_meta()
        index_info: dict[str, Any] = {"kind": self.config.index_kind, "built": meta is not None}
        if meta:
            index_info["model"] = meta["model"]
            index_info["dimension"] = meta["dimension"]
            index = self.index()
            assert index is not None
            entries = index.entries()
            to_embed, to_remove = pending_changes(self.store, index)
            index_info.update(
                items=len(entries),
                chunks=sum(e.chunks for e in entries.values()),
                pending=len(to_embed) + len(to_remove),
            )
        counts["index"] = index_info
        counts["kb"] = str(self.config.kb_dir)
        return counts

    def doctor(self) -> DoctorReport:
        """Check the record and the index; problems need action, notes do not."""
        from shadowmatch_kb.embed.onnx import export_dir_for
        from shadowmatch_kb.index.sync import pending_changes
        from shadowmatch_kb.store.enrichment import items_to_enrich

        report = DoctorReport(problems=self.store.check())
        if not report.problems and (unenriched := len(items_to_enrich(self.store))):
            report.notes.append(
                f"{unenriched} item(s) without computed fields yet (an import was interrupted?); "
                "`smkb enrich` computes them"
            )
        try:
            index = self.index()
        except ShadowmatchError as exc:
            report.problems.append(f"index: {exc}")
            return report
        if index is None:
            if self.store.count():
                report.notes.append("no vector index yet; `smkb reindex` builds it")
            return report
        to_embed, to_remove = pending_changes(self.store, index)
        if to_embed:
            report.notes.append(
                f"{len(to_embed)} item(s) not embedded yet (an import was interrupted?); "
                "the next `smkb ingest` or `smkb reindex` embeds them"
            )
        if to_remove:
            report.problems.append(
                f"{len(to_remove)} vector(s) of items that are not in the record; run `smkb reindex`"
            )
        if not (export_dir_for(self.config.indexes_dir, self.model_name) / "export.json").exists():
            report.notes.append("no ONNX export of the model yet: queries load sentence-transformers (slower)")
        return report


def _one_line(exc: BaseException | str, prefix: str | None = None) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{prefix}: {text}" if prefix else text


def _clean_list(values: list[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        value = value.strip()
        if value and value not in seen:
            seen.append(value)
    return seen


def _normalise_id(item_id: str) -> str:
    return item_id.strip().lower()


def _with_model(config: Config, model: str) -> Config:
    from dataclasses import replace

    return replace(config, model=model)
