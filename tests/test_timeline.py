"""Items through time (store/timeline.py) and the on-disk vector cache of Signals rows (embed/persistent.py)."""

from __future__ import annotations

import numpy as np

from shadowmatch_kb.embed.persistent import PersistentEmbedder
from shadowmatch_kb.model import Item, ItemFilter, Signal
from shadowmatch_kb.store.sqlite import SqliteStore
from shadowmatch_kb.store.timeline import dated_items, signal_rows


class CountingEmbedder:
    """Deterministic vectors from a hash of the text; counts the texts it is asked for."""

    model_name = "counting"
    dimension = 8

    def __init__(self) -> None:
        self.asked: list[str] = []

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        self.asked.extend(texts)
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=8) for t in texts]
        out = np.asarray(rows, dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _store(tmp_path):
    store = SqliteStore(tmp_path / "items.sqlite")
    items = [
        Item(
            "a" * 32,
            "Old",
            published="2024-01-05",
            sectors=["Health"],
            themes=["Automation"],
            signals=[Signal("AI scribes", "from typing notes to reviewing drafts")],
        ),
        Item("b" * 32, "Undated", sectors=["Finance"], signals=[Signal("Robo advice", "x"), Signal("Fraud AI", "y")]),
        Item("c" * 32, "Copy", published="2024-03-01", duplicate_of="a" * 32, signals=[Signal("AI scribes", "z")]),
        Item("d" * 32, "No rows", published="2023-12-31", themes=["Skills"]),
    ]
    for item in items:
        store.put_item(item, content_hash=item.id, text_hash=item.id, raw=None)
    return store


def test_dated_items_carry_published_and_import_dates_and_analyst_edits(tmp_path):
    store = _store(tmp_path)
    store.record_edit("a" * 32, "sectors", ["Education"])
    found = {d.item_id: d for d in dated_items(store)}
    assert found["a" * 32].date == "2024-01-05" and found["a" * 32].dated_by == "published"
    assert found["a" * 32].sectors == ("education",)  # the correction wins, as its section's name
    assert (
        found["b" * 32].undated and found["b" * 32].date == found["b" * 32].imported and len(found["b" * 32].date) == 10
    )
    assert found["c" * 32].duplicate_of == "a" * 32
    assert [d.item_id for d in dated_items(store)][0] == "d" * 32  # oldest first
    assert [d.item_id for d in dated_items(store, ItemFilter(theme="skills"))] == ["d" * 32]


def test_signal_rows_keep_item_order_dates_and_originals(tmp_path):
    store = _store(tmp_path)
    rows = signal_rows(store, ["c" * 32, "b" * 32, "d" * 32, "missing" + "0" * 25])
    assert [(r.item_id[0], r.signal.signal) for r in rows] == [
        ("c", "AI scribes"),
        ("b", "Robo advice"),
        ("b", "Fraud AI"),
    ]
    assert rows[0].source == "a" * 32 and rows[0].published == "2024-03-01"
    assert len(signal_rows(store)) == 4


def test_persistent_embedder_reads_back_what_it_computed(tmp_path):
    path = tmp_path / "vectors" / "signals.sqlite"
    inner = CountingEmbedder()
    first = PersistentEmbedder(inner, path)
    a = first.embed_batch(["one", "two", "one"])
    assert inner.asked == ["one", "two"]
    first.close()
    again = PersistentEmbedder(inner, path)
    b = again.embed_batch(["two", "one", "three"])
    assert inner.asked == ["one", "two", "three"]  # only the new text was embedded
    np.testing.assert_array_equal(b[0], a[1])
    np.testing.assert_array_equal(b[1], a[0])
    assert again.hits == 2 and again.misses == 1


def test_persistent_embedder_without_a_writable_folder_still_embeds(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    embedder = PersistentEmbedder(CountingEmbedder(), blocker / "vectors.sqlite")
    assert embedder.embed_batch(["one"]).shape == (1, 8)
