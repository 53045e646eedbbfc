"""Restore items from a lossless export (`smkb export --format jsonl`): each line puts one item back whole.

An export file is many items, so it gives one result a line, its input named ``FILE:LINE``; each line is
its own transaction, and a damaged line fails alone while the others are restored. Restored items keep
every field as exported (their dates, their computed fields and the record of how these were computed, so
they are not enriched again; one exported before it was ever enriched is enriched like any new item),
their tags, their analyst edits (which keep winning over later re-imports of the original files) and their
raw input. Restoring over a stored item replaces its fields with the exported ones but never drops the
tags and analyst edits made since: they are merged. An export is read only when named: a folder's walk
leaves ``.jsonl`` files alone, as they are backups rather than documents. Sectors are stored as section
names, as every write stores them: an export from before that held other labels is restored with their
sections' names (a label none takes becomes the item's ``sector:`` tag; see ``store.sectors``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import BinaryIO

from shadowmatch_kb.formats.jsonl import parse_line
from shadowmatch_kb.ingest.duplicates import content_hash_of
from shadowmatch_kb.ingest.near_duplicates import FINGERPRINT_VERSION, band_keys, fingerprint
from shadowmatch_kb.ingest.readers import is_url, printable, text_hash
from shadowmatch_kb.model import IngestResult
from shadowmatch_kb.store.records import ItemRecord, StoredFingerprint, now, write_record
from shadowmatch_kb.store.sqlite import SqliteStore

__all__ = ["EXPORT_SUFFIX", "MAX_LINE_BYTES", "is_export", "restore_export"]

EXPORT_SUFFIX = ".jsonl"
# A line holds an item and its raw input in base64: the largest file ingest reads (20 MB) and its text fit.
MAX_LINE_BYTES = 80_000_000
# What an export from before the enrichment record was kept says of its computed fields: kept as exported.
RESTORED_AS_EXPORTED = {"backend": "as exported", "note": "restored from an export without its enrichment record"}


def is_export(value: str) -> bool:
    """True for a path (not a URL) that names a ``.jsonl`` file."""
    return not is_url(value) and Path(value).suffix.lower() == EXPORT_SUFFIX


def restore_export(store: SqliteStore, value: str, *, tags: list[str]) -> list[IngestResult]:
    """Restore every item of one export file; one result a line (``tags`` are added to each item)."""
    label = printable(value)
    path = Path(value).expanduser()
    if not path.is_file():
        return [IngestResult(label, None, "failed", "no such file" if not path.exists() else "not a regular file")]
    results: list[IngestResult] = []
    try:
        with path.open("rb") as handle:
            number = 0
            while line := handle.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(line) > MAX_LINE_BYTES:
                    if not line.endswith(b"\n"):
                        _skip_rest_of_line(handle)
                    results.append(IngestResult(f"{label}:{number}", None, "failed", "line longer than 80 MB"))
                elif line.strip():
                    results.append(_restore_line(store, line, f"{label}:{number}", tags))
    except OSError as exc:
        results.append(IngestResult(label, None, "failed", f"cannot read: {exc.strerror or exc}"))
    if not results:
        results.append(IngestResult(label, None, "failed", "empty file: no exported items"))
    return results


def _skip_rest_of_line(handle: BinaryIO) -> None:
    while (chunk := handle.readline(MAX_LINE_BYTES)) and not chunk.endswith(b"\n"):
        pass


def _restore_line(store: SqliteStore, line: bytes, where: str, tags: list[str]) -> IngestResult:
    moment = now()
    try:
        record = parse_line(line.decode("utf-8"), now=moment)
    except (UnicodeDecodeError, ValueError) as exc:
        return IngestResult(where, None, "failed", f"not an exported item: {exc}")
    if record.content_hash is None:
        _complete(record)
    have = {tag for tag, _ in record.tags}
    record.tags = sorted([*record.tags, *((tag, moment) for tag in tags if tag not in have)])
    record.item.tags = [tag for tag, _ in record.tags]
    found = fingerprint(f"{record.item.title}\n{record.item.text}")
    stored = StoredFingerprint(FINGERPRINT_VERSION, found.to_bytes(), band_keys(found))
    try:
        status = write_record(store, record, stored)
    except sqlite3.Error as exc:
        # Rolled back whole: this line is not restored, the others go on.
        return IngestResult(where, record.item.id, "failed", f"not stored: {exc}")
    return IngestResult(where, record.item.id, status)


def _complete(record: ItemRecord) -> None:
    """Fill what a line from an older export lacks: its hashes, and an enrichment record that keeps its fields."""
    assert record.raw is not None  # parse_line refuses a line without its raw input
    record.content_hash = content_hash_of(record.raw.content)
    record.text_hash = text_hash(record.item)
    record.enrichment = dict(RESTORED_AS_EXPORTED)
