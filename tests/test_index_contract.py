"""One contract for every VectorIndex: the flat index, embedded Chroma and a real Chroma server.

Vectors are seeded random unit vectors, so the tests are fast and every expected answer can be
computed exactly with numpy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest
from conftest import free_port

from shadowmatch_kb.errors import BackendError, IndexMismatchError
from shadowmatch_kb.index import flat as flat_module
from shadowmatch_kb.index.base import IndexEntry, VectorIndex
from shadowmatch_kb.index.chroma import DEFAULT_EF_SEARCH, ChromaIndex
from shadowmatch_kb.index.flat import FlatIndex

MODEL = "test-model"
DIM = 32
REPO = Path(__file__).resolve().parents[1]

# Chroma warns that a collection without an embedding function has a "legacy" config; that is deliberate.
pytestmark = pytest.mark.filterwarnings("ignore:legacy embedding function config:DeprecationWarning")


def unit_vectors(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    """n seeded random unit vectors of ``dim`` columns."""
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def ids_of(hits) -> list[str]:
    """The item ids of a list of hits, in order."""
    return [hit.item_id for hit in hits]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


class VectorIndexContract:
    """What every VectorIndex must do; subclasses say how to open one at ``place``."""

    exact = True  # False for approximate (HNSW) backends: they must reach MIN_RECALL instead
    MIN_RECALL = 0.98

    @pytest.fixture
    def place(self, tmp_path: Path):
        """Where an index lives; opening twice at the same place reopens the same index."""
        return tmp_path / "index"

    def make_index(self, place, model: str = MODEL, dimension: int = DIM, **options) -> VectorIndex:
        """Open the index at ``place``."""
        raise NotImplementedError

    @pytest.fixture
    def index(self, place) -> VectorIndex:
        """A fresh, empty index."""
        return self.make_index(place)

    @pytest.fixture(params=["buffered", "flushed"])
    def filled(self, request, index: VectorIndex):
        """An index holding items a..e with 3, 2, 0, 1, 4 chunks; returns (index, items, chunks).

        Every test runs twice: on changes still buffered and on changes already flushed.
        """
        items = unit_vectors(5, seed=1)
        counts = {"a": 3, "b": 2, "c": 0, "d": 1, "e": 4}
        all_chunks = unit_vectors(sum(counts.values()), seed=2)
        chunks, start = {}, 0
        for (item_id, n), vector in zip(counts.items(), items, strict=True):
            chunks[item_id] = all_chunks[start : start + n]
            start += n
            index.upsert(item_id, f"hash-{item_id}", vector, chunks[item_id])
        if request.param == "flushed":
            index.flush()
        return index, dict(zip(counts, items, strict=True)), chunks

    def test_upserted_item_is_its_own_nearest(self, filled) -> None:
        index, items, _ = filled
        hits = index.query_items(items["b"], k=3)
        assert hits[0].item_id == "b"
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert hits[0].chunk == -1
        assert len(hits) == 3
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    def test_query_chunks_gives_each_item_once_with_its_best_chunk(self, filled) -> None:
        index, _, chunks = filled
        query = chunks["e"][2] + 0.05 * unit_vectors(1, seed=9)[0]
        hits = index.query_chunks(query, k=10)
        assert ids_of(hits)[0] == "e"
        assert hits[0].chunk == 2
        # c has no chunks, so only four items can match, each exactly once.
        assert sorted(ids_of(hits)) == ["a", "b", "d", "e"]
        for hit in hits:
            scores = [cosine(query, vector) for vector in chunks[hit.item_id]]
            assert hit.chunk == int(np.argmax(scores))
            assert hit.score == pytest.approx(max(scores), abs=1e-4)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    def test_upsert_replaces_every_row_of_the_item(self, filled) -> None:
        index, items, chunks = filled
        new_item, new_chunk = unit_vectors(2, seed=3)
        index.upsert("a", "hash-a2", new_item, new_chunk[None, :])
        assert index.entries()["a"] == IndexEntry("a", "hash-a2", 1)
        np.testing.assert_allclose(index.item_vector("a"), new_item, atol=1e-5)
        old_top = index.query_items(items["a"], k=5)
        assert [h.score for h in old_top if h.item_id == "a"] == [pytest.approx(cosine(items["a"], new_item), abs=1e-4)]
        for old_chunk in chunks["a"]:
            for hit in index.query_chunks(old_chunk, k=5):
                if hit.item_id == "a":
                    assert hit.chunk == 0
                    assert hit.score == pytest.approx(cosine(old_chunk, new_chunk), abs=1e-4)
        index.flush()
        assert index.entries()["a"] == IndexEntry("a", "hash-a2", 1)
        assert index.query_chunks(new_chunk, k=1)[0].item_id == "a"

    def test_delete_forgets_items_and_ignores_unknown_ids(self, filled) -> None:
        index, items, chunks = filled
        index.delete(["a", "no-such-item"])
        assert "a" not in index.entries()
        assert index.item_vector("a") is None
        assert "a" not in ids_of(index.query_items(items["a"], k=10))
        assert "a" not in ids_of(index.query_chunks(chunks["a"][0], k=10))
        index.flush()
        assert sorted(index.entries()) == ["b", "c", "d", "e"]
        assert "a" not in ids_of(index.query_items(items["a"], k=10))

    def assert_chunks(self, index: VectorIndex, item_id: str, expected: np.ndarray) -> None:
        """``index`` gives back exactly ``expected`` for the item: float32, unit rows, chunk i as row i."""
        got = index.chunk_vectors(item_id)
        assert got is not None and got.dtype == np.float32 and got.shape == (len(expected), DIM)
        np.testing.assert_allclose(got, expected, atol=1e-5)

    def test_chunk_vectors_round_trip_in_order(self, place, filled) -> None:
        index, _, chunks = filled
        # Twelve chunks: ids "f#10" and "f#11" sort before "f#2" as text, so order must come from the number.
        chunks["f"] = unit_vectors(12, seed=13)
        index.upsert("f", "hash-f", unit_vectors(1, seed=14)[0], 3.0 * chunks["f"])  # stored normalised
        for item_id, expected in chunks.items():
            self.assert_chunks(index, item_id, expected)  # c has none: shape (0, DIM)
        index.flush()
        again = self.make_index(place)
        for item_id, expected in chunks.items():
            self.assert_chunks(index, item_id, expected)
            self.assert_chunks(again, item_id, expected)

    def test_chunk_vectors_of_unknown_or_deleted_items_are_none(self, place, filled) -> None:
        index, _, _ = filled
        assert index.chunk_vectors("no-such-item") is None
        index.delete(["a", "c"])
        assert index.chunk_vectors("a") is None and index.chunk_vectors("c") is None
        index.flush()
        assert self.make_index(place).chunk_vectors("a") is None

    def test_upsert_replaces_chunk_vectors(self, place, filled) -> None:
        index, items, _ = filled
        fewer = unit_vectors(2, seed=15)
        index.upsert("e", "hash-e2", items["e"], fewer)  # e had four chunks
        index.upsert("a", "hash-a2", items["a"], np.zeros((0, DIM)))
        self.assert_chunks(index, "e", fewer)
        self.assert_chunks(index, "a", np.zeros((0, DIM)))
        index.flush()
        self.assert_chunks(self.make_index(place), "e", fewer)
        self.assert_chunks(self.make_index(place), "a", np.zeros((0, DIM)))

    def test_exclude_filters_ids(self, filled) -> None:
        index, items, _ = filled
        hits = index.query_items(items["a"], k=3, exclude={"a", "b"})
        assert len(hits) == 3
        assert not {"a", "b"} & set(ids_of(hits))
        assert (
            ids_of(index.query_items(items["a"], k=10, exclude={"a"}))
            == ids_of(index.query_items(items["a"], k=10))[1:]
        )

    def test_entries_report_hashes_and_chunk_counts(self, filled) -> None:
        index, _, _ = filled
        expected = {i: IndexEntry(i, f"hash-{i}", n) for i, n in zip("abcde", (3, 2, 0, 1, 4), strict=True)}
        assert index.entries() == expected
        index.flush()
        assert index.entries() == expected

    def test_empty_index_has_no_hits(self, index: VectorIndex) -> None:
        query = unit_vectors(1)[0]
        assert index.query_items(query, k=10) == []
        assert index.query_chunks(query, k=10) == []
        assert index.entries() == {}
        assert index.item_vector("a") is None
        index.flush()
        assert index.query_items(query, k=10) == []

    def test_k_larger_than_count_returns_everything(self, filled) -> None:
        index, items, _ = filled
        query = unit_vectors(1, seed=7)[0]
        expected = sorted(items, key=lambda i: -cosine(query, items[i]))
        assert ids_of(index.query_items(query, k=50)) == expected
        assert sorted(ids_of(index.query_chunks(query, k=50))) == ["a", "b", "d", "e"]
        assert index.query_items(query, k=0) == []

    def test_flushed_changes_survive_reopening(self, place, filled) -> None:
        index, items, chunks = filled
        index.delete(["d"])
        index.flush()
        before_items = index.query_items(items["b"], k=4, exclude={"b"})
        before_chunks = index.query_chunks(chunks["e"][1], k=4)
        again = self.make_index(place)
        assert again.entries() == index.entries()
        assert sorted(again.entries()) == ["a", "b", "c", "e"]
        np.testing.assert_allclose(again.item_vector("c"), items["c"], atol=1e-5)
        after_items = again.query_items(items["b"], k=4, exclude={"b"})
        after_chunks = again.query_chunks(chunks["e"][1], k=4)
        assert ids_of(after_items) == ids_of(before_items)
        assert ids_of(after_chunks) == ids_of(before_chunks)
        assert [h.chunk for h in after_chunks] == [h.chunk for h in before_chunks]
        assert [h.score for h in after_items] == pytest.approx([h.score for h in before_items], abs=1e-5)

    def test_other_model_is_a_mismatch(self, place, filled) -> None:
        index, _, _ = filled
        index.flush()
        with pytest.raises(IndexMismatchError, match=r"other-model.*smkb reindex") as caught:
            self.make_index(place, model="other-model")
        assert MODEL in str(caught.value)
        with pytest.raises(IndexMismatchError):
            self.make_index(place, dimension=DIM * 2)

    def test_rebuild_replaces_an_index_of_another_model(self, place, filled) -> None:
        index, _, _ = filled
        index.flush()
        rebuilt = self.make_index(place, model="other-model", dimension=8, rebuild=True)
        assert rebuilt.entries() == {}
        rebuilt.upsert("x", "hash-x", unit_vectors(1, dim=8)[0], unit_vectors(2, dim=8))
        rebuilt.flush()
        assert list(self.make_index(place, model="other-model", dimension=8).entries()) == ["x"]
        with pytest.raises(IndexMismatchError):
            self.make_index(place)

    def test_matches_exact_search_on_random_vectors(self, place) -> None:
        dim = 384  # the bundled model's width; random vectors this wide are a hard case for HNSW
        index = self.make_index(place, dimension=dim)
        items = unit_vectors(500, dim=dim, seed=4)
        chunks = unit_vectors(1000, dim=dim, seed=5)
        names = [f"{n:032x}" for n in range(500)]
        for n, name in enumerate(names):
            index.upsert(name, f"h{n}", items[n], chunks[2 * n : 2 * n + 2])
        index.flush()
        queries = unit_vectors(30, dim=dim, seed=6)
        found = expected = 0
        for query in queries:
            exact_items = [names[i] for i in np.argsort(-(items @ query))[:10]]
            best_chunk = (chunks @ query).reshape(500, 2).max(axis=1)
            exact_chunks = [names[i] for i in np.argsort(-best_chunk)[:10]]
            got_items = index.query_items(query, k=10)
            got_chunks = index.query_chunks(query, k=10)
            if self.exact:
                assert ids_of(got_items) == exact_items
                assert ids_of(got_chunks) == exact_chunks
                assert [h.score for h in got_items] == pytest.approx(np.sort(items @ query)[::-1][:10], abs=1e-5)
            found += len(set(ids_of(got_items)) & set(exact_items))
            found += len(set(ids_of(got_chunks)) & set(exact_chunks))
            expected += 20
        assert found / expected >= self.MIN_RECALL, f"recall@10 is {found / expected:.3f}"


class TestFlatIndex(VectorIndexContract):
    def make_index(self, place, model: str = MODEL, dimension: int = DIM, **options) -> FlatIndex:
        return FlatIndex(place, model, dimension, **options)

    def test_open_reads_the_recorded_model(self, place, index: FlatIndex) -> None:
        vectors = unit_vectors(2)
        index.upsert("a", "hash-a", vectors[0], vectors)
        assert FlatIndex.open(place) is None  # nothing is written before the first flush
        index.flush()
        opened = FlatIndex.open(place)
        assert opened is not None
        assert (opened.model, opened.dimension) == (MODEL, DIM)
        assert ids_of(opened.query_chunks(vectors[1], k=1)) == ["a"]
        assert opened.query_chunks(vectors[1], k=1)[0].chunk == 1

    def test_committed_matrices_are_memory_mapped(self, place, filled) -> None:
        index, _, _ = filled
        index.flush()
        reopened = FlatIndex(place, MODEL, DIM)
        assert isinstance(reopened._base.items, np.memmap)
        assert isinstance(reopened._base.chunks, np.memmap)
        assert reopened._base.items.dtype == np.float32 and reopened._base.items.flags.c_contiguous
        vectors = reopened.chunk_vectors("e")
        assert vectors is not None and not isinstance(vectors, np.memmap) and vectors.base is None  # a copy

    def test_crash_before_the_manifest_keeps_the_old_index(self, place, filled, monkeypatch) -> None:
        index, items, _ = filled
        index.flush()
        old_entries = index.entries()
        index.upsert("f", "hash-f", unit_vectors(1, seed=11)[0], unit_vectors(2, seed=12))
        index.delete(["a"])

        def crash(directory, manifest):
            raise KeyboardInterrupt("simulated crash before the manifest switch")

        monkeypatch.setattr(flat_module, "_commit_manifest", crash)
        with pytest.raises(KeyboardInterrupt):
            index.flush()
        monkeypatch.undo()
        assert any(p.name.startswith("gen-00000002.") for p in place.iterdir())  # new files were written
        (place / ".tmp-0badc0de-gen-00000003.items.npy").write_bytes(b"half a file")
        reopened = FlatIndex(place, MODEL, DIM)
        assert reopened.entries() == old_entries
        assert ids_of(reopened.query_items(items["a"], k=1)) == ["a"]
        reopened.upsert("g", "hash-g", items["a"], np.zeros((0, DIM)))
        reopened.flush()
        assert sorted(p.name for p in place.iterdir()) == sorted(
            [f"gen-00000002.{part}.npy" for part in ("items", "ids", "hashes", "counts", "chunks")] + ["manifest.json"]
        )
        assert sorted(FlatIndex(place, MODEL, DIM).entries()) == ["a", "b", "c", "d", "e", "g"]

    @pytest.mark.parametrize("failing_rename", range(6))
    def test_a_crash_at_any_rename_leaves_old_or_new(self, place, filled, monkeypatch, failing_rename) -> None:
        index, _, _ = filled
        index.flush()
        old_entries = index.entries()
        index.upsert("f", "hash-f", unit_vectors(1, seed=11)[0], unit_vectors(2, seed=12))
        index.delete(["a"])
        new_entries = index.entries()
        real_replace, calls = os.replace, []

        def replace(src, dst):
            calls.append(dst)
            if len(calls) - 1 == failing_rename:
                raise OSError("simulated crash during rename")
            real_replace(src, dst)

        monkeypatch.setattr(os, "replace", replace)
        with pytest.raises(OSError):
            index.flush()
        monkeypatch.undo()
        # The manifest is the sixth and last rename: until it lands, the old index is the live one.
        assert FlatIndex(place, MODEL, DIM).entries() == old_entries
        if failing_rename == 5:
            assert Path(calls[-1]).name == "manifest.json"
        committed = FlatIndex(place, MODEL, DIM)
        committed.upsert("f", "hash-f", unit_vectors(1, seed=11)[0], unit_vectors(2, seed=12))
        committed.delete(["a"])
        committed.flush()
        assert FlatIndex(place, MODEL, DIM).entries() == new_entries

    def test_a_failure_after_the_manifest_switch_keeps_the_new_index(self, place, filled, monkeypatch) -> None:
        index, _, _ = filled
        index.flush()
        index.delete(["a"])
        real_remove, removals = flat_module._remove_stale, []

        def remove_then_crash(directory, keep):
            removals.append(keep)
            if len(removals) == 2:  # the clean-up that follows the commit
                raise KeyboardInterrupt("simulated crash after the manifest switch")
            real_remove(directory, keep)

        monkeypatch.setattr(flat_module, "_remove_stale", remove_then_crash)
        with pytest.raises(KeyboardInterrupt):
            index.flush()
        monkeypatch.undo()
        assert sorted(FlatIndex(place, MODEL, DIM).entries()) == ["b", "c", "d", "e"]

    def test_flush_refuses_to_overwrite_a_newer_commit(self, place, filled) -> None:
        index, items, _ = filled
        index.flush()
        first, second = FlatIndex(place, MODEL, DIM), FlatIndex(place, MODEL, DIM)
        first.delete(["a"])
        first.flush()
        second.delete(["b"])
        with pytest.raises(BackendError, match="changed on disk"):
            second.flush()
        assert "a" not in FlatIndex(place, MODEL, DIM).entries()

    def test_unreadable_manifest_asks_for_reindex_and_rebuild_recovers(self, place, filled) -> None:
        index, items, chunks = filled
        index.flush()
        (place / "manifest.json").write_text("{ half written", encoding="utf-8")
        with pytest.raises(BackendError, match="smkb reindex"):
            FlatIndex(place, MODEL, DIM)
        rebuilt = FlatIndex(place, MODEL, DIM, rebuild=True)
        rebuilt.upsert("a", "hash-a", items["a"], chunks["a"])
        rebuilt.flush()
        assert list(FlatIndex(place, MODEL, DIM).entries()) == ["a"]

    def test_flat_queries_never_import_chromadb(self, tmp_path: Path) -> None:
        script = textwrap.dedent(
            f"""
            import sys
            import numpy as np
            import shadowmatch_kb.index.chroma  # the module itself must import chromadb lazily
            from shadowmatch_kb.index.flat import FlatIndex
            index = FlatIndex({str(tmp_path)!r}, "m", 4)
            index.upsert("a", "h", np.ones(4), np.eye(4))
            index.flush()
            again = FlatIndex.open({str(tmp_path)!r})
            assert again.query_items(np.ones(4), 1)[0].item_id == "a"
            assert again.query_chunks(np.ones(4), 1)[0].item_id == "a"
            assert "chromadb" not in sys.modules, "chromadb was imported"
            """
        )
        done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


@pytest.mark.slow
class TestChromaPersistent(VectorIndexContract):
    exact = False

    def make_index(self, place, model: str = MODEL, dimension: int = DIM, **options) -> ChromaIndex:
        return ChromaIndex.persistent(place, model, dimension, **options)

    def test_ef_search_is_applied_to_both_collections(self, place, index: ChromaIndex) -> None:
        for collection in (index._items, index._chunks):
            assert collection.configuration["hnsw"]["ef_search"] == DEFAULT_EF_SEARCH
            assert collection.configuration["hnsw"]["space"] == "cosine"
        tuned = self.make_index(place, ef_search=800)
        assert tuned._items.configuration["hnsw"]["ef_search"] == 800


@pytest.mark.slow
class TestChromaHttp(VectorIndexContract):
    exact = False

    @pytest.fixture
    def place(self, chroma_server):
        # Every test gets its own collections on the shared server.
        return (chroma_server, f"t{uuid.uuid4().hex[:12]}")

    def make_index(self, place, model: str = MODEL, dimension: int = DIM, **options) -> ChromaIndex:
        url, prefix = place
        return ChromaIndex.http(url, model, dimension, collection_prefix=prefix, **options)

    def test_unreachable_server_is_a_backend_error(self) -> None:
        with pytest.raises(BackendError, match="127.0.0.1"):
            ChromaIndex.http(f"http://127.0.0.1:{free_port()}", MODEL, DIM)

    def test_a_bad_url_is_a_backend_error(self) -> None:
        with pytest.raises(BackendError, match="not a Chroma server URL"):
            ChromaIndex.http("ftp://example.org/", MODEL, DIM)


def test_a_reader_sees_what_another_writer_committed_after_refresh(tmp_path) -> None:
    """A server opens the index once; `smkb ingest` in another process commits new items while it serves."""
    vectors = unit_vectors(3)
    writer = FlatIndex(tmp_path, "m", DIM)
    writer.upsert("a" * 32, "h1", vectors[0], vectors[:1])
    writer.flush()
    reader = FlatIndex(tmp_path, "m", DIM)
    other = FlatIndex(tmp_path, "m", DIM)
    other.upsert("b" * 32, "h2", vectors[1], vectors[1:2])
    other.flush()
    assert [hit.item_id for hit in reader.query_items(vectors[1], 2)] == ["a" * 32]  # not seen yet
    reader.refresh()
    assert [hit.item_id for hit in reader.query_items(vectors[1], 2)] == ["b" * 32, "a" * 32]
    # An index holding changes of its own keeps them: refreshing never drops a pending write.
    other.upsert("c" * 32, "h3", vectors[2], vectors[2:3])
    other.refresh()
    assert "c" * 32 in {hit.item_id for hit in other.query_items(vectors[2], 3)}


def test_chroma_without_its_extra_is_a_clear_error(tmp_path, monkeypatch):
    from shadowmatch_kb.index.chroma import ChromaIndex

    monkeypatch.setitem(sys.modules, "chromadb", None)  # what an install without the [chroma] extra has
    for opening in (
        lambda: ChromaIndex.persistent(tmp_path / "chroma", model="m", dimension=4),
        lambda: ChromaIndex.http("http://127.0.0.1:9", model="m", dimension=4),
    ):
        with pytest.raises(BackendError, match=r"pip install 'shadowmatch_kb\[chroma\]'"):
            opening()
