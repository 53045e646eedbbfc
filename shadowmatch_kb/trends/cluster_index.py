"""The tracker's grouping of Signals rows, kept between runs so that a call only groups what is new.

``cluster_rows`` groups every row greedily on each call: O(rows x clusters), and every row text is embedded
again (or read back from the vector cache). Here the outcome of that greedy pass is saved under the knowledge
base's ``indexes/`` folder (derived data), one file per signal model and threshold. On the next call rows
already placed keep their cluster; rows of new items are embedded (only they) and continue the same greedy
pass, oldest first: each joins the closest centre within the threshold, else starts a cluster; rows of
deleted or re-enriched items drop out and the centres they touched are recomputed from the rows left.

Search (trends/centres.py): while there are at most ``EXACT_CLUSTERS`` clusters every centre is compared, so a
fresh build gives exactly ``cluster_rows``' clusters for the same rows in the same order; beyond that a row is
compared with the centres of its closest cells of a coarse quantiser only: approximate, and fast at any size.

Columns: the state is arrays (each item's key and its rows' clusters), and a call reads rows only for the items
that changed (``sync_items`` takes a key per item and a function that reads the rows of the items it names).
``assignments`` gives the cluster of every row of the items counted as arrays, with nothing parsed.

Order: the pass depends on the order rows arrive in. Rows dated after all those placed (new posts) continue
it as a rebuild would; rows dated earlier ("late") and removed rows make it drift from a rebuild, so once they
add up to ``REBUILD_SHARE`` of all rows it is rebuilt (row vectors are cached: a rebuild costs grouping only).

One ``.npz`` file replaced atomically holds it (the cluster sums, its bulk, are read only when rows move);
a file that is unreadable, of another version, model or threshold is rebuilt; every item's key is checked.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.model import SignalRow, row_text
from shadowmatch_kb.trends.centres import (
    EXACT_CLUSTERS,
    PROBES,
    Centres,
    embed_new,
    reorder_segments,
    write_atomically,
)

__all__ = ["EXACT_CLUSTERS", "PROBES", "REBUILD_SHARE", "ClusterIndex", "RowsOf", "state_path"]

STATE_VERSION = 3  # 2: arrays read lazily, keys given by the caller; 3: the tracker keys items by checksums
# Late and removed rows since the last rebuild, as a share of all rows, beyond which the grouping is rebuilt.
REBUILD_SHARE = 0.1
_UNDATED = "9999"  # as in cluster_rows: rows without a date come last
# Reads the Signals rows of the items it is given, each item's rows in order.
RowsOf = Callable[[list[str]], dict[str, list[SignalRow]]]
Member = tuple[str, int, SignalRow]  # (item id, row number within the item, the row)


def state_path(folder: Path, model_name: str, threshold: float) -> Path:
    """The state file of one signal model at one threshold (another model or threshold starts its own)."""
    digest = hashlib.sha1(model_name.encode()).hexdigest()[:12]
    return folder / "trend-clusters" / f"{digest}-{threshold:.4f}.npz"


def _item_key(rows: Sequence[SignalRow]) -> int:
    """A digest of an item's row texts in order: a re-enriched item gets another key and is grouped again."""
    return _text_key("\x1e".join(row_text(row.signal) for row in rows))


def _text_key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


class ClusterIndex:
    """The saved grouping of one knowledge base's Signals rows at one threshold (``path`` None: kept in memory).

    ``sync_items`` (or ``sync`` for rows in hand) brings it up to date with every item of the knowledge base;
    ``assignments`` then gives the cluster of each row of any of those items, ``representative`` and ``centre``
    what words and places each cluster.
    """

    def __init__(self, path: Path | None, model_name: str, threshold: float) -> None:
        self.path, self.model_name, self.threshold = path, model_name, threshold
        # What the last sync did (for benchmarks and tests): rows placed, removed, late, and whether it rebuilt.
        self.facts: dict[str, object] = {}
        self._saved: Any = None  # the open state file, whose sums are read only when needed
        self._clear()

    def _clear(self) -> None:
        self._ids: list[str] = []  # the items placed, each with its key and the slice of its rows' clusters
        self._keys = np.zeros(0, np.uint64)
        self._starts = np.zeros(1, np.int64)
        self._row_clusters = np.zeros(0, np.int32)
        self._position: dict[str, int] | None = None
        self._sums: np.ndarray | None = None
        self._coarse: np.ndarray | None = None
        self._cell_of: np.ndarray | None = None
        self._rep_items: list[str] = []  # per cluster: the row (item id, row number) that words it best
        self._rep_rows: list[int] = []
        self._text_keys = np.zeros(0, np.uint64)  # row text -> the cluster its latest copy joined (sorted keys)
        self._text_clusters = np.zeros(0, np.int32)
        self._new_texts: dict[int, int] = {}  # the same, for rows placed during a sync
        self._max_date = ""
        self._drift = 0  # late and removed rows since the last rebuild
        self._dimension = 0
        self._dead: set[int] = set()  # clusters left empty by removed rows (during a sync)

    cluster_count = property(lambda self: len(self._rep_items), doc="How many clusters the grouping holds.")

    def sync(self, rows: Sequence[SignalRow], embedder: Callable[[], Embedder]) -> None:
        """``sync_items`` for rows in hand: every row of the knowledge base, each item's rows together."""
        by_item: dict[str, list[SignalRow]] = {}
        for row in rows:
            by_item.setdefault(row.item_id, []).append(row)
        keys = [_item_key(found) for found in by_item.values()]
        self.sync_items(list(by_item), keys, lambda ids: {i: by_item[i] for i in ids}, embedder)

    def sync_items(
        self, item_ids: Sequence[str], keys: Sequence[int], rows_of: RowsOf, embedder: Callable[[], Embedder]
    ) -> None:
        """Place the rows of items not placed yet (or whose key changed) and drop those of items gone; save.

        ``item_ids``: every item with Signals rows, oldest first (as ``cluster_rows`` meets them); ``keys``: a digest
        of each one's rows; ``rows_of`` reads the rows of the items it is given (those changed, and those in the
        clusters they touch); ``embedder`` is called only when some row has to be embedded."""
        rank = {item_id: n for n, item_id in enumerate(item_ids)}
        current = dict(zip(item_ids, keys, strict=True))
        read: dict[str, list[SignalRow]] = {}

        def rows_cached(ids: list[str]) -> dict[str, list[SignalRow]]:
            wanted = [i for i in ids if i not in read]
            if wanted:
                read.update(rows_of(wanted))
            return {i: read.get(i, []) for i in ids}

        loaded = self._load()
        try:
            self.facts = {"loaded": loaded, "rebuilt": not loaded}
            if loaded and self._ids == list(item_ids) and np.array_equal(self._keys, np.asarray(keys, np.uint64)):
                # The common warm call: the same items with the same rows, compared as whole lists.
                self.facts.update(new_rows=0, removed_rows=0, late_rows=0)
                return
            saved_keys = self._keys.tolist()
            removed = [n for n, i in enumerate(self._ids) if current.get(i) != saved_keys[n]]
            position = self._positions()
            changed = [i for i in item_ids if (p := position.get(i)) is None or saved_keys[p] != current[i]]
            fresh = _numbered(rows_cached(changed), rank)
            late = sum(1 for _, row in fresh if row.published and row.published < self._max_date)
            lengths = np.diff(self._starts)
            removed_rows = int(lengths[removed].sum()) if removed else 0
            model = embedder() if fresh or removed else None
            total_rows = int(lengths.sum()) - removed_rows + len(fresh)
            drifted = self._drift + late + removed_rows > REBUILD_SHARE * max(total_rows, 1)
            if loaded and model and (drifted or not self._vectors_fit(model.dimension)):
                self._clear()
                self.facts["rebuilt"] = True
                removed, removed_rows, late = [], 0, 0
                fresh = _numbered(rows_cached(list(item_ids)), rank)
            self.facts.update(new_rows=len(fresh), removed_rows=removed_rows, late_rows=late)
            if model is None:
                return
            self._drift += late + removed_rows
            self._read_sums(model.dimension)
            vectors: dict[str, np.ndarray] = {}
            centres = Centres(self._sums, self._coarse, self._cell_of)  # type: ignore[arg-type]
            touched = self._remove(removed, rank, rows_cached, centres, model, vectors)
            touched |= self._place(fresh, current, centres, model, vectors)
            self._choose_representatives(touched, rank, rows_cached, centres, model, vectors)
        finally:
            self._close()
        self._sums, self._coarse = centres.sums[: centres.count].copy(), centres.coarse
        self._cell_of = np.asarray(centres.cell_of, dtype=np.int32) if centres.coarse is not None else None
        self._dimension = model.dimension
        self._merge_texts()
        self._compact()
        self._order_as(item_ids)
        self._save()

    def _positions(self) -> dict[str, int]:
        if self._position is None:
            self._position = {item_id: n for n, item_id in enumerate(self._ids)}
        return self._position

    def _remove(
        self,
        removed: list[int],
        rank: dict[str, int],
        rows_of: RowsOf,
        centres: Centres,
        model: Embedder,
        vectors: dict[str, np.ndarray],
    ) -> set[int]:
        """Drop the rows of the ``removed`` items; each cluster they left is recomputed from its remaining rows."""
        if not removed:
            return set()
        keep = np.ones(len(self._ids), dtype=bool)
        keep[removed] = False
        row_keep = np.repeat(keep, np.diff(self._starts))
        left = {int(c) for c in np.unique(self._row_clusters[~row_keep])}
        self._ids = [i for i, kept in zip(self._ids, keep.tolist(), strict=True) if kept]
        self._keys = self._keys[keep]
        self._starts = np.concatenate([[0], np.cumsum(np.diff(self._starts)[keep])]).astype(np.int64)
        self._row_clusters = self._row_clusters[row_keep]
        self._position = None
        members = self._members(left, rank, rows_of)
        embed_new(model, [row_text(row.signal) for rows in members.values() for _, _, row in rows], vectors)
        for c in left:
            total = np.zeros(centres.sums.shape[1], np.float32)
            for _, _, row in members.get(c, []):
                total += vectors[row_text(row.signal)]
            centres.reset(c, total)
            if c not in members:
                self._dead.add(c)  # no row left: dropped when the state is compacted
        return left

    def _place(
        self,
        fresh: list[tuple[tuple[int, int], SignalRow]],
        keys: dict[str, int],
        centres: Centres,
        model: Embedder,
        vectors: dict[str, np.ndarray],
    ) -> set[int]:
        """Continue the greedy pass of cluster_rows with the new rows, oldest first."""
        fresh = sorted(fresh, key=lambda entry: (entry[1].published or _UNDATED, entry[0]))
        texts = [row_text(row.signal) for _, row in fresh]
        embed_new(model, texts, vectors)
        grown: set[int] = set()
        used: dict[str, set[int]] = {}  # the clusters each new item's rows went to (one row per item in each)
        placed: dict[str, list[tuple[int, int]]] = {}
        for ((_, n), row), text in zip(fresh, texts, strict=True):
            vector, own = vectors[text], used.setdefault(row.item_id, set())
            text_key = _text_key(text)
            best = self._text_cluster(text_key)
            if best in own or best in self._dead:
                best = -1
            if best < 0 and centres.count:
                best = self._nearest(centres, vector, own)
            if best < 0:
                best = centres.add(vector)
                self._rep_items.append(row.item_id)
                self._rep_rows.append(-1)
            else:
                centres.grow(best, vector)
            own.add(best)
            grown.add(best)
            self._new_texts[text_key] = best
            placed.setdefault(row.item_id, []).append((n, best))
            if row.published and row.published > self._max_date:
                self._max_date = row.published
        ids = list(placed)
        clusters = [c for i in ids for _, c in sorted(placed[i])]
        self._ids += ids
        self._keys = np.concatenate([self._keys, np.asarray([keys[i] for i in ids], dtype=np.uint64)])
        ends = self._starts[-1] + np.cumsum([len(placed[i]) for i in ids], dtype=np.int64)
        self._starts = np.concatenate([self._starts, ends])
        self._row_clusters = np.concatenate([self._row_clusters, np.asarray(clusters, dtype=np.int32)])
        self._position = None
        return grown

    def _text_cluster(self, key: int) -> int:
        """The cluster the latest copy of a row text joined, else -1."""
        if key in self._new_texts:
            return self._new_texts[key]
        at = int(np.searchsorted(self._text_keys, np.uint64(key)))
        return int(self._text_clusters[at]) if at < len(self._text_keys) and int(self._text_keys[at]) == key else -1

    def _nearest(self, centres: Centres, vector: np.ndarray, own: set[int]) -> int:
        """The closest cluster within the threshold that holds no row of this item yet, else -1."""
        cosines, ids = centres.candidates(vector)
        if not len(cosines):
            return -1
        top = int(np.argmax(cosines))
        if cosines[top] < self.threshold:
            return -1
        if int(ids[top]) not in own:
            return int(ids[top])
        for c in np.argsort(-cosines):  # as cluster_rows: the next closest ones
            if cosines[c] < self.threshold:
                break
            if int(ids[c]) not in own:
                return int(ids[c])
        return -1

    def _members(self, wanted: set[int], rank: dict[str, int], rows_of: RowsOf) -> dict[int, list[Member]]:
        """The rows of the ``wanted`` clusters as (item id, row number, row), oldest first (as cluster_rows met
        them); only the items holding them are read."""
        if not wanted:
            return {}
        hits = np.flatnonzero(np.isin(self._row_clusters, np.fromiter(wanted, dtype=np.int64)))
        owners = np.searchsorted(self._starts, hits, side="right") - 1
        rows = rows_of([self._ids[o] for o in np.unique(owners).tolist()])
        starts = self._starts.tolist()
        found: dict[int, list[tuple[tuple[str, int, int], Member]]] = {}
        for hit, owner, c in zip(hits.tolist(), owners.tolist(), self._row_clusters[hits].tolist(), strict=True):
            item_id, n = self._ids[owner], hit - starts[owner]
            row = rows[item_id][n]
            found.setdefault(c, []).append(((row.published or _UNDATED, rank.get(item_id, -1), n), (item_id, n, row)))
        return {c: [member for _, member in sorted(entries, key=lambda e: e[0])] for c, entries in found.items()}

    def _choose_representatives(
        self,
        touched: set[int],
        rank: dict[str, int],
        rows_of: RowsOf,
        centres: Centres,
        model: Embedder,
        vectors: dict[str, np.ndarray],
    ) -> None:
        """The row closest to the centre words the signal best for all of them (as in cluster_rows)."""
        members = self._members(touched - self._dead, rank, rows_of)
        embed_new(model, [row_text(row.signal) for rows in members.values() for _, _, row in rows], vectors)
        for c, rows in members.items():
            matrix = np.stack([vectors[row_text(row.signal)] for _, _, row in rows])
            best = rows[int(np.argmax(matrix @ centres.centres[c]))] if len(rows) > 1 else rows[0]
            self._rep_items[c], self._rep_rows[c] = best[0], best[1]

    def _merge_texts(self) -> None:
        """Fold the row texts placed in this sync into the sorted arrays (the latest cluster of a text wins)."""
        if not self._new_texts:
            return
        keys = np.concatenate([self._text_keys, np.fromiter(self._new_texts, dtype=np.uint64)])
        clusters = np.concatenate([self._text_clusters, np.fromiter(self._new_texts.values(), dtype=np.int32)])
        unique, last = np.unique(keys[::-1], return_index=True)
        self._text_keys, self._text_clusters = unique, clusters[::-1][last]
        self._new_texts = {}

    def _compact(self) -> None:
        """Renumber the clusters without the empty ones, keeping their order (the order they were born in)."""
        if not self._dead:
            return
        alive = np.asarray([c for c in range(self.cluster_count) if c not in self._dead], dtype=np.int64)
        number = np.full(self.cluster_count, -1, dtype=np.int32)
        number[alive] = np.arange(len(alive), dtype=np.int32)
        assert self._sums is not None
        self._sums = self._sums[alive]
        if self._cell_of is not None:
            self._cell_of = self._cell_of[alive]
        self._rep_items = [self._rep_items[c] for c in alive.tolist()]
        self._rep_rows = [self._rep_rows[c] for c in alive.tolist()]
        self._row_clusters = number[self._row_clusters]
        renumbered = number[self._text_clusters]
        self._text_keys, self._text_clusters = self._text_keys[renumbered >= 0], renumbered[renumbered >= 0]
        self._dead = set()

    def _order_as(self, item_ids: Sequence[str]) -> None:
        """Keep the items in the caller's order (new items are often dated among the old ones), so that the next
        call with nothing new knows it from comparing two lists."""
        if self._ids == list(item_ids):
            return
        position = self._positions()
        order = np.asarray([position[i] for i in item_ids if i in position], dtype=np.int64)
        if len(order) == len(self._ids):  # else compared item by item next time
            self._starts, self._row_clusters = reorder_segments(self._starts, self._row_clusters, order)
            self._ids, self._keys, self._position = [self._ids[n] for n in order.tolist()], self._keys[order], None

    def assignments(self, item_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For every row of ``item_ids`` (placed by a sync; an item not placed has no rows): its item (an index
        into ``item_ids``), its number within the item and its cluster, items in the order given."""
        position = self._positions()
        found = np.asarray([position.get(i, -1) for i in item_ids], dtype=np.int64)
        lengths = np.where(found >= 0, self._starts[found + 1] - self._starts[np.maximum(found, 0)], 0)
        owners = np.repeat(np.arange(len(item_ids)), lengths)
        firsts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        numbers = np.arange(len(owners)) - firsts
        rows = np.repeat(self._starts[np.maximum(found, 0)], lengths) + numbers
        return owners, numbers, self._row_clusters[rows]

    def representative(self, cluster: int) -> tuple[str, int]:
        """The row (item id, row number) that words cluster ``cluster`` best."""
        return self._rep_items[cluster], self._rep_rows[cluster]

    def centre(self, cluster: int) -> np.ndarray:
        """The unit centre of cluster ``cluster`` (reads the sums when they were not read yet)."""
        if self._sums is None:
            self._load(vectors=True)
            self._close()
        assert self._sums is not None
        return self._sums[cluster] / (float(np.linalg.norm(self._sums[cluster])) or 1.0)

    def _load(self, *, vectors: bool = False) -> bool:
        """Read the saved state (the sums too when ``vectors``); False (and an empty state) when there is none or
        it cannot be trusted."""
        self._clear()
        if self.path is None:
            return False
        try:
            self._saved = np.load(self.path, allow_pickle=False)
            meta = json.loads(str(self._saved["meta"]))
            if (
                meta.get("version") != STATE_VERSION
                or meta.get("model") != self.model_name
                or meta.get("threshold") != self.threshold
            ):
                self._close()
                return False
            ids, keys = self._saved["item_ids"], self._saved["item_keys"]
            starts, row_clusters = self._saved["item_starts"], self._saved["row_clusters"]
            rep_items, rep_rows = self._saved["rep_items"].tolist(), self._saved["rep_rows"].tolist()
            text_keys, text_clusters = self._saved["text_keys"], self._saved["text_clusters"]
            clusters, self._dimension = int(meta["clusters"]), int(meta["dimension"])
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError):
            self._close()
            self._clear()
            return False  # missing, torn or foreign: rebuilt from the rows
        fits = len(rep_items) == clusters == len(rep_rows) and len(starts) == len(ids) + 1 == len(keys) + 1
        if not fits or int(starts[-1]) != len(row_clusters) or (len(row_clusters) and not 0 <= row_clusters.min() <= row_clusters.max() < clusters):  # fmt: skip  # noqa: E501
            self._close()
            return False
        self._ids, self._keys = ids.tolist(), np.asarray(keys, dtype=np.uint64)
        self._starts, self._row_clusters = np.asarray(starts, np.int64), np.asarray(row_clusters, np.int32)
        self._rep_items, self._rep_rows = rep_items, rep_rows  # lists of str and int, from tolist()
        ok = (text_clusters >= 0) & (text_clusters < clusters)
        self._text_keys, self._text_clusters = (
            np.asarray(text_keys, np.uint64)[ok],
            np.asarray(text_clusters, np.int32)[ok],
        )
        self._max_date, self._drift = str(meta.get("max_date", "")), int(meta.get("drift", 0))
        return not vectors or self._vectors_fit(self._dimension)

    def _read_sums(self, dimension: int) -> None:
        """The cluster sums and the coarse quantiser, from the open state file (empty for a new state)."""
        if self._sums is not None:
            return
        if self._saved is None or not self._rep_items:
            self._sums = np.zeros((0, dimension), np.float32)
            return
        sums, coarse, cell_of = self._saved["sums"], self._saved["coarse"], self._saved["cell_of"]
        if len(sums) != self.cluster_count or (len(coarse) and len(cell_of) != len(sums)):
            raise ValueError("the trend clusters' sums do not match their clusters")
        self._sums = np.asarray(sums, dtype=np.float32)
        self._coarse = np.asarray(coarse, dtype=np.float32) if len(coarse) else None
        self._cell_of = np.asarray(cell_of, dtype=np.int32) if len(coarse) else None

    def _vectors_fit(self, dimension: int) -> bool:
        try:
            self._read_sums(dimension)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            return False  # a damaged file: rebuilt
        return self._dimension == dimension

    def _close(self) -> None:
        self._saved = self._saved.close() if self._saved is not None else None

    def _save(self) -> None:
        """Write the state whole to a temporary file and put it in place in one step; a failed write costs
        only speed (the next call groups again)."""
        if self.path is None:
            return
        assert self._sums is not None
        meta = {
            "version": STATE_VERSION,
            "model": self.model_name,
            "threshold": self.threshold,
            "max_date": self._max_date,
            "drift": self._drift,
            "clusters": self.cluster_count,
            "dimension": self._dimension,
        }
        arrays: dict[str, Any] = {
            "meta": np.asarray(json.dumps(meta)),
            "item_ids": np.asarray(self._ids, dtype=str),
            "item_keys": self._keys,
            "item_starts": self._starts,
            "row_clusters": self._row_clusters,
            "sums": np.ascontiguousarray(self._sums, dtype=np.float32),
            "coarse": self._coarse if self._coarse is not None else np.zeros((0, self._sums.shape[1]), np.float32),
            "cell_of": self._cell_of if self._cell_of is not None else np.zeros(0, np.int32),
            "rep_items": np.asarray(self._rep_items, dtype=str),
            "rep_rows": np.asarray(self._rep_rows, dtype=np.int32),
            "text_keys": self._text_keys,
            "text_clusters": self._text_clusters,
        }
        write_atomically(self.path, arrays)


def _numbered(rows: dict[str, list[SignalRow]], rank: dict[str, int]) -> list[tuple[tuple[int, int], SignalRow]]:
    """Each row with its place in the caller's order: (its item's rank, its number within the item)."""
    return [((rank[item_id], n), row) for item_id, found in rows.items() for n, row in enumerate(found)]
