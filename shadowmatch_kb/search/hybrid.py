"""Hybrid search: keyword (BM25) and semantic rankings fused by reciprocal rank."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FusedHit", "reciprocal_rank_fusion"]

# The usual constant of reciprocal rank fusion: it damps the weight of the very first ranks so
# one list cannot drown the other.
RRF_K = 60


@dataclass
class FusedHit:
    """An item's fused score and where it ranked in each list (None when absent)."""

    item_id: str
    score: float
    keyword_rank: int | None = None
    semantic_rank: int | None = None


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], *, weights: Sequence[float] | None = None, k: int = RRF_K
) -> list[FusedHit]:
    """Fuse ranked id lists (best first); the first list is keyword, the second semantic."""
    weights = weights or [1.0] * len(rankings)
    hits: dict[str, FusedHit] = {}
    for list_no, (ranking, weight) in enumerate(zip(rankings, weights, strict=True)):
        for rank, item_id in enumerate(ranking, start=1):
            hit = hits.setdefault(item_id, FusedHit(item_id, 0.0))
            hit.score += weight / (k + rank)
            if list_no == 0:
                hit.keyword_rank = rank
            elif list_no == 1:
                hit.semantic_rank = rank
    # Ties (rare) are broken by id so results are stable from run to run.
    return sorted(hits.values(), key=lambda h: (-h.score, h.item_id))
