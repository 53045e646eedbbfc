"""The clusters of rows in hand from a kept grouping, as ``cluster_rows`` returns them: how the tests compare the
grouping the tracker keeps between runs with grouping every row again (the tracker itself reads arrays)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.model import SignalRow, row_text
from shadowmatch_kb.signal_clusters import SignalCluster, latest_first
from shadowmatch_kb.trends.centres import embed_new, stand_in
from shadowmatch_kb.trends.cluster_index import _UNDATED, ClusterIndex, Member


def clusters_of(
    index: ClusterIndex, rows: Sequence[SignalRow], embedder: Callable[[], Embedder]
) -> list[SignalCluster]:
    """The clusters of ``rows`` (all placed by ``sync``), most supported first (then most recent).

    A cluster lists only the given rows; when the row that words it best is not among them, the given row
    closest to its centre stands for it (``embedder`` is called then only).
    """
    by_item: dict[str, list[tuple[int, SignalRow]]] = {}
    for position, row in enumerate(rows):
        by_item.setdefault(row.item_id, []).append((position, row))
    item_ids = list(by_item)
    owners, numbers, clusters = index.assignments(item_ids)
    placed = np.bincount(owners, minlength=len(item_ids)).tolist()
    for item_id, count in zip(item_ids, placed, strict=True):
        if count < len(by_item[item_id]):
            raise ValueError(f"row {count} of item {item_id} is not in the trend clusters: sync them first")
    entries = [
        ((by_item[item_ids[o]][n][1].published or _UNDATED, by_item[item_ids[o]][n][0]), item_ids[o], n, c)
        for o, n, c in zip(owners.tolist(), numbers.tolist(), clusters.tolist(), strict=True)
        if n < len(by_item[item_ids[o]])
    ]
    members: dict[int, list[Member]] = {}
    for _, item_id, n, c in sorted(entries):
        members.setdefault(c, []).append((item_id, n, by_item[item_id][n][1]))
    found: list[SignalCluster] = []
    missing: list[tuple[SignalCluster, int, list[Member]]] = []
    for c in sorted(members):
        rows_of = members[c]
        cluster = SignalCluster(representative=rows_of[0][2], rows=[row for _, _, row in rows_of])
        rep = next((row for item_id, n, row in rows_of if (item_id, n) == index.representative(c)), None)
        if rep is None and len(rows_of) > 1:
            missing.append((cluster, c, rows_of))
        cluster.representative = rep or cluster.representative
        found.append(cluster)
    if missing:
        vectors: dict[str, np.ndarray] = {}
        embed_new(embedder(), [row_text(row.signal) for _, _, rows in missing for _, _, row in rows], vectors)
        for cluster, c, members_of in missing:
            cluster.representative = stand_in([row for _, _, row in members_of], index.centre(c), vectors)
    return sorted(found, key=lambda cluster: (-cluster.support, latest_first(cluster.last_seen)))
