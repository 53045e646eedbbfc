"""An item as the record holds it, whole: its row, its tags with their dates, its analyst edits, its raw input.

The lossless export is written from ``read_record`` and a restore goes through ``write_record``; both
cover every column of the item's rows, so exporting what was restored gives back the same record.
(``formats.jsonl`` turns a record into a JSON line and back.)
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shadowmatch_kb.model import Item, Signal
from shadowmatch_kb.store.fingerprints import FingerprintTable
from shadowmatch_kb.store.sectors import keep_unplaced_labels, section_confidence
from shadowmatch_kb.store.sqlite import ITEM_COLUMNS, JSON_FIELDS, RAW_COMPRESSION, UPSERT_RAW, RawInput, SqliteStore

if TYPE_CHECKING:
    from shadowmatch_kb.text.sectors import SectorVocabulary

__all__ = ["AnalystEdit", "ItemRecord", "StoredFingerprint", "now", "read_record", "write_record"]

_RECORD_COLUMNS = (*ITEM_COLUMNS, "content_hash", "text_hash", "added_at", "updated_at", "enrichment")
_UPSERT = (
    f"INSERT INTO items ({', '.join(_RECORD_COLUMNS)}) VALUES ({', '.join(':' + c for c in _RECORD_COLUMNS)})"
    " ON CONFLICT(id) DO UPDATE SET " + ", ".join(f"{c}=excluded.{c}" for c in _RECORD_COLUMNS if c != "id")
)


def now() -> str:
    """The store's timestamp of this moment (UTC, to the second)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class AnalystEdit:
    """One analyst correction of an item's sectors or themes."""

    field: str
    value: list[str]
    edited_at: str


@dataclass(frozen=True)
class StoredFingerprint:
    """An item's near-duplicate fingerprint as the fingerprint table keeps it."""

    version: int
    signature: bytes
    band_keys: Sequence[int]


@dataclass
class ItemRecord:
    """Everything the record holds of one item.

    ``item`` has the stored values: its sectors and themes as given or computed, under any analyst edit
    (``edits``, oldest first, win on read); ``item.tags`` are the names of ``tags``. The hashes are None
    only in a record read from an export that did not carry them (the importer computes them).
    """

    item: Item
    added_at: str
    updated_at: str
    content_hash: str | None
    text_hash: str | None
    enrichment: dict[str, Any] | None
    tags: list[tuple[str, str]] = field(default_factory=list)  # (tag, added at), by tag
    edits: list[AnalystEdit] = field(default_factory=list)
    raw: RawInput | None = None
    raw_stored_at: str | None = None
    # The stored history of analysts' changes (``store.edits``), oldest first: each row's change number, field,
    # action, value, previous value, time and the change it undoes.
    history: list[dict[str, Any]] = field(default_factory=list)


def read_record(store: SqliteStore, item_id: str) -> ItemRecord | None:
    """The whole record of one item, or None when it is not stored."""
    db = store.db
    row = db.execute(f"SELECT {', '.join(_RECORD_COLUMNS)} FROM items WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        return None
    data = {column: row[column] for column in ITEM_COLUMNS}
    for column in JSON_FIELDS:
        data[column] = json.loads(data[column])
    data["signals"] = [Signal(**s) for s in data["signals"]]
    tagged = db.execute("SELECT tag, added_at FROM item_tags WHERE item_id = ? ORDER BY tag", (item_id,))
    tags = [(r[0], r[1]) for r in tagged]
    data["tags"] = [tag for tag, _ in tags]
    edited = db.execute("SELECT field, value, edited_at FROM analyst_edits WHERE item_id = ? ORDER BY id", (item_id,))
    edits = [AnalystEdit(r[0], json.loads(r[1]), r[2]) for r in edited]
    raw_row = db.execute(
        "SELECT input, media_type, compressed, stored_at FROM raw_inputs WHERE item_id = ?", (item_id,)
    ).fetchone()
    raw = RawInput(raw_row[0], raw_row[1], zlib.decompress(raw_row[2])) if raw_row else None
    history = [
        {
            "change_no": int(r[0]),
            "field": r[1],
            "action": r[2],
            "value": json.loads(r[3]),
            "previous": None if r[4] is None else json.loads(r[4]),
            "edited_at": r[5],
            "undoes": None if r[6] is None else int(r[6]),
        }
        for r in db.execute(
            "SELECT change_no, field, action, value, previous, edited_at, undoes FROM edit_history"
            " WHERE item_id = ? ORDER BY id",
            (item_id,),
        )
    ]
    return ItemRecord(
        item=Item(**data),
        added_at=row["added_at"],
        updated_at=row["updated_at"],
        content_hash=row["content_hash"],
        text_hash=row["text_hash"],
        enrichment=json.loads(row["enrichment"]) if row["enrichment"] else None,
        tags=tags,
        edits=edits,
        raw=raw,
        raw_stored_at=raw_row[3] if raw_row else None,
        history=history,
    )


def write_record(store: SqliteStore, record: ItemRecord, fingerprint: StoredFingerprint | None) -> str:
    """Write a whole record in one transaction: "added", "updated", or "unchanged" (nothing written).

    The record's own fields, dates, hashes and raw input replace the stored ones. Analyst work is never
    lost: tags are added to those the item has, and edits missing from the stored history join it in the
    order of their times. When that leaves the record as it was, nothing is written. Sectors are stored as
    section names, as every write stores them (a label none takes is kept as a ``sector:`` tag).
    """
    if record.content_hash is None or record.text_hash is None:
        raise ValueError(f"item {record.item.id}: a record needs its content and text hashes to be written")
    db = store.db
    vocabulary = store.sectors
    edited = [label for edit in record.edits if edit.field == "sectors" for label in edit.value]
    labels = [*record.item.sectors, *edited]
    record = _in_section_names(record, vocabulary)
    db.execute("BEGIN IMMEDIATE")
    try:
        before = read_record(store, record.item.id)
        _write_row(store, record)
        for tag, added_at in record.tags:
            db.execute("INSERT INTO item_tags VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (record.item.id, tag, added_at))
        keep_unplaced_labels(db, vocabulary, record.item.id, labels, record.updated_at)
        _merge_edits(store, record, before.edits if before else [])
        _merge_history(store, record, before.history if before else [])
        if fingerprint is not None:
            found = fingerprint
            FingerprintTable(db).write(record.item.id, found.version, found.signature, found.band_keys)
        if read_record(store, record.item.id) == before:
            db.execute("ROLLBACK")
            return "unchanged"
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return "added" if before is None else "updated"


def _in_section_names(record: ItemRecord, vocabulary: SectorVocabulary) -> ItemRecord:
    """The record with its sectors, its analysts' sector edits and enrichment's confidences by section name."""
    edits = [replace(e, value=vocabulary.place(e.value).names) if e.field == "sectors" else e for e in record.edits]
    enrichment = record.enrichment
    if enrichment is not None and isinstance(enrichment.get("sector_confidence"), dict):
        confidence = section_confidence(vocabulary, enrichment["sector_confidence"])
        enrichment = {**enrichment, "sector_confidence": confidence}
    item = replace(record.item, sectors=vocabulary.place(record.item.sectors).names)
    return replace(record, item=item, edits=edits, enrichment=enrichment)


def _write_row(store: SqliteStore, record: ItemRecord) -> None:
    item = record.item
    values: dict[str, Any] = {column: getattr(item, column) for column in ITEM_COLUMNS}
    for column in JSON_FIELDS:
        value = [s.to_dict() for s in item.signals] if column == "signals" else values[column]
        values[column] = json.dumps(value, ensure_ascii=False)
    values.update(
        content_hash=record.content_hash,
        text_hash=record.text_hash,
        added_at=record.added_at,
        updated_at=record.updated_at,
        enrichment=json.dumps(record.enrichment, sort_keys=True) if record.enrichment is not None else None,
    )
    store.db.execute(_UPSERT, values)
    # The full-text row holds the stored themes, as every other write of the item does.
    store.write_fts(item)
    if record.raw is not None:
        raw = record.raw
        store.db.execute(
            UPSERT_RAW,
            (
                item.id,
                raw.input,
                raw.media_type,
                hashlib.sha256(raw.content).hexdigest(),
                zlib.compress(raw.content, RAW_COMPRESSION),
                record.raw_stored_at or record.updated_at,
            ),
        )


def _merge_edits(store: SqliteStore, record: ItemRecord, stored: list[AnalystEdit]) -> None:
    missing = [edit for edit in record.edits if edit not in stored]
    if not missing:
        return
    if stored:
        # The latest edit (by row) wins on read, so merged histories are rewritten in the order of their times.
        store.db.execute("DELETE FROM analyst_edits WHERE item_id = ?", (record.item.id,))
        missing = sorted([*stored, *missing], key=lambda edit: edit.edited_at)
    store.db.executemany(
        "INSERT INTO analyst_edits (item_id, field, value, edited_at) VALUES (?, ?, ?, ?)",
        [(record.item.id, e.field, json.dumps(e.value, ensure_ascii=False), e.edited_at) for e in missing],
    )


def _merge_history(store: SqliteStore, record: ItemRecord, stored: list[dict[str, Any]]) -> None:
    """Add the record's history rows the item does not have yet, in the record's order."""
    store.db.executemany(
        "INSERT INTO edit_history (item_id, change_no, field, action, value, previous, edited_at, undoes)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                record.item.id,
                h["change_no"],
                h["field"],
                h["action"],
                json.dumps(h["value"], ensure_ascii=False),
                None if h["previous"] is None else json.dumps(h["previous"], ensure_ascii=False),
                h["edited_at"],
                h["undoes"],
            )
            for h in record.history
            if h not in stored
        ],
    )
