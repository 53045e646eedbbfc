"""Cluster centres of the kept grouping (trends/cluster_index.py), searched exactly or through a coarse quantiser;
the row vectors it reads and the file it writes.

While there are at most ``EXACT_CLUSTERS`` clusters every centre is compared with a row (one matrix product), as
``cluster_rows`` does; beyond that the centres are split into cells by spherical k-means on the centres and a row
is compared with the centres of its ``PROBES`` closest cells only.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.model import SignalRow, row_text

__all__ = [
    "CELL_SIZE",
    "EXACT_CLUSTERS",
    "PROBES",
    "Centres",
    "embed_new",
    "reorder_segments",
    "stand_in",
    "write_atomically",
]

# Up to this many clusters every centre is compared with each row (exact; about 0.3 ms a row at the limit).
EXACT_CLUSTERS = 2048
CELL_SIZE = 256  # clusters per cell of the coarse quantiser, on average, when it is trained
PROBES = 12  # cells searched per row


class Centres:
    """Cluster sums and unit centres, searched exactly or through the cells of a coarse quantiser."""

    def __init__(self, sums: np.ndarray, coarse: np.ndarray | None, cell_of: np.ndarray | None) -> None:
        self.count = len(sums)
        self.sums = np.zeros((max(64, 2 * self.count), sums.shape[1]), dtype=np.float32)
        self.sums[: self.count] = sums
        self.centres = np.zeros_like(self.sums)
        if coarse is None:
            for c in range(self.count):
                self._normalise(c)
        elif self.count:  # approximate search: the last bit of a centre matters no more, and this is 100x faster
            norms = np.sqrt(np.einsum("ij,ij->i", sums, sums))
            self.centres[: self.count] = sums / np.where(norms > 0, norms, 1.0)[:, None]
        self.coarse = coarse
        self.cell_of: list[int] = [] if cell_of is None else [int(x) for x in cell_of]
        # Per cell: its clusters' numbers and centres in arrays with room to grow (the first ``cell_len`` rows
        # are used), and each cluster's row in its cell, so a row's search and a centre's move are numpy steps.
        self.cell_ids: list[np.ndarray] = []
        self.cell_mats: list[np.ndarray] = []
        self.cell_len: list[int] = []
        self.slot_of: list[int] = []
        if coarse is not None:
            self._fill_cells()

    def _normalise(self, c: int) -> None:
        # As cluster_rows computes it, so that exact search gives the same clusters bit for bit.
        norm = float(np.sqrt(self.sums[c] @ self.sums[c]))
        self.centres[c] = self.sums[c] / (norm or 1.0)

    def _fill_cells(self) -> None:
        assert self.coarse is not None
        members: list[list[int]] = [[] for _ in range(len(self.coarse))]
        self.slot_of = [0] * self.count
        for c in range(self.count):
            cell = self.cell_of[c]
            self.slot_of[c] = len(members[cell])
            members[cell].append(c)
        self.cell_len = [len(ids) for ids in members]
        room = [max(16, 2 * len(ids)) for ids in members]
        self.cell_ids = [np.zeros(n, np.int64) for n in room]
        self.cell_mats = [np.zeros((n, self.sums.shape[1]), np.float32) for n in room]
        for k, ids in enumerate(members):
            if ids:
                self.cell_ids[k][: len(ids)] = ids
                self.cell_mats[k][: len(ids)] = self.centres[ids]

    def candidates(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The cosines of the centres searched for ``vector`` and their cluster numbers."""
        if self.coarse is None:
            return self.centres[: self.count] @ vector, np.arange(self.count)
        probed = np.argpartition(-(self.coarse @ vector), min(PROBES, len(self.coarse)) - 1)[:PROBES]
        near = [int(k) for k in probed if self.cell_len[k]]
        if not near:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        cosines = np.concatenate([self.cell_mats[k][: self.cell_len[k]] @ vector for k in near])
        ids = np.concatenate([self.cell_ids[k][: self.cell_len[k]] for k in near])
        return cosines, ids

    def add(self, vector: np.ndarray) -> int:
        """A new cluster of one row."""
        c = self.count
        if c == len(self.sums):
            self.sums = np.concatenate([self.sums, np.zeros_like(self.sums)])
            self.centres = np.concatenate([self.centres, np.zeros_like(self.centres)])
        self.count += 1
        self.sums[c] = 0.0
        self.grow(c, vector, new=True)
        if self.coarse is None and self.count > EXACT_CLUSTERS:
            self.train()
        return c

    def grow(self, c: int, vector: np.ndarray, *, new: bool = False) -> None:
        """Add a row's vector to cluster ``c`` (``new``: it was just born) and move its centre."""
        self.sums[c] += vector
        self._normalise(c)
        if self.coarse is None:
            return
        if new:
            self._enter_cell(c, int(np.argmax(self.coarse @ self.centres[c])))
            if self.count > 4 * CELL_SIZE * len(self.coarse):
                self.train()
        else:
            self.cell_mats[self.cell_of[c]][self.slot_of[c]] = self.centres[c]

    def _enter_cell(self, c: int, cell: int) -> None:
        used = self.cell_len[cell]
        if used == len(self.cell_ids[cell]):  # room doubles: adding stays cheap however large a cell grows
            self.cell_ids[cell] = np.concatenate([self.cell_ids[cell], np.zeros_like(self.cell_ids[cell])])
            self.cell_mats[cell] = np.concatenate([self.cell_mats[cell], np.zeros_like(self.cell_mats[cell])])
        self.cell_ids[cell][used] = c
        self.cell_mats[cell][used] = self.centres[c]
        self.cell_len[cell] = used + 1
        self.cell_of.append(cell)
        self.slot_of.append(used)

    def reset(self, c: int, total: np.ndarray) -> None:
        """Cluster ``c`` recomputed from the rows it has left (rows were removed)."""
        self.sums[c] = total
        self._normalise(c)
        if self.coarse is not None:
            self.cell_mats[self.cell_of[c]][self.slot_of[c]] = self.centres[c]

    def train(self) -> None:
        """Split the centres into cells (spherical k-means on at most 32k of them, seeded, so reruns agree)."""
        centres = self.centres[: self.count]
        k = max(2, self.count // CELL_SIZE)
        rng = np.random.default_rng(7)
        sample = centres[rng.choice(self.count, min(self.count, 32 * 1024), replace=False)]
        coarse = sample[rng.choice(len(sample), k, replace=False)].copy()
        for _ in range(6):
            nearest = np.argmax(sample @ coarse.T, axis=1)
            sums = np.zeros_like(coarse)
            np.add.at(sums, nearest, sample)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            coarse = np.where(norms > 0, sums / np.maximum(norms, 1e-12), coarse).astype(np.float32)
        self.coarse = coarse
        parts = np.array_split(centres, max(1, self.count // 8192))
        self.cell_of = [int(x) for part in parts for x in np.argmax(part @ coarse.T, axis=1)]
        self._fill_cells()


def stand_in(rows: Sequence[SignalRow], centre: np.ndarray, vectors: dict[str, np.ndarray]) -> SignalRow:
    """The row of ``rows`` closest to ``centre`` (the first of equals), from the vectors of their texts."""
    matrix = np.stack([vectors[row_text(row.signal)] for row in rows])
    return rows[int(np.argmax(matrix @ centre))]


def embed_new(model: Embedder, texts: list[str], vectors: dict[str, np.ndarray]) -> None:
    """Add the vectors of the ``texts`` not in ``vectors`` yet, each distinct text embedded once, in one batch."""
    wanted = [text for text in dict.fromkeys(texts) if text not in vectors]
    if wanted:
        vectors.update(zip(wanted, np.asarray(model.embed_batch(wanted), dtype=np.float32), strict=True))


def write_atomically(path: Path, arrays: dict[str, Any]) -> None:
    """Write ``arrays`` as one ``.npz`` file in one step (a temporary file put in place); a failed write costs only
    speed (the grouping is done again next time)."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass  # a read-only or full disk
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def reorder_segments(starts: np.ndarray, values: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segments of one flat array (segment k is ``values[starts[k]:starts[k + 1]]``) put in ``order``: the new
    starts and values."""
    lengths = np.diff(starts)[order]
    new_starts = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return new_starts, values[np.repeat(starts[order] - new_starts[:-1], lengths) + np.arange(new_starts[-1])]
