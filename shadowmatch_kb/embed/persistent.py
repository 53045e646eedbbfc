"""PersistentEmbedder: vectors of short texts kept on disk between runs.

Briefings and the tracker compare Signals rows by meaning, and the same rows come back in every run;
embedding them once and reading them back afterwards keeps a warm briefing fast. The cache is derived
data under ``indexes/`` (``smkb reindex`` may drop it); one SQLite file per model, so two processes can
share it, and a write that cannot happen (a read-only folder, a busy writer) only costs speed.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from shadowmatch_kb.embed.base import Embedder

if TYPE_CHECKING:
    import numpy as np

__all__ = ["PersistentEmbedder", "cache_path_for"]

_BATCH = 500


def cache_path_for(indexes_dir: Path, model_name: str, purpose: str) -> Path:
    """The cache file of one model for one purpose ("signals"), named by a digest of the model name."""
    digest = hashlib.sha1(model_name.encode()).hexdigest()[:12]
    return indexes_dir / "vectors" / f"{purpose}-{digest}.sqlite"


def _key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


class PersistentEmbedder:
    """Wraps an embedder; every vector it computes is kept in ``path`` and read from there next time."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.dimension = inner.dimension
        self.path = path
        self.hits = 0
        self.misses = 0
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=0.5, isolation_level=None, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
            except (OSError, sqlite3.Error):
                return None  # no cache: every text is embedded, as without one
            self._db = db
        return self._db

    def close(self) -> None:
        """Close the cache file."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts``: cached vectors are read back, the rest embedded together and stored."""
        import numpy as np

        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        keys = [_key(text) for text in texts]
        found = self._read(list(set(keys)))
        missing: dict[bytes, list[int]] = {}
        for row, key in enumerate(keys):
            blob = found.get(key)
            if blob is None:
                missing.setdefault(key, []).append(row)
            else:
                out[row] = np.frombuffer(blob, dtype=np.float32)
        self.hits += len(texts) - sum(len(rows) for rows in missing.values())
        self.misses += len(missing)
        if missing:
            fresh = np.asarray(self.inner.embed_batch([texts[rows[0]] for rows in missing.values()]), np.float32)
            for rows, vector in zip(missing.values(), fresh, strict=True):
                out[rows] = vector
            self._write([(key, vector.tobytes()) for key, vector in zip(missing, fresh, strict=True)])
        return out

    def _read(self, keys: list[bytes]) -> dict[bytes, bytes]:
        db = self._connect()
        found: dict[bytes, bytes] = {}
        if db is None:
            return found
        try:
            for start in range(0, len(keys), _BATCH):
                batch = keys[start : start + _BATCH]
                marks = ",".join("?" * len(batch))
                for key, blob in db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", batch):
                    if len(blob) == 4 * self.dimension:
                        found[key] = blob
        except sqlite3.Error:
            return {}
        return found

    def _write(self, entries: list[tuple[bytes, bytes]]) -> None:
        db = self._connect()
        if db is None:
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", entries)
            db.execute("COMMIT")
        except sqlite3.Error:
            # Busy or read-only: these vectors are computed again next time.
            if db.in_transaction:
                db.execute("ROLLBACK")
