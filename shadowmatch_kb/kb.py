"""KnowledgeBase: opens a KB directory and composes the stages into the operations people use.

This is the one composer: it opens the record, takes the index and the embedders from ``backends``,
hands each stage the parts it uses (a ``Searcher`` for search and briefings, dated items and rows for
the tracker, items and writers for export) and gathers the notices each result brings. The CLI and the
web layer talk only to this class and to the shapes in ``model``; the result types they show are
re-exported here.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from shadowmatch_kb import tracker
from shadowmatch_kb.backends import Backends, RecordStore
from shadowmatch_kb.brief.model import Briefing
from shadowmatch_kb.config import Config
from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.errors import BackendError, UsageError
from shadowmatch_kb.health import DoctorReport, doctor_report, stats_report
from shadowmatch_kb.index.base import VectorIndex
from shadowmatch_kb.model import IngestResult, Item, ItemFilter, SearchResult, normalise_id
from shadowmatch_kb.pipeline import WritePipeline
from shadowmatch_kb.progress import Progress
from shadowmatch_kb.search.focus import speaks_of_self
from shadowmatch_kb.store import edits
from shadowmatch_kb.store.edits import HistoryEntry, ListChange
from shadowmatch_kb.store.lock import SharedStoreLock, WriteLock
from shadowmatch_kb.store.sqlite import SqliteStore

if TYPE_CHECKING:
    # Types of results the interfaces annotate with, imported for type checking only: the crawl's and the
    # tracker's code loads when they run, not with every search.
    from shadowmatch_kb.crawl.report import CrawlEvent as CrawlEvent
    from shadowmatch_kb.crawl.report import CrawlObserver, CrawlReport
    from shadowmatch_kb.crawl.run import CrawlOptions
    from shadowmatch_kb.crawl.sources import Source
    from shadowmatch_kb.enrich.run import EnrichResult
    from shadowmatch_kb.enrich.sectors import SectorResolver
    from shadowmatch_kb.fetch.async_http import FetcherFactory
    from shadowmatch_kb.occupations.match import OccupationMatcher
    from shadowmatch_kb.occupations.service import ImportResult
    from shadowmatch_kb.search.searcher import Searcher
    from shadowmatch_kb.text.sectors import SectorVocabulary
    from shadowmatch_kb.trends.digest import Digest as Digest
    from shadowmatch_kb.trends.service import TrendsReport as TrendsReport

__all__ = ["Briefing", "DoctorReport", "HistoryEntry", "IngestResult", "KnowledgeBase", "ListChange"]


class KnowledgeBase:
    """One knowledge-base directory: ``corpus/`` (the record) and ``indexes/`` (derived)."""

    def __init__(
        self, config: Config, *, doc_embedder: Embedder | None = None, fetchers: FetcherFactory | None = None
    ) -> None:
        """``doc_embedder`` lets a caller (a benchmark, a server) reuse a model it already loaded; ``fetchers``
        builds the fetchers of URL imports and crawls (default: the pinned one; tests pass one over loopback)."""
        self.record = record = RecordStore(config)  # the lambda below holds the record, not self: no cycle
        self.backends = Backends(config, doc_embedder=doc_embedder, kb_id=lambda: record.create().kb_id, record=record)
        self._notices: list[str] = []  # of the operations since the caller last took them
        self._sector_resolver: SectorResolver | None = None
        self._occupation_matcher: OccupationMatcher | None = None
        self.pipeline = WritePipeline(self.backends, self.record, fetchers=fetchers)

    @classmethod
    def open(cls, kb_dir: str | Path | None = None, **options: Any) -> KnowledgeBase:
        """Open the KB at ``kb_dir``, a folder or a ``postgresql://`` URL (else $SMKB_KB, else the current folder)."""
        return cls(Config.resolve(kb_dir, **options))

    def close(self) -> None:
        """Release the store connection and the on-disk caches."""
        self.record.close()
        self.backends.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def config(self) -> Config:
        """Where the knowledge base lives and which backends it uses."""
        return self.backends.config

    def take_notices(self) -> list[str]:
        """The warnings of the operations run since the last call, each once; then forgets them."""
        found = list(dict.fromkeys([*self.record.notices, *self._notices, *self.pipeline.warnings]))
        for taken in (self.record.notices, self._notices, self.pipeline.warnings):
            taken.clear()
        return found

    # ----- parts --------------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        """True when the directory holds a record store."""
        return self.record.exists

    @property
    def store(self) -> SqliteStore:
        """The record store; reading a directory that has none is a clear error."""
        return self.record.read()

    def create_store(self) -> SqliteStore:
        """The record store, created empty where there is none yet (writers only)."""
        return self.record.create()

    @property
    def model_name(self) -> str:
        """The embedding model: the one asked for, else the index's, else the bundled default."""
        return self.backends.model_name

    def index(self) -> VectorIndex | None:
        """The vector index for queries, or None when none has been built yet."""
        return self.backends.index()

    def query_embedder(self) -> Embedder:
        """The embedder of questions (the ONNX export of the model; loaded once)."""
        return self.backends.query_embedder()

    def signal_embedder(self) -> Embedder:
        """The query embedder with its vectors of Signals rows kept on disk."""
        return self.backends.signal_embedder()

    def sector_resolver(self) -> SectorResolver:
        """Maps questions to sectors; its description vectors come from the on-disk cache after the first run."""
        if self._sector_resolver is None:
            from shadowmatch_kb.enrich.sectors import SectorResolver

            self._sector_resolver = SectorResolver(self.backends.signal_embedder())
        return self._sector_resolver

    def sector_vocabulary(self) -> SectorVocabulary:
        """The sectors of this knowledge base: ISIC sections with their names and aliases, and the analysts'
        own aliases from ``corpus/sector_aliases.toml`` (read anew when it changes)."""
        from shadowmatch_kb.text.sectors import SectorVocabulary

        return SectorVocabulary.for_record(self.config.corpus_dir)

    @property
    def sector_aliases_path(self) -> Path:
        """Where analysts add aliases of sectors: one ``alias = "section name or letter"`` a line."""
        from shadowmatch_kb.text.sectors import ALIASES_FILE

        return self.config.corpus_dir / ALIASES_FILE

    def checked_filter(self, where: ItemFilter | None) -> ItemFilter | None:
        """The filter with its sector as a section name; an unknown sector is a UsageError listing the names, and so
        is a theme no item has (with the closest the items have)."""
        theme = where.theme if where is not None else None
        if theme and self.exists and not self.store.filtered_ids(ItemFilter(theme=theme), limit=1):
            from shadowmatch_kb.text.themes import closest_themes

            raise UsageError(closest_themes(theme, self.store.facet_counts("themes"), self.store.themes))
        if where is None or not where.sector:
            return where
        return replace(where, sector=self.sector_vocabulary().section_name(where.sector))

    def searcher(self) -> Searcher:
        """Hybrid search over the record and the index (words only while no index is built); the query
        model loads on the first query that needs it."""
        from shadowmatch_kb.search.searcher import Searcher

        index = self.backends.index()
        return Searcher(self.store, index, self.backends.query_embedder if index is not None else None)

    def writing(self, *, exclusive: bool = False) -> WriteLock | SharedStoreLock:
        """The write lock: one writer at a time; others wait for it (see ``WritePipeline.writing``)."""
        return self.pipeline.writing(exclusive=exclusive)

    # ----- writes (the pipeline) ----------------------------------------------------------------

    def ingest(
        self,
        inputs: Iterable[str],
        *,
        tags: Iterable[str] = (),
        allow_private: bool = False,
        progress: Progress | None = None,
    ) -> list[IngestResult]:
        """Import files, folders and URLs; one bad input never stops the others."""
        return self.pipeline.ingest(inputs, tags=tags, allow_private=allow_private, progress=progress)

    def enrich(
        self, ids: Iterable[str] = (), *, all_items: bool = False, progress: Progress | None = None
    ) -> list[EnrichResult]:
        """(Re)compute summary, keywords, themes, sectors and signals of the items named, or of all."""
        return self.pipeline.enrich(ids, all_items=all_items, progress=progress)

    def crawl(
        self,
        names: Iterable[str] = (),
        *,
        options: CrawlOptions | None = None,
        observer: CrawlObserver | None = None,
        progress: Progress | None = None,
    ) -> CrawlReport:
        """Crawl registered sources (all, or those named) into the record, then index what was stored."""
        return self.pipeline.crawl(names, options=options, observer=observer, progress=progress)

    def crawl_options(self, **settings: Any) -> CrawlOptions:
        """Crawl settings (max_pages, since, concurrency, per_host, delay, timeout) with this KB's user agent."""
        return self.pipeline.crawl_options(**settings)

    def reindex(self, *, progress: Progress | None = None) -> dict[str, Any]:
        """Rebuild every derived index from ``corpus/`` (with the configured model)."""
        return self.pipeline.reindex(progress=progress)

    def migrate_to(self, target: str, *, progress: Progress | None = None) -> dict[str, Any]:
        """Copy this knowledge base into another, a folder or a ``postgresql://`` URL (see ``migrate``)."""
        from shadowmatch_kb.migrate import migrate

        with KnowledgeBase.open(target, model=self.config.model) as other:
            return migrate(self, other, progress=progress)

    def sources(self, names: Iterable[str] = ()) -> list[Source]:
        """The registered sources, or those named (NotFoundError for a name not registered)."""
        return self.pipeline.sources(names)

    @property
    def sources_path(self) -> Path:
        """The crawl registry, a TOML file analysts may also edit by hand."""
        return self.pipeline.sources_path

    def add_source(self, name: str, url: str, kind: str, **options: Any) -> Source:
        """Register a source; a taken name or a bad option is a clear error."""
        return self.pipeline.add_source(name, url, kind, **options)

    def remove_source(self, name: str) -> Source:
        """Unregister a source; its items stay."""
        return self.pipeline.remove_source(name)

    def add_starter_sources(self) -> tuple[list[Source], list[tuple[Source, str]]]:
        """Register the shipped starter sources not registered yet: (added, [(skipped, why)])."""
        return self.pipeline.add_starter_sources()

    # ----- occupations --------------------------------------------------------------------

    def import_occupations(self, paths: Iterable[str], *, progress: Progress | None = None) -> list[ImportResult]:
        """Import public occupation datasets (each as published); then embed the labels, so matching is warm."""
        from shadowmatch_kb.occupations.service import import_datasets, load_matcher

        with self.writing(exclusive=True):
            results = import_datasets(self.create_store().db, paths, progress=progress)
        # The matcher reads ESCO's labels and the ILO's tasks: either one changing means its vectors must too.
        if any(r.dataset in ("esco", "ilo_genai_2025") for r in results):
            self._occupation_matcher = load_matcher(
                self.store.db, self._occupation_cache, self.backends.doc_embedder, progress
            )
        return results

    def match_occupations(self, text: str, k: int = 5) -> dict[str, Any]:
        """ISCO-08 unit groups for a person's words, with what each imported dataset says of them."""
        return self._occupation_lookup()(text, k)

    def _occupation_lookup(self) -> Callable[[str, int], dict[str, Any]]:
        """Matching words to occupations over the imported datasets, its label vectors loaded once (a briefing for
        an occupation the person chose reads them through ``occupations.service.chosen_occupation``)."""
        from shadowmatch_kb.occupations.service import match_question

        return partial(match_question, self.store.db, self._loaded_matcher())

    def _loaded_matcher(self) -> OccupationMatcher | None:
        """The occupation matcher, loaded once; None while ESCO is not imported."""
        from shadowmatch_kb.occupations.service import load_matcher

        if self._occupation_matcher is None:  # a read: the query embedder never exports or loads torch itself
            self._occupation_matcher = load_matcher(self.store.db, self._occupation_cache, self.backends.query_embedder)
        return self._occupation_matcher

    def occupation_datasets(self) -> dict[str, Any]:
        """The imported occupation datasets with their year, licence and counts (`smkb occupations list`)."""
        from shadowmatch_kb.occupations.store import dataset_overview

        return dataset_overview(self.store.db)

    @property
    def _occupation_cache(self) -> Path:
        return self.config.indexes_dir / "occupations"

    # ----- reads --------------------------------------------------------------------------

    def get(self, item_id: str) -> Item:
        """One item by its id or a unique prefix of it (see ``resolve_id``); NotFoundError when none has it."""
        return self.store.get(self.resolve_id(item_id))

    def resolve_id(self, item_id: str) -> str:
        """The full id of an id or of a unique prefix of 4 or more hex digits (UsageError when several share it)."""
        return edits.resolve_id(self.store.db, item_id)

    def enrichment_record(self, item_id: str) -> dict[str, Any] | None:
        """How an item's fields were computed (method, model, language, sector confidences); None if never."""
        from shadowmatch_kb.store.enrichment import enrichment_record

        return enrichment_record(self.store, normalise_id(item_id))

    def list_items(self, where: ItemFilter | None = None, *, limit: int | None = None) -> list[Item]:
        """Items matching the filter, newest first (an unknown sector is a UsageError)."""
        where = self.checked_filter(where)
        ids = self.store.filtered_ids(where or ItemFilter(), limit=limit)
        found = self.store.get_many(ids)
        return [found[i] for i in ids if i in found]

    def tag(
        self,
        item_id: str,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        sectors: list[str] | ListChange | None = None,
        themes: list[str] | ListChange | None = None,
    ) -> Item:
        """Change an item's tags, sectors and themes as one analyst edit, kept in its history. A list sets the field
        whole; a ``ListChange`` adds and removes. Sectors are kept as section names; an unknown one is a UsageError,
        checked before anything is written."""
        item_id = self.resolve_id(item_id)
        known = self.store.facet_counts("themes") if themes is not None else {}
        naming = self.store.themes.naming(known)
        changes = edits.changes_of(add, remove, sectors, themes, vocabulary=self.sector_vocabulary, theme_name=naming)
        with self.writing():
            if not edits.apply_changes(self.store, item_id, changes):
                self._notices.append(f"nothing changed: item {item_id[:12]} already reads as asked")
        return self.store.get(item_id)

    def history(self, item_id: str) -> tuple[Item, list[HistoryEntry]]:
        """An item and every analyst edit of it, oldest first."""
        item = self.get(item_id)
        return item, edits.history(self.store, item.id)

    def undo(self, item_id: str) -> tuple[Item, list[HistoryEntry]]:
        """Revert the item's last analyst edit not yet undone; the item after it and the undo's history rows.
        UsageError when there is nothing to undo."""
        item_id = self.resolve_id(item_id)
        with self.writing():
            reverted = edits.undo_last(self.store, item_id)
        return self.store.get(item_id), reverted

    def related(self, item_id: str, *, k: int = 10) -> list[SearchResult]:
        """The items closest to one item by the embedding index, best first."""
        return self.searcher().related(self.get(item_id), k=k)

    def closest(self, item_id: str, *, k: int = 5) -> list[SearchResult]:
        """Related items for rendering; empty, with a notice, when the index is not built."""
        try:
            return self.related(item_id, k=k)
        except BackendError as exc:
            self._notices.append(str(exc))
            return []

    def search(self, query: str, *, k: int = 10, where: ItemFilter | None = None) -> list[SearchResult]:
        """Hybrid keyword + semantic search with filters, best first (an unknown sector is a UsageError); a query
        in which a person speaks of their own work is read as a briefing reads it (with the occupation data
        imported), and the items it most likely means lead."""
        where = self.checked_filter(where)
        if not query.strip():
            return []
        searcher, first = self.searcher(), {}
        if searcher.index is not None and speaks_of_self(query) and (matcher := self._loaded_matcher()) is not None:
            from shadowmatch_kb.brief.compose import likely_items

            lookup, resolver = self._occupation_lookup(), self.sector_resolver()
            embedder = self.backends.signal_embedder()
            first = likely_items(
                query,
                searcher=searcher,
                embedder=embedder,
                resolver=resolver,
                occupations=lookup,
                occupation_work=matcher.work_vector,
            )
        outcome = searcher.search(query, k=k, where=where, first=first)
        self._notices.extend(outcome.notices)
        return outcome.results

    def brief(self, question: str, *, since: str | None = None, occupation: str | None = None) -> Briefing:
        """The mentor's briefing for a question in their own words, every claim cited; ``occupation`` (an
        ISCO-08 unit group, as "Is this you?" offers them, or a job title in words) is the one the person says is
        theirs."""
        from shadowmatch_kb.brief.compose import build_briefing, checked_occupation, checked_question
        from shadowmatch_kb.occupations.service import chosen_occupation

        question = checked_question(question)  # before the store: an empty question says so, whatever the KB
        occupation = checked_occupation(occupation)
        store = self.store  # a directory without a knowledge base fails here, before any model loads
        lookup, chosen = chosen_occupation(store.db, self._loaded_matcher(), question, occupation)
        briefing = build_briefing(
            question,
            searcher=self.searcher(),
            store=store,
            embedder=self.backends.signal_embedder(),
            resolver=self.sector_resolver(),
            occupations=lookup,
            chosen_occupation=chosen,
            occupation_work=matcher.work_vector if (matcher := self._loaded_matcher()) else None,
            since=since,
        )
        self._notices.extend(briefing.notices)
        return briefing

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
        items, newest = self.store.size(datetime.date.today().isoformat())
        return {"items": items, "newest": newest}

    def version(self) -> int | None:
        """Changes whenever another process writes to the record: a key for caches of what was read."""
        return self.store.data_version() if self.exists else None

    def sector_counts(self) -> dict[str, int]:
        """Items per ISIC section by name (the names briefings and filters use), copies left out, most first."""
        from shadowmatch_kb.store.timeline import dated_items
        from shadowmatch_kb.trends.service import count_sectors

        return count_sectors(dated_items(self.store))

    def iter_all(self) -> Iterator[Item]:
        """Every item, in id order, in batches (for export)."""
        ids = sorted(self.store.content_hashes())
        for start in range(0, len(ids), 200):
            batch = ids[start : start + 200]
            found = self.store.get_many(batch)
            for item_id in batch:
                yield found[item_id]

    # ----- the tracker and exports ------------------------------------------------------------

    def trends(
        self, *, where: ItemFilter | None = None, by: str = "month", top: int | None = None, today: str | None = None
    ) -> TrendsReport:
        """The tracker over the items matching ``where``: series per period and emerging signals."""
        from shadowmatch_kb.trends.periods import check_by
        from shadowmatch_kb.trends.service import TrendsReport

        by = check_by(by)  # usage errors before any model loads
        where = self.checked_filter(where)
        if not self.exists:
            self._notices.append(f"no knowledge base in {self.config.kb_label} yet: nothing to count")
            return TrendsReport(by=by)
        model = tracker.SignalModel(self.backends.model_name, self.backends.signal_embedder)
        report = tracker.trends_report(self.store, model, self.config.indexes_dir, where, by=by, top=top, today=today)
        self._notices.extend(report.notices)
        return report

    def digest(self, *, since: str, today: str | None = None, by: str = "published") -> Digest:
        """What came in since a date (``by`` published or imported date) and the signals rising since then."""
        from shadowmatch_kb.trends.digest import Digest, parse_since

        if not self.exists:
            self._notices.append(f"no knowledge base in {self.config.kb_label} yet: nothing to digest")
            return Digest(since=parse_since(since))
        found = tracker.digest_report(self.store, self.backends.signal_embedder, since=since, today=today, by=by)
        self._notices.extend(found.notices)
        return found

    def export(self, fmt: str, *, handle: TextIO | None = None, path: Path | None = None) -> int:
        """Write every item in ``fmt`` (jsonl, csv, md) to ``path`` (a folder for md) or else to ``handle``; a file
        appears whole or not at all. Returns the count of items written."""
        from shadowmatch_kb.formats.export import export_items

        return export_items(self.store, fmt, self.iter_all, self._closest_pairs, handle=handle, path=path)

    def _closest_pairs(self, item_id: str) -> list[tuple[str, str]]:
        return [(c.id, c.title) for c in self.closest(item_id, k=5)]

    # ----- health ---------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counts of the record and the state of the index."""
        return stats_report(self.store, self.backends)

    def doctor(self) -> DoctorReport:
        """Check the record and the index; problems need action, notes do not."""
        return doctor_report(self.store, self.backends)
