"""Emerging signals on constructed monthly histories, and the backtest's cut-offs, split and interval."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from shadowmatch_kb.trends.emerging import (
    EMERGENCE_METHODS,
    EmergenceParams,
    emergence_from_statements,
    emergence_scores,
    flag_emerging,
)

REPO = Path(__file__).resolve().parents[1]
MONTHS = 36


def _load_backtest():
    spec = importlib.util.spec_from_file_location("eval_trends", REPO / "scripts" / "eval_trends.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_trends"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


backtest = _load_backtest()


def _background() -> list[list[int]]:
    """Clusters stated once each, spread over three years: what most of a real corpus looks like."""
    return [[1 if m == k else 0 for m in range(MONTHS)] for k in range(0, MONTHS, 2)]


@pytest.mark.parametrize("method", EMERGENCE_METHODS)
def test_scores_from_statements_equal_scores_from_the_monthly_matrix(method: str) -> None:
    """The tracker scores clusters from one entry per item stating them (at 100k items a clusters-by-months
    matrix is hundreds of MB); each method must give what it gives on the matrix, unstated clusters included."""
    import numpy as np

    rng = np.random.default_rng(7)
    clusters, months = 300, MONTHS
    cluster = np.concatenate([rng.integers(0, clusters - 20, 900), rng.integers(0, 40, 300)])  # 20 never stated
    month = np.concatenate([rng.integers(0, months, 900), rng.integers(months - 4, months, 300)])
    matrix = np.zeros((clusters, months), dtype=np.int64)
    np.add.at(matrix, (cluster, month), 1)
    params = EmergenceParams(method=method)
    assert emergence_from_statements(cluster, month, clusters, months, params) == emergence_scores(matrix, params)
    assert emergence_scores(matrix, params) == emergence_scores(matrix.tolist(), params)


def test_age_surprise_is_support_over_what_clusters_had_reached_at_the_same_age() -> None:
    """The definition, computed cluster by cluster, against the method's summed-by-birth-month arithmetic."""
    import numpy as np

    rng = np.random.default_rng(3)
    matrix = (rng.random((200, MONTHS)) < 0.03).astype(np.int64) * rng.integers(1, 4, (200, MONTHS))
    matrix[:5] = 0  # never stated
    births = [int(np.flatnonzero(row)[0]) if row.any() else -1 for row in matrix]
    expected = []
    for age in range(MONTHS):
        reached = [matrix[c, : b + age + 1].sum() for c, b in enumerate(births) if b >= 0 and b + age < MONTHS]
        expected.append(sum(reached) / len(reached) if reached else 1.0)
    want = [
        round(matrix[c].sum() / expected[MONTHS - 1 - b], 4) if b >= 0 and MONTHS - 1 - b < 12 else None
        for c, b in enumerate(births)
    ]
    assert emergence_scores(matrix, EmergenceParams()) == want


def test_a_burst_is_flagged_a_steady_series_and_a_one_item_cluster_are_not() -> None:
    steady = [1 if m % 3 == 0 else 0 for m in range(MONTHS)]  # stated every quarter for three years
    burst = [0] * (MONTHS - 3) + [1, 2, 2]  # first stated three months ago, five items since
    single_new = [0] * (MONTHS - 1) + [1]  # the newest cluster, but stated once
    histories = [steady, burst, single_new, *_background()]
    params = EmergenceParams()
    scores = emergence_scores(histories, params)
    flagged = flag_emerging(scores, [sum(h) for h in histories], params)
    assert flagged[0] == 1
    assert 0 not in flagged and 2 not in flagged
    assert scores[0] is None  # too old to be emerging, however steady


def test_every_method_ranks_the_burst_above_the_one_item_cluster() -> None:
    burst = [0] * (MONTHS - 3) + [1, 2, 2]
    single_new = [0] * (MONTHS - 1) + [1]
    for method in EMERGENCE_METHODS:
        scores = emergence_scores([burst, single_new, *_background()], EmergenceParams(method=method))
        assert (scores[0] or 0.0) > (scores[1] or 0.0), method


def test_poisson_burst_sets_a_cluster_against_its_own_earlier_rate() -> None:
    # Two old clusters with the same recent count: the one that was quiet before bursts, the busy one does not.
    quiet_then_burst = [1] + [0] * (MONTHS - 4) + [1, 1, 1]
    busy_all_along = [1] * MONTHS
    params = EmergenceParams(method="poisson_burst", max_age_months=MONTHS + 1)
    scores = emergence_scores([quiet_then_burst, busy_all_along, *_background()], params)
    assert (scores[0] or 0.0) > 2 * (scores[1] or 0.0)


def test_no_histories_and_unknown_methods() -> None:
    assert emergence_scores([], EmergenceParams()) == []
    assert emergence_scores([[0, 0, 0]], EmergenceParams()) == [None]  # never stated
    with pytest.raises(ValueError, match="unknown emergence method"):
        emergence_scores([[0, 1]], EmergenceParams(method="counting"))


# ----- the backtest's design, on a small synthetic corpus -----------------------------------------


def test_cutoffs_need_history_and_future_and_the_split_leaves_a_gap() -> None:
    # Two posts a month from 2022-01 to 2022-12.
    months = [f"2022-{m:02d}" for m in range(1, 13) for _ in range(2)]
    cutoffs = backtest.eligible_cutoffs(months, 3, min_history=6, min_future=4)
    assert cutoffs[0] == "2022-04"  # six posts before it
    assert cutoffs[-1] == "2022-10"  # its window (10, 11, 12) ends by the month after the last post
    dev, test = backtest.split_cutoffs(cutoffs, 3, "2022-08")
    assert dev == ["2022-04", "2022-05"]  # windows end by 2022-08
    assert test == ["2022-08", "2022-09", "2022-10"]
    assert set(cutoffs) - set(dev) - set(test) == {"2022-06", "2022-07"}  # straddle the split: neither
    assert backtest.eligible_cutoffs([], 3, 1, 1) == []
    assert backtest.month_add("2022-12", 1) == "2023-01" and backtest.month_add("2023-01", -13) == "2021-12"


def test_the_interval_is_seeded_paired_and_honest_about_an_empty_baseline() -> None:
    even = backtest.ratio_interval([1, 0, 2, 1, 0, 1], [1, 0, 2, 1, 0, 1])
    assert even[0] == 1.0 and even[1] == [1.0, 1.0]  # paired units: the same hits resample to the same ratio
    better = backtest.ratio_interval([3, 2, 3, 2, 3, 2, 3, 2], [1, 1, 1, 1, 1, 1, 1, 1])
    assert better[0] == 2.5 and better[1] is not None and better[1][0] > 1.0
    assert better == backtest.ratio_interval([3, 2, 3, 2, 3, 2, 3, 2], [1] * 8)  # fixed seed
    noisy = backtest.ratio_interval([1, 0, 0, 0], [0, 1, 0, 1])
    assert noisy[0] == 0.5 and noisy[1] is not None and noisy[1][1] is None  # some resamples: baseline 0
    assert backtest.ratio_interval([1], [0]) == (None, None)


def test_lists_and_tally_on_constructed_cutoff() -> None:
    steady = [1] * 18
    burst = [0] * 15 + [1, 1, 1]
    singles = [[1 if m == k else 0 for m in range(18)] for k in range(0, 18, 2)]
    histories = [steady, burst, *singles]
    n = len(histories)
    state = backtest.CutoffState(
        "2023-01",
        histories,
        [sum(h) for h in histories],
        ["2022-12"] * n,
        [f"u{i}" for i in range(n)],
        {3: [i in (0, 1) for i in range(n)]},
    )
    lists = backtest.rankings(state, lambda hs: emergence_scores(hs, EmergenceParams()))
    assert lists["frequency"][:2] == [0, 1]  # the most stated in the last six months
    assert lists["ours"][0] == 1  # the new burst; the steady one is too old
    assert 0 not in lists["ours"]
    tally = backtest.Tally(cutoffs=1)
    for name, picked in lists.items():
        tally.add(name, [state.units[i] for i in picked], [state.grew[3][i] for i in picked])
    assert tally.hits("frequency") == 2 and tally.hits("ours") == 1
    summary = backtest.summarise(tally, ("2023-01", "2023-01"))
    assert summary["hits_per_cutoff"]["frequency"] == 2.0 and summary["ratio_vs_frequency"] == 0.5


@pytest.mark.skipif(not backtest.POSTS.is_dir(), reason="real Signals posts absent (../shared/data/signals_posts)")
def test_backtest_cutoff_on_the_real_posts() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    items, rows, _ = backtest.load_posts("2026-12-06")
    assert all(d.date for d in items)  # only published dates
    embedder = backtest.MemoEmbedder(SentenceTransformerEmbedder("all-MiniLM-L6-v2"))
    state = backtest.prepare_cutoff("2024-01", items, rows, embedder, 0.65, [3, 12])
    assert len(state.histories) > 100 and all(len(h) == len(state.histories[0]) for h in state.histories)
    assert sum(state.grew[3]) <= sum(state.grew[12])  # a longer window can only add recurrences
    lists = backtest.rankings(state, lambda hs: emergence_scores(hs, EmergenceParams()))
    assert all(len(picked) == backtest.TOP for picked in lists.values())
