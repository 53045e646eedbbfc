"""``smkb migrate --to``: copy a whole knowledge base into another, a folder into Postgres or back.

What is copied is everything that cannot be made again: every item's record (fields, dates, hashes, how it was
enriched, tags with their dates, analysts' edits, raw input), the imported occupation datasets, the crawl
frontier with each URL's last outcome and validators, and the working folder's files people edit (crawl
sources, sector aliases, ``smkb.toml``), unless the target has its own. The vectors are copied into the
target's kind of index when it has none yet and uses the same model (what they do not cover is embedded);
otherwise the target makes its own (``reindex``). The full text is written with each item. Each item is its own
transaction, as in a restore, so a copy that is stopped can be run again: items already there are left as they
are ("unchanged"), and a target's own tags and edits are kept, merged with the source's.

The target keeps its own identity (``kb_id``): it is a second knowledge base holding the same record.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.ingest.near_duplicates import FINGERPRINT_VERSION, band_keys, fingerprint
from shadowmatch_kb.progress import NullProgress, Progress
from shadowmatch_kb.store.pg import insertion_order
from shadowmatch_kb.store.records import StoredFingerprint, read_record, write_record

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from shadowmatch_kb.backends import Backends, RecordStore
    from shadowmatch_kb.config import Config
    from shadowmatch_kb.index.base import VectorIndex
    from shadowmatch_kb.pipeline import WritePipeline
    from shadowmatch_kb.store.sqlite import SqliteStore


class KnowledgeBaseParts(Protocol):
    """What a copy uses of the two knowledge bases (``kb.KnowledgeBase`` has it; ``kb.py`` is the one that calls)."""

    @property
    def config(self) -> Config: ...

    @property
    def store(self) -> SqliteStore: ...

    def create_store(self) -> SqliteStore: ...

    def writing(self, *, exclusive: bool = False) -> AbstractContextManager[Any]: ...

    @property
    def backends(self) -> Backends: ...

    @property
    def model_name(self) -> str: ...

    def index(self) -> VectorIndex | None: ...

    def reindex(self, *, progress: Progress | None = None) -> dict[str, Any]: ...

    @property
    def pipeline(self) -> WritePipeline: ...

    @property
    def record(self) -> RecordStore: ...


__all__ = ["TABLES", "copy_table", "migrate"]

# The tables copied as they are, with the columns both stores have (the order rows were written in is kept).
TABLES = {
    "occupation_datasets": ("key", "name", "year", "licence", "attribution", "source_path", "imported_at"),
    "occupation_labels": ("isco", "label", "kind", "esco_uri"),
    "occupation_figures": ("dataset", "scheme", "code", "measure", "value", "number", "label"),
    "occupation_tasks": ("dataset", "isco", "task", "score"),
    "occupation_crosswalk": ("dataset", "from_scheme", "from_code", "to_scheme", "to_code"),
    "crawl_urls": (
        "url", "host", "source", "role", "depth", "queued", "listed_date", "outcome", "reason", "etag",
        "last_modified", "item_id", "raw", "failures", "last_run", "first_seen", "last_fetched",
    ),
}  # fmt: skip
_BATCH = 2000
# Files of the working folder that people edit, by their place in it.
_EDITED_FILES = ("smkb.toml", "corpus/sources.toml", "corpus/sector_aliases.toml", "corpus/theme_aliases.toml")


def migrate(
    source: KnowledgeBaseParts, target: KnowledgeBaseParts, *, progress: Progress | None = None
) -> dict[str, Any]:
    """Copy ``source`` into ``target``; the counts of what was copied."""
    progress = progress or NullProgress()
    if source.config.kb_label == target.config.kb_label:
        raise UsageError(f"{source.config.kb_label} is the knowledge base being copied: name another with --to")
    origin, destination = source.store, target.create_store()
    counts: dict[str, Any] = {"from": source.config.kb_label, "to": target.config.kb_label}
    with target.writing(exclusive=True):
        counts["items"] = _copy_items(origin, destination, progress)
        for table, columns in TABLES.items():
            counts[table] = copy_table(origin, destination, table, columns)
        counts["files"] = _copy_files(source.config.kb_dir, target.config.kb_dir)
        target.record.share_files()  # in Postgres, the copied files go to the database now, for every machine
        copied = _copy_vectors(source, target, progress)
    if copied is None:
        # The target keeps the index it has: only what it lacks is embedded (nothing, on a second run).
        copied = target.pipeline.update_index(progress=progress) if target.backends.index_meta() else None
    counts["index"] = copied if copied is not None else target.reindex(progress=progress)
    return counts


def _copy_vectors(source: KnowledgeBaseParts, target: KnowledgeBaseParts, progress: Progress) -> dict[str, Any] | None:
    """The source's vectors put in a new index of the target, then the items they do not cover embedded; None
    (the target builds its index itself) when the source has none, or the target has or wants another."""
    from shadowmatch_kb.index.sync import sync_index

    index = source.index()
    model = source.model_name
    if index is None or target.backends.index_meta() is not None or target.config.model not in (None, model):
        return None
    copy = target.backends.make_index(model, index.dimension, rebuild=True)
    entries = index.entries()
    progress.start("copying vectors", len(entries))
    for item_id, entry in entries.items():
        item, chunks = index.item_vector(item_id), index.chunk_vectors(item_id)
        if item is not None and chunks is not None:
            copy.upsert(item_id, entry.content_hash, item, chunks)
        progress.advance()
    progress.finish()
    copy.flush()
    target.backends.write_meta(model, index.dimension)
    # Items changed since the source last indexed them (or never indexed) are embedded, as any sync does.
    report = sync_index(target.store, copy, target.backends.doc_embedder, progress=progress)
    return {
        "copied": len(entries),
        "items": report.embedded,
        "chunks": report.chunks,
        "seconds": round(report.seconds, 2),
        "model": model,
        "index": target.config.index_kind,
    }


def _copy_items(origin: SqliteStore, destination: SqliteStore, progress: Progress) -> dict[str, int]:
    ids = sorted(origin.content_hashes())
    outcomes = {"added": 0, "updated": 0, "unchanged": 0}
    progress.start("copying items", len(ids))
    for item_id in ids:
        record = read_record(origin, item_id)
        if record is None:  # removed since the list was read
            continue
        found = fingerprint(f"{record.item.title}\n{record.item.text}")
        stored = StoredFingerprint(FINGERPRINT_VERSION, found.to_bytes(), band_keys(found))
        outcomes[write_record(destination, record, stored)] += 1
        progress.advance()
    progress.finish()
    return outcomes


def copy_table(origin: SqliteStore, destination: SqliteStore, table: str, columns: tuple[str, ...]) -> int:
    """Replace the target's rows of ``table`` with the source's, in one transaction."""
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    rows = origin.db.execute(f"SELECT {names} FROM {table} ORDER BY {insertion_order(origin.db)}")  # noqa: S608
    copied = 0
    destination.db.execute("BEGIN IMMEDIATE")
    try:
        destination.db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        while batch := rows.fetchmany(_BATCH):
            destination.db.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", [tuple(r) for r in batch])
            copied += len(batch)
        destination.db.execute("COMMIT")
    except BaseException:
        destination.db.execute("ROLLBACK")
        raise
    return copied


def _copy_files(origin: Path, destination: Path) -> list[str]:
    """The edited files of the source's folder that the target's folder lacks, copied; their names."""
    copied = []
    for name in _EDITED_FILES:
        found, wanted = origin / name, destination / name
        if found.is_file() and not wanted.exists():
            wanted.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(found, wanted)
            copied.append(name)
    return copied
