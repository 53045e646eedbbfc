"""Storing an item once: the same canonical URL is one item, the same text is one item, and a
near-duplicate (a syndicated copy, a lightly edited rewrite) is stored but linked to its original
through ``duplicate_of`` so it is counted once wherever items are counted.

Two files can claim one item (Signals posts named by their id, one copy in an older layout): a variant
never overwrites a newer version. When the stored version came from another file that still exists,
the incoming one replaces it only if it is newer by published date, or, on the same date, if only it
names an external link (the older layout links just to its own post); otherwise the stored version
stays and the incoming file is reported ``unchanged`` with the reason. Re-importing both is then a
no-op, whatever their order. A file that replaces one moved away (the old path is gone) is an update.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from shadowmatch_kb.fetch.safety import page_address
from shadowmatch_kb.ingest.near_duplicates import (
    FINGERPRINT_VERSION,
    THRESHOLD,
    Fingerprint,
    band_keys,
    fingerprint,
    similarity,
)
from shadowmatch_kb.ingest.readers import is_url, text_hash
from shadowmatch_kb.model import Item
from shadowmatch_kb.store.fingerprints import FingerprintTable
from shadowmatch_kb.store.records import now
from shadowmatch_kb.store.sqlite import RawInput, SqliteStore

__all__ = ["READER_VERSION", "StoreDecision", "content_hash_of", "store_once"]

# A file named by an item's id (a Signals post) keeps that id.
_HEX_ID = re.compile(r"^[0-9a-f]{32}$")
# Bumped when readers change what they make of the same bytes, so re-imports pick the change up.
READER_VERSION = b"1"


def content_hash_of(raw: bytes) -> str:
    """The hash that says "these exact bytes were read before, by this version of the readers"."""
    return hashlib.sha256(READER_VERSION + b"\0" + raw).hexdigest()


@dataclass(frozen=True)
class StoreDecision:
    """What storing an item did: added, updated, unchanged, or duplicate (not stored)."""

    outcome: str
    item_id: str
    duplicate_of: str | None = None
    reason: str | None = None


def _near_original(table: FingerprintTable, item_id: str, found: Fingerprint) -> tuple[str, float] | None:
    best: tuple[str, float] | None = None
    for other_id, signature, other_duplicate_of in table.candidates(
        band_keys(found), version=FINGERPRINT_VERSION, exclude_id=item_id
    ):
        score = similarity(found, Fingerprint.from_bytes(signature))
        # Link to the group's original, never to another copy, so groups never chain.
        original = other_duplicate_of or other_id
        if score >= THRESHOLD and original != item_id and (best is None or score > best[1]):
            best = (original, score)
    return best


def store_once(
    store: SqliteStore, item: Item, raw: RawInput, *, identical: str = "link", tags: list[str] | None = None
) -> StoreDecision:
    """Store an item unless its bytes are unchanged; link or refuse copies of stored text.

    ``identical="link"`` stores an exact copy with ``duplicate_of`` (an analyst's explicit import);
    ``identical="skip"`` does not store it at all (a crawl that met the same story at another URL).
    """
    tags = tags or []
    content_hash = content_hash_of(raw.content)
    state = store.state(item.id)
    earlier = _stored_at_same_page(store, item, raw) if state is None else None
    if earlier is not None:
        item.id, state = earlier, store.state(earlier)
    if state is not None and (state.content_hash == content_hash or _an_earlier_input(store, item.id, raw)):
        if tags:
            store.add_tags(item.id, tags, [])
        return StoreDecision("unchanged", item.id)
    kept = _kept_variant(store, item, raw) if state is not None else None
    if kept is not None:
        if tags:
            store.add_tags(item.id, tags, [])
        return StoreDecision("unchanged", item.id, reason=kept)
    digest = text_hash(item)
    same_text = store.find_by_text_hash(digest, item.id)
    if same_text and identical == "skip":
        return StoreDecision("duplicate", same_text, same_text, f"same text as item {same_text}")
    table = FingerprintTable(store.db)
    found = fingerprint(f"{item.title}\n{item.text}")
    reason = None
    if same_text:
        item.duplicate_of = same_text
        reason = f"same text as item {same_text}"
    else:
        near = _near_original(table, item.id, found)
        item.duplicate_of = near[0] if near else None
        if near:
            reason = f"near-duplicate of item {near[0]} (similarity {near[1]:.2f})"
    item.tags = tags
    if earlier is not None:
        _keep_stored_input(store, item.id, raw)
    store.put_item(item, content_hash=content_hash, text_hash=digest, raw=raw)
    table.save(item.id, FINGERPRINT_VERSION, found.to_bytes(), band_keys(found))
    return StoreDecision("updated" if state else "added", item.id, item.duplicate_of, reason)


def _is_file(source: str | None) -> bool:
    return source is not None and os.path.isabs(source) and not is_url(source)


def _kept_variant(store: SqliteStore, item: Item, raw: RawInput) -> str | None:
    """Why the stored version of ``item`` stays, when ``raw`` is another file's variant of it; else None."""
    stored_from = store.raw_source(item.id)
    if stored_from is None or stored_from == raw.input or not (_is_file(stored_from) and _is_file(raw.input)):
        return None
    if not Path(stored_from).exists():
        return None  # the stored version's file is gone (moved, renamed): this one is its successor
    stored = store.get(item.id)
    mine, theirs = _version(item), _version(stored)
    if mine > theirs:
        return None
    if mine[0] < theirs[0]:
        why = f"it is newer ({theirs[0]} against {mine[0] or 'no date'})"
    elif theirs[1] and not mine[1]:
        why = "same date, and only it names an external link"
    else:
        why = "same date: the version stored first stays"
    return f"a variant of item {item.id}, which is kept as stored from {stored_from}: {why}"


def _version(item: Item) -> tuple[str, bool]:
    """What makes one version of an item newer: its date, then whether it names an external link."""
    return (item.published or "", bool(item.url) and item.url != item.source)


def _stored_at_same_page(store: SqliteStore, item: Item, raw: RawInput) -> str | None:
    """The stored item of the page ``item`` names, when it was stored under another id: the article saved as a
    file and then imported by its URL, or its URL with and without a trailing slash or tracking parameters.

    Only pages are merged: a Signals post names the article it is about, but is another document (and one named by
    its id keeps that id, as Closest links name it), so two posts about one article stay two items.
    """
    if item.kind != "html" or (not is_url(raw.input) and _HEX_ID.match(Path(raw.input).stem.lower())):
        return None
    address = page_address(item.url)
    if not address or not is_url(address):
        return None
    key = address.rstrip("/")
    # The stored address may carry tracking parameters or a slash this one lacks: read the candidates that start
    # like it (LIKE's wildcards escaped), then compare them spelled alike.
    pattern = re.sub(r"([\\%_])", r"\\\1", key) + "%"
    rows = store.db.execute(
        "SELECT id, url FROM items WHERE url LIKE ? ESCAPE '\\' AND id != ? AND kind = 'html' AND duplicate_of IS NULL"
        " ORDER BY added_at, id",
        (pattern, item.id),
    )
    for row in rows:
        if (page_address(row[1]) or "").rstrip("/") == key:
            return str(row[0])
    return None


def _an_earlier_input(store: SqliteStore, item_id: str, raw: RawInput) -> bool:
    """True when these bytes are an input the item was read from before another replaced it."""
    digest = hashlib.sha256(raw.content).hexdigest()
    found = store.db.execute("SELECT 1 FROM earlier_inputs WHERE item_id = ? AND sha256 = ?", (item_id, digest))
    return found.fetchone() is not None


def _keep_stored_input(store: SqliteStore, item_id: str, raw: RawInput) -> None:
    """Keep the item's stored raw input (another file or URL of the same page) before ``raw`` replaces it."""
    store.db.execute(
        "INSERT INTO earlier_inputs (item_id, input, media_type, sha256, compressed, stored_at, replaced_at)"
        " SELECT item_id, input, media_type, sha256, compressed, stored_at, ? FROM raw_inputs"
        " WHERE item_id = ? AND input != ? ON CONFLICT DO NOTHING",
        (now(), item_id, raw.input),
    )
