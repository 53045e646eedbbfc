"""The tracker counted on columns (trends/columns.py) gives the report the row-by-row path gave, through the CLI.

The row-by-row path is the tracker as it was: ``dated_items`` and ``signal_rows`` read whole, the rows grouped by
the kept grouping fed with every row (in memory here) and ``build_trends`` over the clusters of the rows counted.
On a knowledge base with no undated or future-dated rows that grouping is ``cluster_rows`` itself
(tests/test_cluster_index.py).
"""

from __future__ import annotations

import datetime
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import DEMO, copy_kb, require_shared, smkb
from trend_clusters import clusters_of

from shadowmatch_kb.model import ItemFilter


def _row_by_row(kb_dir: Path, where: ItemFilter | None, by: str | None) -> dict:
    from shadowmatch_kb.kb import KnowledgeBase
    from shadowmatch_kb.store.timeline import dated_items, signal_rows
    from shadowmatch_kb.trends.cluster_index import ClusterIndex
    from shadowmatch_kb.trends.plot import choose_period
    from shadowmatch_kb.trends.service import TOP_SERIES, TREND_COSINE, build_trends, dated_up_to_today, split_future

    with KnowledgeBase.open(kb_dir) as kb:
        store, embedder = kb.store, kb.signal_embedder()
        items = dated_items(store, where)
        rows = signal_rows(store, [d.item_id for d in items])
        clusters = None
        if rows:
            index = ClusterIndex(None, embedder.model_name, TREND_COSINE)
            index.sync(signal_rows(store, [d.item_id for d in dated_items(store)]), lambda: embedder)
            clusters = clusters_of(index, dated_up_to_today(items, rows)[1], lambda: embedder)
        everyone = dated_items(store)
        counted, _ = split_future(everyone, datetime.date.today().isoformat())
        until = max(d.date for d in counted)  # a filtered view runs to the whole record's newest date
        report = build_trends(
            items,
            rows,
            None,
            by=by or "month",
            top=TOP_SERIES,
            clusters=clusters,
            themes=store.themes,
            until=until,
            everyone=everyone,
        )
        return json.loads(json.dumps(choose_period(report, by).to_dict()))


def _columns(kb_dir: Path, *options: str) -> dict:
    result = smkb("trends", "--json", *options, kb=kb_dir)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _compare(kb_dir: Path) -> None:
    whole = _row_by_row(kb_dir, None, "month")
    assert whole["series"], "nothing to compare"
    assert _columns(kb_dir, "--by", "month") == whole
    assert _columns(kb_dir) == _row_by_row(kb_dir, None, None)  # the period chosen for thin months
    assert _columns(kb_dir, "--by", "quarter") == _row_by_row(kb_dir, None, "quarter")
    # Warm: the kept grouping read back, nothing embedded, the same report.
    assert _columns(kb_dir, "--by", "month") == whole
    sector = next(s["label"] for s in whole["series"] if s["kind"] == "sector")
    theme = next(s["label"] for s in whole["series"] if s["kind"] == "theme")
    for option, where in (("--sector", ItemFilter(sector=sector)), ("--theme", ItemFilter(theme=theme))):
        value = sector if option == "--sector" else theme
        view = _columns(kb_dir, option, value, "--by", "month")
        assert view == _row_by_row(kb_dir, where, "month"), option
        assert view["periods"][-1] == whole["periods"][-1], option  # the view runs to the record's newest month


@pytest.fixture(scope="module")
def posts_kb(tmp_path_factory, demo_kb) -> Path:
    folder = require_shared("signals_posts")
    kb = tmp_path_factory.mktemp("posts_kb")
    copy_kb(demo_kb / "indexes" / "onnx", kb / "indexes" / "onnx")
    result = smkb("ingest", str(folder), "--json", kb=kb)
    assert result.exit_code == 0, result.stderr
    return kb


@pytest.mark.slow
def test_columns_give_the_row_by_row_report_on_the_real_posts(posts_kb) -> None:
    _compare(posts_kb)


@pytest.mark.slow
def test_columns_give_the_row_by_row_report_on_the_demo_corpus(tmp_path, demo_kb) -> None:
    assert DEMO.is_dir()
    kb = tmp_path / "kb"
    copy_kb(demo_kb, kb)  # a fresh copy: its kept grouping is built by the first call
    shutil.rmtree(kb / "indexes" / "trend-clusters", ignore_errors=True)
    _compare(kb)


@pytest.mark.slow
def test_a_changed_record_is_regrouped_and_counted_again(tmp_path, demo_kb) -> None:
    kb = tmp_path / "kb"
    copy_kb(demo_kb, kb)
    shutil.rmtree(kb / "indexes" / "trend-clusters", ignore_errors=True)
    assert _columns(kb, "--by", "month") == _row_by_row(kb, None, "month")  # the kept grouping is built
    with sqlite3.connect(kb / "corpus" / "kb.sqlite") as db:  # a dated item re-enriched without Signals rows
        gone = db.execute("SELECT id FROM items WHERE signals != '[]' AND published IS NOT NULL").fetchone()[0]
        db.execute("UPDATE items SET signals = '[]' WHERE id = ?", (gone,))
    after = _columns(kb, "--by", "month")
    assert after == _row_by_row(kb, None, "month")
    assert all(gone not in s["item_ids"] for s in after["series"] if s["kind"] == "signal")


def test_lists_are_read_in_one_parse_and_a_damaged_one_counts_as_empty() -> None:
    from shadowmatch_kb.store.timeline import _facet_column

    whole = _facet_column(['["Jobs", "Skills"]', None, "[]", '["Skills"]'])
    assert (whole.items.tolist(), whole.codes.tolist(), whole.values) == ([0, 0, 3], [0, 1, 1], ["Jobs", "Skills"])
    # A damaged list, one holding two values, and values that are not names: each item is then read alone.
    for odd in ("not json", '["a"], ["b"]', "{}", '[3, "Wages"]'):
        found = _facet_column(['["Jobs"]', odd, '["Skills"]'])
        named = [(found.items[n], found.values[c]) for n, c in enumerate(found.codes.tolist())]
        assert named[0] == (0, "Jobs") and named[-1] == (2, "Skills"), odd
        assert [name for item, name in named if item == 1] == (["Wages"] if odd.startswith("[3") else []), odd
