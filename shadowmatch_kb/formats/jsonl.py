"""The lossless export's lines: one JSON object an item (the item's fields and ``record_extras``), and back.

A line is the item as `smkb show` gives it (analyst edits applied, tags by name) with what a restore
needs beside it:

- ``analyst_edits``: ``[{"field", "value", "edited_at"}]``, oldest first (the last of a field wins);
- ``history``: ``[{"change_no", "field", "action", "value", "previous", "edited_at", "undoes"}]``, every
  analyst change as `smkb history` lists it, oldest first (left out when the item has none stored);
- ``raw``: ``{"input", "media_type", "base64", "stored_at"}``, the bytes the item was read from;
- ``record``: ``{"added_at", "updated_at", "content_hash", "text_hash", "enrichment", "unedited",
  "tags"}``: when the item was added and last changed, the hashes that make re-imports no-ops, how its
  computed fields were made, its ``sectors`` and ``themes`` under the analyst edits, and each tag with
  the time it was added.

Lines written before ``record`` existed are read too: their item fields are taken as they are, and what
they lack (dates, hashes) is left for the importer to fill.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from typing import Any

from shadowmatch_kb.model import Item, Signal
from shadowmatch_kb.store.records import AnalystEdit, ItemRecord
from shadowmatch_kb.store.sqlite import EDITABLE_FIELDS, RawInput

__all__ = ["parse_line", "record_extras"]

_ID = re.compile(r"^[0-9a-f]{32}$")
_LIST_FIELDS = ("keywords", "themes", "sectors", "tags", "reference_closest")
_OPTIONAL_FIELDS = ("url", "published", "source", "author", "site", "language")
_SIGNAL_FIELDS = {f.name for f in dataclasses.fields(Signal)}


def record_extras(record: ItemRecord) -> dict[str, Any]:
    """The keys a lossless line adds to the item's own: analyst edits, raw input, and the record's bookkeeping."""
    extras: dict[str, Any] = {"analyst_edits": [dataclasses.asdict(edit) for edit in record.edits]}
    if record.history:
        extras["history"] = record.history
    if record.raw is not None:
        extras["raw"] = {
            "input": record.raw.input,
            "media_type": record.raw.media_type,
            "base64": base64.b64encode(record.raw.content).decode("ascii"),
            "stored_at": record.raw_stored_at,
        }
    extras["record"] = {
        "added_at": record.added_at,
        "updated_at": record.updated_at,
        "content_hash": record.content_hash,
        "text_hash": record.text_hash,
        "enrichment": record.enrichment,
        "unedited": {"sectors": record.item.sectors, "themes": record.item.themes},
        "tags": [{"tag": tag, "added_at": added_at} for tag, added_at in record.tags],
    }
    return extras


def parse_line(text: str, *, now: str) -> ItemRecord:
    """One exported line back into a record; ValueError with the reason when it is not one.

    ``now`` dates what an older line does not date itself (when it was added, its tags, its raw input).
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    item = _item(data)
    kept = _mapping(data, "record")
    edits = [_edit(entry) for entry in _list(data, "analyst_edits", dict)]
    history = [_history_row(entry) for entry in _list(data, "history", dict)]
    raw, stored_at = _raw(data)
    if kept is None:
        tags = [(tag, now) for tag in sorted(set(item.tags))]
        return ItemRecord(item, now, now, None, None, None, tags, edits, raw, stored_at or now, history)
    unedited = _mapping(kept, "unedited") or {}
    for name in ("sectors", "themes"):
        if name in unedited:
            setattr(item, name, _strings(unedited, name))
    if "tags" in kept:
        tags = [(_text(t, "tag"), _text(t, "added_at")) for t in _list(kept, "tags", dict)]
    else:
        tags = [(tag, now) for tag in sorted(set(item.tags))]
    item.tags = [tag for tag, _ in tags]
    enrichment = kept.get("enrichment")
    if enrichment is not None and not isinstance(enrichment, dict):
        raise ValueError("record.enrichment is not an object")
    return ItemRecord(
        item,
        _text(kept, "added_at"),
        _text(kept, "updated_at"),
        _text(kept, "content_hash"),
        _text(kept, "text_hash"),
        enrichment,
        tags,
        edits,
        raw,
        stored_at,
        history,
    )


def _item(data: dict[str, Any]) -> Item:
    item_id = data.get("id")
    if not isinstance(item_id, str) or not _ID.match(item_id):
        raise ValueError("no item id of 32 lowercase hex digits")
    fields: dict[str, Any] = {"id": item_id, "title": _text(data, "title")}
    for name in ("text", "summary", "kind"):
        if name in data:
            fields[name] = _text(data, name)
    for name in _OPTIONAL_FIELDS:
        fields[name] = _optional(data, name)
    for name in _LIST_FIELDS:
        fields[name] = _strings(data, name)
    duplicate_of = _optional(data, "duplicate_of")
    if duplicate_of is not None and not _ID.match(duplicate_of):
        raise ValueError("duplicate_of is not an item id")
    fields["duplicate_of"] = duplicate_of
    fields["signals"] = [_signal(entry) for entry in _list(data, "signals", dict)]
    return Item(**fields)


def _signal(entry: dict[str, Any]) -> Signal:
    unknown = set(entry) - _SIGNAL_FIELDS
    if unknown:
        raise ValueError(f"a signal has unknown keys: {', '.join(sorted(unknown))}")
    _text(entry, "signal")  # the one field a row cannot lack
    return Signal(**{name: _text(entry, name) for name in entry})


def _edit(entry: dict[str, Any]) -> AnalystEdit:
    name = _text(entry, "field")
    if name not in EDITABLE_FIELDS:
        raise ValueError(f"an analyst edit of {name!r}: only {' and '.join(EDITABLE_FIELDS)} are edited")
    return AnalystEdit(name, _strings(entry, "value"), _text(entry, "edited_at"))


def _history_row(entry: dict[str, Any]) -> dict[str, Any]:
    """One row of an item's change history, checked field by field."""
    number, undoes = entry.get("change_no"), entry.get("undoes")
    if not isinstance(number, int) or not (undoes is None or isinstance(undoes, int)):
        raise ValueError("history: change_no and undoes must be whole numbers")
    previous = None if entry.get("previous") is None else _strings(entry, "previous")
    return {
        "change_no": number,
        "field": _text(entry, "field"),
        "action": _text(entry, "action"),
        "value": _strings(entry, "value"),
        "previous": previous,
        "edited_at": _text(entry, "edited_at"),
        "undoes": undoes,
    }


def _raw(data: dict[str, Any]) -> tuple[RawInput, str | None]:
    raw = _mapping(data, "raw")
    if raw is None:
        # Every stored item keeps the bytes it was read from; a line without them is no lossless record.
        raise ValueError("raw is missing: a lossless export line carries the input its item was read from")
    try:
        content = base64.b64decode(_text(raw, "base64"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("raw.base64 is not base64") from None
    return RawInput(_text(raw, "input"), _text(raw, "media_type"), content), _optional(raw, "stored_at")


def _mapping(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"{key} is not an object")
    return value


def _list(data: dict[str, Any], key: str, kind: type) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
        raise ValueError(f"{key} is not a list of {'objects' if kind is dict else 'strings'}")
    return value


def _strings(data: dict[str, Any], key: str) -> list[str]:
    return list(_list(data, key, str))


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} is missing or not a string")
    return value


def _optional(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} is not a string")
    return value
