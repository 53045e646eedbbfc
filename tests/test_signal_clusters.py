"""Signals rows of many items merged into distinct signals, on the real posts and on written paraphrases."""

from __future__ import annotations

import os

import pytest
from conftest import require_shared

from shadowmatch_kb.formats.signals_post import parse_signals_post
from shadowmatch_kb.model import Signal, SignalRow
from shadowmatch_kb.signal_clusters import cluster_rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder():
    os.environ["HF_HUB_OFFLINE"] = "1"  # module fixtures run before conftest's per-test guard
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")


def _row(item: str, signal: str, change: str, published: str | None = None, original: str | None = None):
    return SignalRow(item, Signal(signal, change, "", "technology capability", ""), published, original)


def test_paraphrases_merge_and_different_changes_stay_apart(embedder) -> None:
    rows = [
        _row("a", "AI drafts clinical notes", "from doctors typing notes to reviewing AI-drafted notes", "2024-02-01"),
        _row("b", "AI writes doctors' clinical notes", "from doctors typing notes to doctors reviewing AI drafts",
             "2024-05-01"),
        _row("c", "Banks close branches", "from branch tellers to mobile banking apps", "2024-03-01"),
        _row("d", "AI writes clinical notes for doctors", "from typing notes to reviewing AI drafts", "2024-06-01",
             original="b"),
    ]  # fmt: skip
    clusters = cluster_rows(rows, embedder)
    notes = next(c for c in clusters if "a" in c.item_ids)
    assert set(notes.item_ids) == {"a", "b", "d"}
    assert notes.support == 2  # "d" is a copy of "b": one independent source more, not two
    assert (notes.first_seen, notes.last_seen) == ("2024-02-01", "2024-06-01")
    assert clusters[0] is notes and [c.item_ids for c in clusters[1:]] == [["c"]]
    assert notes.representative.item_id in {"a", "b", "d"}


def test_rows_of_one_item_never_merge_and_empty_input(embedder) -> None:
    same = [_row("a", "AI drafts clinical notes", "from typing to reviewing"),
            _row("a", "AI drafts clinical notes for doctors", "from typing to reviewing drafts")]  # fmt: skip
    assert len(cluster_rows(same, embedder)) == 2
    assert cluster_rows([], embedder) == []


def test_the_rows_of_real_posts_keep_their_authors_distinctions(embedder) -> None:
    folder = require_shared("signals_posts")
    rows = []
    for path in sorted(folder.glob("*.md")):
        post = parse_signals_post(path.read_text(encoding="utf-8"), item_id=path.stem)
        rows += [SignalRow(path.stem, signal, post.published) for signal in post.signals]
    clusters = cluster_rows(rows, embedder)
    assert len(rows) > 700 and len(clusters) < len(rows)  # some changes are stated by several posts
    for cluster in clusters:
        assert len(cluster.item_ids) == len(cluster.rows)  # never two rows of one post
    assert sum(len(c.rows) for c in clusters) == len(rows)
    supports = [c.support for c in clusters]
    assert supports == sorted(supports, reverse=True)
