"""Vector indexes over item and chunk vectors."""

from shadowmatch_kb.index.base import IndexEntry, VectorHit, VectorIndex

__all__ = ["IndexEntry", "VectorHit", "VectorIndex"]
