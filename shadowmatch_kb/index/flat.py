"""FlatIndex: exact cosine search over memory-mapped float32 matrices, committed by generation.

Layout of the index directory::

    manifest.json                  model, dimension, counts and the live generation's file names
    gen-00000007.items.npy         (n, dim) float32, one item vector per row
    gen-00000007.ids.npy           (n,) fixed-width bytes, the item id of each row
    gen-00000007.hashes.npy        (n,) fixed-width bytes, the content hash of each row
    gen-00000007.counts.npy        (n,) int32, how many chunk vectors each item has
    gen-00000007.chunks.npy        (sum(counts), dim) float32, chunk vectors grouped by item in row order

Changes are buffered in memory (queries see them at once) and written by ``flush()`` as a new
generation: every file goes to a temporary name and is renamed into place, and only then is the
manifest replaced to point at it. A crash at any moment therefore leaves either the old or the new
complete index; files of other generations and temporary files are removed by the next flush.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shadowmatch_kb.errors import BackendError, IndexMismatchError
from shadowmatch_kb.index.base import IndexEntry, VectorHit, checked_vectors, normalised

__all__ = ["FlatIndex"]

FORMAT = "smkb-flat"
VERSION = 1
MANIFEST = "manifest.json"
_PARTS = ("items", "ids", "hashes", "counts", "chunks")
_GEN_FILE = re.compile(r"^gen-(\d{8})\.(items|ids|hashes|counts|chunks)\.npy$")
_TMP_PREFIX = ".tmp-"
_COPY_ROWS = 8192  # rows copied per block when writing, so a flush never holds a second full matrix


@dataclass(frozen=True)
class _Pending:
    content_hash: str
    item: np.ndarray  # (dim,) float32, normalised
    chunks: np.ndarray  # (n, dim) float32, normalised


class _Generation:
    """The arrays of one committed generation, memory-mapped, plus lookups cached per open."""

    def __init__(
        self, items: np.ndarray, ids: np.ndarray, hashes: np.ndarray, counts: np.ndarray, chunks: np.ndarray
    ) -> None:
        self.items = items
        self.ids = ids
        self.hashes = hashes
        self.counts = counts
        self.chunks = chunks
        self.offsets = np.zeros(len(counts), dtype=np.int64)
        if len(counts):
            np.cumsum(counts[:-1], out=self.offsets[1:])
        # Rows that own at least one chunk, and where their runs start: reduceat needs non-empty runs.
        self.chunked_rows = np.flatnonzero(np.asarray(counts) > 0)
        self.chunk_starts = self.offsets[self.chunked_rows]
        self._id_list: list[str] | None = None
        self._rows: dict[str, int] | None = None

    @classmethod
    def empty(cls, dimension: int) -> _Generation:
        """A generation with no rows."""
        vectors = np.zeros((0, dimension), dtype=np.float32)
        return cls(vectors, np.zeros(0, "S1"), np.zeros(0, "S1"), np.zeros(0, np.int32), vectors)

    @property
    def id_list(self) -> list[str]:
        """Item ids by row, decoded once per open."""
        if self._id_list is None:
            self._id_list = [raw.decode("utf-8") for raw in self.ids.tolist()]
        return self._id_list

    @property
    def rows(self) -> dict[str, int]:
        """Row of each item id, built once per open and only when a write or lookup needs it."""
        if self._rows is None:
            self._rows = {item_id: row for row, item_id in enumerate(self.id_list)}
        return self._rows


@dataclass
class _View:
    """What queries need besides the committed generation; rebuilt after each buffered change."""

    dead_rows: np.ndarray  # committed rows that are deleted or superseded
    dead_chunked: np.ndarray  # positions in chunked_rows that are dead
    pending: _Generation  # buffered upserts, shaped like a generation


class FlatIndex:
    """Exact cosine search over float32 matrices on disk; see the module docstring for the layout."""

    def __init__(self, directory: Path, model: str, dimension: int, *, rebuild: bool = False) -> None:
        """Open the index in ``directory`` (or start an empty one there).

        With ``rebuild`` an existing index, even one made by another model, is treated as cleared;
        it stays on disk, and live for other readers, until ``flush`` commits the replacement.
        """
        if dimension <= 0:
            raise ValueError(f"dimension must be positive, got {dimension}")
        self.directory = Path(directory)
        self.model = model
        self.dimension = dimension
        self._pending: dict[str, _Pending | None] = {}
        self._cleared = rebuild
        self._view: _View | None = None
        # A rebuild must work even over an unreadable index, so it reads the manifest leniently.
        manifest = _read_manifest(self.directory, strict=not rebuild)
        if manifest is None:
            self._generation = 0
            self._base = _Generation.empty(dimension)
            return
        if rebuild:
            self._generation, self._base = int(manifest["generation"]), _Generation.empty(dimension)
            return
        recorded_model, recorded_dim = manifest["model"], manifest["dimension"]
        if recorded_model != model or recorded_dim != dimension:
            raise IndexMismatchError(
                f"the index in {self.directory} was built with model {recorded_model!r} "
                f"(dimension {recorded_dim}), not {model!r} (dimension {dimension}); "
                "run `smkb reindex` to rebuild it"
            )
        self._generation, self._base = _load_live(self.directory, manifest)

    @classmethod
    def open(cls, directory: Path) -> FlatIndex | None:
        """Open an existing index with the model it records, or None when there is none."""
        manifest = _read_manifest(Path(directory))
        if manifest is None:
            return None
        return cls(Path(directory), manifest["model"], int(manifest["dimension"]))

    # -- writes (buffered until flush) -------------------------------------------------------

    def upsert(self, item_id: str, content_hash: str, item_vector: np.ndarray, chunk_vectors: np.ndarray) -> None:
        """Store or replace an item's vectors (shape (dim,) and (n, dim))."""
        item, chunks = checked_vectors(item_id, self.dimension, item_vector, chunk_vectors)
        self._pending[item_id] = _Pending(content_hash, item, chunks)
        self._view = None

    def delete(self, item_ids: list[str]) -> None:
        """Forget these items (unknown ids are ignored)."""
        for item_id in item_ids:
            self._pending[item_id] = None
        self._view = None

    def refresh(self) -> None:
        """Map the generation another process committed since this one opened the index (a server reading
        while `smkb ingest` writes); an index with changes of its own keeps them and its generation."""
        if self._pending or self._cleared:
            return
        manifest = _read_manifest(self.directory, strict=False)
        if manifest is not None and int(manifest["generation"]) != self._generation:
            self._generation, self._base = _load_live(self.directory, manifest)
            self._view = None

    def flush(self) -> None:
        """Write buffered changes as a new generation and switch the manifest to it."""
        if not self._pending and not self._cleared and (self.directory / MANIFEST).exists():
            return
        on_disk = _read_manifest(self.directory, strict=not self._cleared)
        live = int(on_disk["generation"]) if on_disk else 0
        if live != self._generation and not self._cleared:
            # Another writer committed since this instance opened; writing now would drop its changes.
            raise BackendError(f"the index in {self.directory} changed on disk since it was opened; reopen it")
        self.directory.mkdir(parents=True, exist_ok=True)
        _remove_stale(self.directory, keep=live)
        generation = max(live, self._generation) + 1
        files = _write_generation(self.directory, generation, self._committed_rows(), self._live_pending())
        _fsync_dir(self.directory)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "model": self.model,
            "dimension": self.dimension,
            "generation": generation,
            "items": files.pop("_items"),
            "chunks": files.pop("_chunks"),
            "files": files,
        }
        _commit_manifest(self.directory, manifest)
        self._generation, self._base = _load_live(self.directory, manifest)
        self._pending.clear()
        self._cleared = False
        self._view = None
        _remove_stale(self.directory, keep=generation)

    # -- reads ---------------------------------------------------------------------------------

    def entries(self) -> dict[str, IndexEntry]:
        """Every item held, by id."""
        found: dict[str, IndexEntry] = {}
        hashes = self._base.hashes.tolist()
        counts = self._base.counts.tolist()
        for row, item_id in enumerate(self._base.id_list):
            if item_id not in self._pending:
                found[item_id] = IndexEntry(item_id, hashes[row].decode("utf-8"), int(counts[row]))
        for item_id, pending in self._pending.items():
            if pending is not None:
                found[item_id] = IndexEntry(item_id, pending.content_hash, len(pending.chunks))
        return found

    def item_vector(self, item_id: str) -> np.ndarray | None:
        """The item-level vector of one item, or None when absent."""
        if item_id in self._pending:
            pending = self._pending[item_id]
            return None if pending is None else pending.item.copy()
        row = self._base.rows.get(item_id)
        return None if row is None else np.array(self._base.items[row])

    def chunk_vectors(self, item_id: str) -> np.ndarray | None:
        """The chunk-level vectors of one item in chunk order (shape (n, dim), n may be 0), or None when absent."""
        if item_id in self._pending:
            pending = self._pending[item_id]
            return None if pending is None else pending.chunks.copy()
        row = self._base.rows.get(item_id)
        if row is None:
            return None
        start = int(self._base.offsets[row])
        # np.array copies, so the caller never holds a view into a memory map a later flush replaces.
        return np.array(self._base.chunks[start : start + int(self._base.counts[row])])

    def query_items(self, vector: np.ndarray, k: int, exclude: set[str] | None = None) -> list[VectorHit]:
        """Nearest items by their item-level vectors, best first."""
        query = self._query_vector(vector)
        if k <= 0:
            return []
        view = self._current_view()
        hits: list[VectorHit] = []
        for gen, dead in ((self._base, view.dead_rows), (view.pending, None)):
            if len(gen.ids) == 0:
                continue
            scores = gen.items @ query
            drop = [] if dead is None else [dead]
            if exclude:
                drop.append(np.array([gen.rows[i] for i in exclude if i in gen.rows], dtype=np.int64))
            for rows in drop:
                scores[rows] = -np.inf
            top = _top_rows(scores, k)
            hits.extend(VectorHit(gen.id_list[row], _clipped(scores[row]), -1) for row in top)
        return _best(hits, k)

    def query_chunks(self, vector: np.ndarray, k: int) -> list[VectorHit]:
        """Nearest items by their best-matching chunk vector, best first, one hit per item."""
        query = self._query_vector(vector)
        if k <= 0:
            return []
        view = self._current_view()
        hits: list[VectorHit] = []
        for gen, dead in ((self._base, view.dead_chunked), (view.pending, None)):
            if len(gen.chunked_rows) == 0:
                continue
            scores = gen.chunks @ query
            # Chunks of an item are contiguous, so each item's best chunk is a segment maximum: exact,
            # one pass, and no over-fetching when one item owns many of the nearest chunks.
            best = np.maximum.reduceat(scores, gen.chunk_starts)
            if dead is not None:
                best[dead] = -np.inf
            for pos in _top_rows(best, k):
                row = int(gen.chunked_rows[pos])
                start = int(gen.offsets[row])
                chunk = int(np.argmax(scores[start : start + int(gen.counts[row])]))
                hits.append(VectorHit(gen.id_list[row], _clipped(best[pos]), chunk))
        return _best(hits, k)

    # -- internals -----------------------------------------------------------------------------

    def _query_vector(self, vector: np.ndarray) -> np.ndarray:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape != (self.dimension,):
            raise ValueError(f"query vector has shape {query.shape}, expected ({self.dimension},)")
        return normalised(query)

    def _current_view(self) -> _View:
        if self._view is not None:
            return self._view
        base = self._base
        dead_mask = np.zeros(len(base.ids), dtype=bool)
        if self._pending:
            rows = base.rows
            dead_mask[[rows[i] for i in self._pending if i in rows]] = True
        live = self._live_pending()
        if live:
            counts = np.array([len(p.chunks) for _, p in live], dtype=np.int32)
            pending = _Generation(
                np.stack([p.item for _, p in live]),
                np.array([i.encode("utf-8") for i, _ in live]),
                np.array([p.content_hash.encode("utf-8") for _, p in live]),
                counts,
                np.concatenate([p.chunks for _, p in live]),
            )
        else:
            pending = _Generation.empty(self.dimension)
        self._view = _View(
            dead_rows=np.flatnonzero(dead_mask),
            dead_chunked=np.flatnonzero(dead_mask[base.chunked_rows]),
            pending=pending,
        )
        return self._view

    def _live_pending(self) -> list[tuple[str, _Pending]]:
        return [(i, p) for i, p in self._pending.items() if p is not None]

    def _committed_rows(self) -> tuple[_Generation, np.ndarray]:
        """The committed generation (empty once cleared) and its rows that survive the buffered changes."""
        keep = np.ones(len(self._base.ids), dtype=bool)
        rows = self._base.rows if self._pending else {}
        keep[[rows[i] for i in self._pending if i in rows]] = False
        return self._base, np.flatnonzero(keep)


# -- module helpers ------------------------------------------------------------------------------


def _clipped(score: np.floating) -> float:
    """Cosine similarity as a float in [-1, 1] (float32 rounding can step just outside)."""
    return max(-1.0, min(1.0, float(score)))


def _top_rows(scores: np.ndarray, k: int) -> list[int]:
    """Indices of the k highest finite scores, best first."""
    if k < len(scores):
        candidates = np.argpartition(scores, len(scores) - k)[len(scores) - k :]
    else:
        candidates = np.arange(len(scores))
    ordered = candidates[np.argsort(-scores[candidates], kind="stable")]
    return [int(i) for i in ordered if scores[i] > -np.inf]


def _best(hits: list[VectorHit], k: int) -> list[VectorHit]:
    return sorted(hits, key=lambda hit: (-hit.score, hit.item_id))[:k]


def _read_manifest(directory: Path, strict: bool = True) -> dict | None:
    """The manifest, or None when absent (or, unless ``strict``, unreadable)."""
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        if not strict:
            return None
        raise BackendError(f"cannot read {path}: {exc}; run `smkb reindex` to rebuild the index") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION or "generation" not in manifest:
        if not strict:
            return None
        raise BackendError(f"{path} is not a version {VERSION} {FORMAT} index; run `smkb reindex` to rebuild the index")
    return manifest


def _load_live(directory: Path, manifest: dict) -> tuple[int, _Generation]:
    """Memory-map the generation a manifest names, rereading the manifest if a writer just replaced it."""
    for _ in range(3):
        try:
            arrays = {part: np.load(directory / manifest["files"][part], mmap_mode="r") for part in _PARTS}
        except FileNotFoundError:
            # A concurrent flush may have committed a newer generation and removed this one.
            newer = _read_manifest(directory)
            if newer is None or newer["generation"] == manifest["generation"]:
                break
            manifest = newer
            continue
        gen = _Generation(**arrays)
        dim = int(manifest["dimension"])
        consistent = (
            gen.items.shape == (manifest["items"], dim)
            and gen.chunks.shape == (manifest["chunks"], dim)
            and len(gen.ids) == len(gen.hashes) == len(gen.counts) == manifest["items"]
            and int(np.sum(gen.counts, dtype=np.int64)) == manifest["chunks"]
        )
        if not consistent:
            break
        return int(manifest["generation"]), gen
    raise BackendError(
        f"the index files in {directory} are missing or inconsistent; run `smkb reindex` to rebuild them"
    )


def _write_generation(
    directory: Path,
    generation: int,
    committed: tuple[_Generation, np.ndarray],
    live: list[tuple[str, _Pending]],
) -> dict:
    """Write every file of a generation (each renamed into place once complete); return their names."""
    base, keep = committed
    dimension = base.items.shape[1]
    kept = np.zeros(len(base.ids), dtype=bool)
    kept[keep] = True
    chunk_keep = np.flatnonzero(np.repeat(kept, base.counts))
    names = {part: f"gen-{generation:08d}.{part}.npy" for part in _PARTS}

    def item_blocks() -> Iterator[np.ndarray]:
        for start in range(0, len(keep), _COPY_ROWS):
            yield base.items[keep[start : start + _COPY_ROWS]]
        for _, pending in live:
            yield pending.item[None, :]

    def chunk_blocks() -> Iterator[np.ndarray]:
        for start in range(0, len(chunk_keep), _COPY_ROWS):
            yield base.chunks[chunk_keep[start : start + _COPY_ROWS]]
        for _, pending in live:
            yield pending.chunks

    n_items = len(keep) + len(live)
    n_chunks = len(chunk_keep) + sum(len(p.chunks) for _, p in live)
    ids = _bytes_array(base.ids[keep].tolist() + [i.encode("utf-8") for i, _ in live])
    hashes = _bytes_array(base.hashes[keep].tolist() + [p.content_hash.encode("utf-8") for _, p in live])
    counts = np.array(base.counts[keep].tolist() + [len(p.chunks) for _, p in live], dtype="<i4")
    _write_array(directory / names["items"], item_blocks(), np.dtype("<f4"), (n_items, dimension))
    _write_array(directory / names["chunks"], chunk_blocks(), np.dtype("<f4"), (n_chunks, dimension))
    for part, array in (("ids", ids), ("hashes", hashes), ("counts", counts)):
        _write_array(directory / names[part], iter([array]), array.dtype, (n_items,))
    return {**names, "_items": n_items, "_chunks": n_chunks}


def _bytes_array(values: list[bytes]) -> np.ndarray:
    width = max((len(v) for v in values), default=1) or 1
    return np.array(values, dtype=f"S{width}")


def _write_array(path: Path, blocks: Iterator[np.ndarray], dtype: np.dtype, shape: tuple[int, ...]) -> None:
    """Stream blocks into a .npy file under a temporary name, sync it, then rename it into place."""
    tmp = path.with_name(f"{_TMP_PREFIX}{secrets.token_hex(4)}-{path.name}")
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    with open(tmp, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        for block in blocks:
            fh.write(np.ascontiguousarray(block, dtype=dtype).tobytes())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _commit_manifest(directory: Path, manifest: dict) -> None:
    """Atomically replace the manifest: the single step that makes a generation live."""
    path = directory / MANIFEST
    tmp = path.with_name(f"{_TMP_PREFIX}{secrets.token_hex(4)}-{MANIFEST}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(directory)


def _remove_stale(directory: Path, keep: int) -> None:
    """Delete temporary files and the files of every generation except ``keep``."""
    for path in directory.iterdir():
        match = _GEN_FILE.match(path.name)
        stale = path.name.startswith(_TMP_PREFIX) or (match is not None and int(match.group(1)) != keep)
        if stale:
            try:
                path.unlink()
            except FileNotFoundError:
                pass


def _fsync_dir(directory: Path) -> None:
    """Persist renames in a directory (not possible on every platform, hence the guard)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
