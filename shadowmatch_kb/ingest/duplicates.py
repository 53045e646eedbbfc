"""Storing an item once: the same canonical URL is one item, the same text is one item, and a
near-duplicate (a syndicated copy, a lightly edited rewrite) is stored but linked to its original
through ``duplicate_of`` so it is counted once wherever items are counted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shadowmatch_kb.ingest.near_duplicates import (
    FINGERPRINT_VERSION,
    THRESHOLD,
    Fingerprint,
    band_keys,
    fingerprint,
    similarity,
)
from shadowmatch_kb.ingest.readers import text_hash
from shadowmatch_kb.model import Item
from shadowmatch_kb.store.fingerprints import FingerprintTable
from shadowmatch_kb.store.sqlite import RawInput, SqliteStore

__all__ = ["READER_VERSION", "StoreDecision", "content_hash_of", "store_once"]

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
    if state is not None and state.content_hash == content_hash:
        if tags:
            store.add_tags(item.id, tags, [])
        return StoreDecision("unchanged", item.id)
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
    store.put_item(item, content_hash=content_hash, text_hash=digest, raw=raw)
    table.save(item.id, FINGERPRINT_VERSION, found.to_bytes(), band_keys(found))
    return StoreDecision("updated" if state else "added", item.id, item.duplicate_of, reason)
