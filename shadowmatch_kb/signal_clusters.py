"""Signals rows of many items merged into distinct signals, each with its independent support.

Two items rarely word the same change alike ("AI drafts clinical notes", "Ambient scribes write the
visit summary"); a briefing and the tracker count it once, supported by both. Rows are compared by
their signal and change, with the bundled embedding model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.model import SignalRow, row_text

__all__ = ["MERGE_COSINE", "SignalCluster", "cluster_rows", "latest_first"]

# Two rows merge when they are closer than this. Measured on the 132 real Signals posts: the rows one
# author wrote as distinct signals of one post reach at most 0.794 of each other in 95 % of cases
# (median 0.56), so above it two rows say the same thing.
MERGE_COSINE = 0.8


@dataclass
class SignalCluster:
    """A distinct signal: the row that stands for it, and every row that says the same."""

    representative: SignalRow
    rows: list[SignalRow] = field(default_factory=list)

    @property
    def support(self) -> int:
        """How many independent items state it (copies of one article count once)."""
        return len({row.source for row in self.rows})

    @property
    def item_ids(self) -> list[str]:
        """The items that state it, each once, in the order they were seen."""
        return list(dict.fromkeys(row.item_id for row in self.rows))

    @property
    def first_seen(self) -> str | None:
        """The earliest published date among its rows (None when no row is dated)."""
        dates = [row.published for row in self.rows if row.published]
        return min(dates) if dates else None

    @property
    def last_seen(self) -> str | None:
        """The latest published date among its rows."""
        dates = [row.published for row in self.rows if row.published]
        return max(dates) if dates else None


def cluster_rows(rows: list[SignalRow], embedder: Embedder, *, threshold: float = MERGE_COSINE) -> list[SignalCluster]:
    """Distinct signals, most supported first (then most recent).

    Rows are taken oldest first, so a cluster is born with its first statement; each joins the closest
    cluster when that is within ``threshold`` of the cluster's centre, else starts its own. Two rows of
    one item never merge: an item states each of its signals once.
    """
    if not rows:
        return []
    order = sorted(range(len(rows)), key=lambda i: (rows[i].published or "9999", i))
    texts = [row_text(rows[i].signal) for i in order]
    # Syndicated copies and reposts repeat rows word for word: each distinct text is embedded once, and a text
    # seen before goes straight to the cluster its last copy joined (its centre was within reach then).
    distinct = list(dict.fromkeys(texts))
    slot = {text: n for n, text in enumerate(distinct)}
    distinct_vectors = np.asarray(embedder.embed_batch(distinct), dtype=np.float32)
    vectors = distinct_vectors[[slot[text] for text in texts]]
    clusters: list[SignalCluster] = []
    members: list[list[int]] = []
    items_in: list[set[str]] = []  # the items of each cluster, so the one-row-per-item rule costs O(1)
    joined_by_text: dict[str, int] = {}
    # Row c: the sum of cluster c's vectors, and that sum normalised (updated only when cluster c grows);
    # grown by doubling, since most corpora hold far fewer clusters than rows.
    sums = np.zeros((64, vectors.shape[1]), dtype=np.float32)
    centres = np.zeros_like(sums)
    for position, i in enumerate(order):
        row, vector = rows[i], vectors[position]
        best = joined_by_text.get(texts[position], -1)
        if best >= 0 and row.item_id in items_in[best]:
            best = -1
        if best < 0 and clusters:
            cosines = centres[: len(clusters)] @ vector
            top = int(np.argmax(cosines))
            if cosines[top] >= threshold and row.item_id not in items_in[top]:
                best = top
            elif cosines[top] >= threshold:  # the closest already holds a row of this item: try the next ones
                for c in np.argsort(-cosines):
                    if cosines[c] < threshold:
                        break
                    if row.item_id not in items_in[c]:
                        best = int(c)
                        break
        if best < 0:
            best = len(clusters)
            if best == len(sums):
                sums = np.concatenate([sums, np.zeros_like(sums)])
                centres = np.concatenate([centres, np.zeros_like(centres)])
            clusters.append(SignalCluster(representative=row))
            members.append([])
            items_in.append(set())
        clusters[best].rows.append(row)
        members[best].append(position)
        items_in[best].add(row.item_id)
        joined_by_text[texts[position]] = best
        sums[best] += vector
        norm = float(np.sqrt(sums[best] @ sums[best]))
        centres[best] = sums[best] / (norm or 1.0)
    for c, (cluster, positions) in enumerate(zip(clusters, members, strict=True)):
        # The row closest to the centre words the signal best for all of them.
        closest = positions[int(np.argmax(vectors[positions] @ centres[c]))] if len(positions) > 1 else positions[0]
        cluster.representative = rows[order[closest]]
    return sorted(clusters, key=lambda c: (-c.support, latest_first(c.last_seen)))


def latest_first(date: str | None) -> str:
    """A sort key that puts the latest dates first and None last (for ascending sorts with other keys)."""
    return "".join(chr(0x10FFFF - ord(ch)) for ch in date) if date else "\U0010ffff"
