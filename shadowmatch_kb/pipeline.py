"""The write side of a knowledge base: import, enrich, crawl and index, one writer at a time.

Sources -> fetch -> extract -> enrich -> store -> index: each input is read, stored once (an identical
or near-identical text is linked to what is there), enriched, and its vectors brought up to date. The
knowledge base (``kb.py``) owns one ``WritePipeline`` and hands it the record store and the backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadowmatch_kb.backends import Backends, RecordStore
from shadowmatch_kb.config import Config, CrawlSettings
from shadowmatch_kb.embed.base import DEFAULT_MODEL
from shadowmatch_kb.errors import InputError, LockTimeoutError, NotFoundError, ShadowmatchError
from shadowmatch_kb.model import IngestResult, normalise_id
from shadowmatch_kb.progress import NullProgress, Progress
from shadowmatch_kb.store.lock import SharedStoreLock, WriteLock
from shadowmatch_kb.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from shadowmatch_kb.crawl.report import CrawlObserver, CrawlReport
    from shadowmatch_kb.crawl.run import CrawlOptions
    from shadowmatch_kb.crawl.sources import Source
    from shadowmatch_kb.enrich.run import EnrichResult
    from shadowmatch_kb.fetch.async_http import FetcherFactory, FetchResponse
    from shadowmatch_kb.fetch.blocking import BlockingFetcher, Fetcher
    from shadowmatch_kb.index.sync import SyncReport

__all__ = ["WritePipeline"]


class WritePipeline:
    """Imports, crawls and indexing over one record store and its backends."""

    def __init__(
        self,
        backends: Backends,
        record: RecordStore,
        *,
        fetchers: FetcherFactory | None = None,
    ) -> None:
        """``record`` opens the record store; ``fetchers`` builds every fetcher of URL imports and crawls
        (default: the pinned ``AsyncFetcher``; tests hand in one over loopback)."""
        self.backends = backends
        self.record = record
        self._fetchers = fetchers
        self.warnings: list[str] = []  # taken by the knowledge base after each operation

    @property
    def config(self) -> Config:
        """The knowledge base's configuration (a reindex may change its model)."""
        return self.backends.config

    @property
    def store(self) -> SqliteStore:
        """The record store."""
        return self.record.read()

    def writing(self, *, exclusive: bool = False) -> WriteLock | SharedStoreLock:
        """The write lock: one writer at a time, others wait for it. In a knowledge base in Postgres, writers of
        items share it, and only an ``exclusive`` writer (one that rebuilds shared state) holds it alone."""
        if self.config.record_url:
            timeout = self.config.lock_timeout
            return SharedStoreLock(self.record.create().db, self.config.kb_label, exclusive=exclusive, timeout=timeout)
        return WriteLock(self.config.corpus_dir / "write.lock", timeout=self.config.lock_timeout)

    def ingest(
        self,
        inputs: Iterable[str],
        *,
        tags: Iterable[str] = (),
        allow_private: bool = False,
        progress: Progress | None = None,
    ) -> list[IngestResult]:
        """Import files, folders, URLs and exports (``.jsonl``, restored item by item); one bad input never
        stops the others. An export gives one result per line; every result names its input printably, and
        an ``unchanged`` one with an ``error`` is a variant kept out, the error saying why."""
        from shadowmatch_kb.ingest.readers import list_inputs, printable
        from shadowmatch_kb.ingest.restore import is_export

        progress = progress or NullProgress()
        listed = list(list_inputs(inputs))
        tags = sorted({t.strip() for t in tags if t.strip()})
        results: list[IngestResult] = []
        with self.writing(), _FetcherOnDemand(self._blocking_fetcher, allow_private) as fetcher:
            self.record.create()
            progress.start("Importing", len(listed))
            for entry in listed:
                if entry.refused is not None:
                    results.append(IngestResult(printable(entry.value), None, "failed", entry.refused))
                elif is_export(entry.value):
                    results.extend(self._restore(entry.value, tags))
                else:
                    results.append(self._ingest_one(entry.value, tags, fetcher))
                progress.advance()
            progress.finish()
            self._enrich_pending(progress)
            self._sync(progress)
        return results

    def _blocking_fetcher(self, allow_private: bool) -> BlockingFetcher:
        from shadowmatch_kb.fetch.async_http import FetchOptions
        from shadowmatch_kb.fetch.blocking import BlockingFetcher

        # The KB's crawl settings name the agent URL imports go out as, too: one identity towards every site.
        options = FetchOptions(user_agent=self.config.crawl_settings().user_agent)
        return BlockingFetcher(self.fetchers()(options, allow_private=allow_private))

    def fetchers(self) -> FetcherFactory:
        """What builds this knowledge base's fetchers: the one given, else the pinned ``AsyncFetcher``."""
        from shadowmatch_kb.fetch.async_http import AsyncFetcher

        return self._fetchers or AsyncFetcher

    def enrich(
        self, ids: Iterable[str] = (), *, all_items: bool = False, progress: Progress | None = None
    ) -> list[EnrichResult]:
        """(Re)compute summary, keywords, themes, sectors and signals of the items named, or of all."""
        from shadowmatch_kb.enrich.run import enrich_items

        wanted = [normalise_id(i) for i in ids if i.strip()]
        for item_id in wanted:
            self.store.get(item_id)  # NotFoundError before any work
        with self.writing():
            outcome = enrich_items(
                self.store,
                self.backends.doc_embedder,
                wanted or None,
                force=bool(wanted) or all_items,
                progress=progress,
            )
            self.warnings.extend(outcome.notices)
            self._sync(progress or NullProgress())
        return outcome.results

    def _enrich_pending(self, progress: Progress) -> None:
        """Enrich the items an import or a crawl stored without computed fields (under the write lock)."""
        from shadowmatch_kb.enrich.run import enrich_items

        outcome = enrich_items(self.store, self.backends.doc_embedder, progress=progress)
        self.warnings.extend(outcome.notices)
        failed = [r for r in outcome.results if r.status == "failed"]
        if failed:
            self.warnings.append(
                f"{len(failed)} item(s) could not be enriched (first: {failed[0].id}: {failed[0].error})"
            )

    def _ingest_one(self, value: str, tags: list[str], fetcher: Fetcher | None) -> IngestResult:
        from shadowmatch_kb.ingest.duplicates import store_once
        from shadowmatch_kb.ingest.readers import printable, read_input
        from shadowmatch_kb.text.dates import date_notes

        label = printable(value)
        try:
            loaded = read_input(value, fetcher=fetcher)
            self.warnings.extend(f"{label}: {note}" for note in date_notes(loaded.item.published, loaded.unread_date))
            decision = store_once(self.store, loaded.item, loaded.raw, identical="link", tags=tags)
            # An unchanged input with a reason is a variant kept out: the one place its reason can be read.
            why = decision.reason if decision.outcome == "unchanged" else None
            return IngestResult(label, decision.item_id, decision.outcome, why)
        except InputError as exc:
            # The input is reported beside the error already: keep just the reason.
            return IngestResult(label, None, "failed", _one_line(exc.reason))
        except ShadowmatchError as exc:
            return IngestResult(label, None, "failed", _one_line(exc))
        except Exception as exc:  # noqa: BLE001 - a reader bug must not stop the other inputs
            return IngestResult(label, None, "failed", _one_line(exc, prefix=type(exc).__name__))

    def _restore(self, value: str, tags: list[str]) -> list[IngestResult]:
        """Restore the items of one export file (see ``ingest.restore``)."""
        from shadowmatch_kb.ingest.readers import printable
        from shadowmatch_kb.ingest.restore import restore_export

        try:
            return list(restore_export(self.store, value, tags=tags))
        except ShadowmatchError as exc:
            return [IngestResult(printable(value), None, "failed", _one_line(exc))]
        except Exception as exc:  # noqa: BLE001 - a restore bug must not stop the other inputs
            return [IngestResult(printable(value), None, "failed", _one_line(exc, prefix=type(exc).__name__))]

    # ----- crawl ------------------------------------------------------------------------------

    @property
    def sources_path(self) -> Path:
        """The crawl registry, a TOML file analysts may also edit by hand."""
        from shadowmatch_kb.crawl.sources import SOURCES_FILE

        return self.config.corpus_dir / SOURCES_FILE

    def sources(self, names: Iterable[str] = ()) -> list[Source]:
        """The registered sources, or those named (NotFoundError for a name not registered)."""
        from shadowmatch_kb.crawl.sources import load_sources

        self.record.share_files()
        registered = load_sources(self.sources_path)
        wanted = list(dict.fromkeys(n.strip() for n in names if n.strip()))
        if not wanted:
            return registered
        by_name = {source.name: source for source in registered}
        missing = [name for name in wanted if name not in by_name]
        if missing:
            known = ", ".join(sorted(by_name)) or "none"
            raise NotFoundError(f"no source named {', '.join(missing)} (registered: {known}); see `smkb sources list`")
        return [by_name[name] for name in wanted]

    def add_source(self, name: str, url: str, kind: str, **options: Any) -> Source:
        """Register a source (checked as ``crawl.sources.new_source`` checks it); a taken name is an error."""
        from shadowmatch_kb.crawl.sources import add_source, new_source

        source = new_source(name, url, kind, **options)
        self.record.share_files()
        added = add_source(self.sources_path, source, lock_timeout=self.config.lock_timeout)
        self.record.share_files()
        return added

    def remove_source(self, name: str) -> Source:
        """Unregister a source; its items stay."""
        from shadowmatch_kb.crawl.sources import remove_source

        self.record.share_files()
        removed = remove_source(self.sources_path, name, lock_timeout=self.config.lock_timeout)
        self.record.share_files()
        return removed

    def add_starter_sources(self) -> tuple[list[Source], list[tuple[Source, str]]]:
        """Register the shipped starter sources not registered yet: (added, [(skipped, why)])."""
        from shadowmatch_kb.crawl.sources import add_missing_sources, load_starter_sources

        self.record.share_files()
        found = add_missing_sources(self.sources_path, load_starter_sources(), lock_timeout=self.config.lock_timeout)
        self.record.share_files()
        return found

    def crawl(
        self,
        names: Iterable[str] = (),
        *,
        options: CrawlOptions | None = None,
        observer: CrawlObserver | None = None,
        progress: Progress | None = None,
    ) -> CrawlReport:
        """Crawl registered sources (all, or those named) into the record, then index what was stored."""
        from shadowmatch_kb.crawl.articles import ArticleWriter
        from shadowmatch_kb.crawl.run import Crawler, start_extraction_workers
        from shadowmatch_kb.store.frontier import Frontier

        sources = self.sources(names)
        if not sources:
            raise NotFoundError(
                "no sources registered; add one with `smkb sources add NAME URL` or `smkb sources starter`"
            )
        if options is None:
            options = self.crawl_options()
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
                    f"another `smkb crawl` is running on {self.config.kb_label}; wait for it"
                ) from None
            try:
                store = self.record.create()
                crawler = Crawler(
                    Frontier(store.db),
                    ArticleWriter(store),
                    sources,
                    options,
                    fetchers=self.fetchers(),
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

    def crawl_options(
        self,
        settings: CrawlSettings | None = None,
        *,
        max_pages: int | None = None,
        since: str | None = None,
        workers: int | None = None,
        **flags: Any,
    ) -> CrawlOptions:
        """What a crawl runs with: ``settings`` as resolved, else resolved now from ``flags`` (delay, concurrency,
        per_host, timeout, user_agent; see ``Config.crawl_settings``)."""
        self.record.share_files()  # smkb.toml, shared in a knowledge base in Postgres
        from shadowmatch_kb.crawl.run import CrawlOptions
        from shadowmatch_kb.fetch.async_http import FetchOptions

        if settings is None:
            settings = self.config.crawl_settings(flags)
        elif flags:
            raise TypeError("give crawl_options either settings or flags, not both")
        return CrawlOptions(
            max_pages=max_pages,
            since=since,
            concurrency=settings.concurrency,
            per_host=settings.per_host,
            delay=settings.delay,
            workers=workers,
            fetch=FetchOptions(user_agent=settings.user_agent, timeout=settings.timeout),
        )

    def _sync(self, progress: Progress) -> None:
        from shadowmatch_kb.index.sync import sync_index

        if self.store.count() == 0 and self.backends.index() is None:
            return
        index = self.backends.writable_index()
        sync_index(self.store, index, self.backends.doc_embedder, progress=progress)

    def update_index(self, *, progress: Progress | None = None) -> dict[str, Any]:
        """Embed what the index lacks (new and changed items) and drop what the record no longer has."""
        from shadowmatch_kb.index.sync import sync_index

        with self.writing():
            report = sync_index(
                self.store, self.backends.writable_index(), self.backends.doc_embedder, progress=progress
            )
        return self._index_report(report)

    def reindex(self, *, progress: Progress | None = None) -> dict[str, Any]:
        """Rebuild every derived index from ``corpus/`` (with the configured model)."""
        from shadowmatch_kb.index.sync import sync_index

        progress = progress or NullProgress()
        with self.writing(exclusive=True):
            self.store.rebuild_fts()
            old_meta = self.backends.index_meta()
            target = self.config.model or (str(old_meta["model"]) if old_meta else DEFAULT_MODEL)
            index, embedder = self.backends.rebuild_index(target)
            report = sync_index(self.store, index, lambda: embedder, progress=progress)
            index.flush()
            self.backends.write_meta(embedder.model_name, embedder.dimension)
        return self._index_report(report)

    def _index_report(self, report: SyncReport) -> dict[str, Any]:
        """What an index update did, as ``smkb reindex --json`` prints it."""
        return {
            "items": report.embedded,
            "chunks": report.chunks,
            "seconds": round(report.seconds, 2),
            "model": self.backends.model_name,
            "index": self.config.index_kind,
        }


def _one_line(exc: BaseException | str, prefix: str | None = None) -> str:
    from shadowmatch_kb.ingest.readers import printable

    # An error may quote a file name that is not UTF-8: keep the line printable and valid in JSON.
    text = printable(" ".join(str(exc).split())) or type(exc).__name__
    return f"{prefix}: {text}" if prefix else text


class _FetcherOnDemand:
    """The fetcher of one import, built at its first URL and closed with the run.

    Building one loads TLS settings, which an import of files never needs; and a fetcher that cannot be
    built (a broken certificate store, say) fails the URLs of the run, each with its reason, not the files.
    """

    def __init__(self, build: Callable[[bool], BlockingFetcher], allow_private: bool) -> None:
        self._build = build
        self._allow_private = allow_private
        self._fetcher: BlockingFetcher | None = None

    def __enter__(self) -> _FetcherOnDemand:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fetcher is not None:
            self._fetcher.close()
            self._fetcher = None

    def fetch(self, url: str, *, accept: Callable[[str], bool] | None = None) -> FetchResponse:
        """Fetch one URL with the run's fetcher (built now if this is the first)."""
        if self._fetcher is None:
            self._fetcher = self._build(self._allow_private)
        return self._fetcher.fetch(url) if accept is None else self._fetcher.fetch(url, accept=accept)
