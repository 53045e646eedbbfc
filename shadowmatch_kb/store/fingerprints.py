"""Near-duplicate fingerprints of items in ``corpus/kb.sqlite``, with their LSH band keys for lookup."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

__all__ = ["FingerprintTable", "StoredFingerprint"]

# SQLite allows 999 parameters per statement in older builds; band keys per item stay far below.
_MAX_KEYS = 500

StoredFingerprint = tuple[str, bytes, str | None]  # (item id, signature bytes, that item's duplicate_of)


class FingerprintTable:
    """Fingerprints keyed by item; items sharing a band key are near-duplicate candidates."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def save(self, item_id: str, version: int, signature: bytes, band_keys: Sequence[int]) -> None:
        """Replace an item's fingerprint and band keys in one transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.write(item_id, version, signature, band_keys)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def write(self, item_id: str, version: int, signature: bytes, band_keys: Sequence[int]) -> None:
        """Replace an item's fingerprint and band keys inside the caller's transaction."""
        self.db.execute("DELETE FROM fingerprint_bands WHERE item_id = ?", (item_id,))
        self.db.execute(
            "INSERT INTO item_fingerprints VALUES (?, ?, ?)"
            " ON CONFLICT (item_id) DO UPDATE SET version = excluded.version, signature = excluded.signature",
            (item_id, version, signature),
        )
        self.db.executemany(
            "INSERT INTO fingerprint_bands VALUES (?, ?)", [(key, item_id) for key in band_keys[:_MAX_KEYS]]
        )

    def candidates(self, band_keys: Sequence[int], *, version: int, exclude_id: str) -> list[StoredFingerprint]:
        """Other items that share a band key, fingerprinted with the same scheme version."""
        if not band_keys:
            return []
        keys = list(band_keys[:_MAX_KEYS])
        marks = ",".join("?" * len(keys))
        rows = self.db.execute(
            "SELECT f.item_id, f.signature, i.duplicate_of FROM item_fingerprints f JOIN items i ON i.id = f.item_id"
            f" WHERE f.version = ? AND f.item_id != ? AND f.item_id IN"
            f" (SELECT item_id FROM fingerprint_bands WHERE band_key IN ({marks}))"
            " ORDER BY i.added_at, i.id",
            (version, exclude_id, *keys),
        ).fetchall()
        return [(row[0], row[1], row[2]) for row in rows]
