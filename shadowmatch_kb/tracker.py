"""The tracker's reads over a record: the trends report and the digest.

``kb.py`` hands these the store, a way to load the signal model (loaded only when there are rows to embed) and
the derived-data folder; they read the items and their Signals rows and pass them to the ``trends`` stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.model import ItemFilter, SignalRow
from shadowmatch_kb.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from shadowmatch_kb.trends.digest import Digest
    from shadowmatch_kb.trends.service import TrendsReport

__all__ = ["SignalModel", "digest_report", "trends_report"]


@dataclass(frozen=True)
class SignalModel:
    """The signal model by its name (which keys the kept grouping) and a way to load it (only when rows are new)."""

    name: str
    load: Callable[[], Embedder]


def trends_report(
    store: SqliteStore,
    model: SignalModel,
    derived: Path | None,
    where: ItemFilter | None,
    *,
    by: str,
    top: int | None,
    today: str | None,
) -> TrendsReport:
    """Series per period and emerging signals over the items matching ``where``.

    The items are read as columns and their rows grouped by the grouping kept in ``derived`` (the record's
    derived-data folder; None: grouped in memory), so a call reads and embeds only the items that changed and
    loads the model only then (trends/columns.py). The grouping holds every item's rows, so a filtered view
    shows the same clusters as the whole one (only their rows that match).
    """
    import numpy as np

    from shadowmatch_kb.store.timeline import signal_rows, tracker_columns
    from shadowmatch_kb.trends.cluster_index import ClusterIndex, state_path
    from shadowmatch_kb.trends.columns import columnar_trends
    from shadowmatch_kb.trends.service import TOP_SERIES, TREND_COSINE

    columns = tracker_columns(store)
    view = None
    if where is not None and not where.is_empty():
        matching = set(store.filtered_ids(where))
        view = np.fromiter((i in matching for i in columns.ids), dtype=bool, count=len(columns.ids))
    loaded: list[Embedder] = []

    def embedder() -> Embedder:  # loaded once, when some row has to be embedded
        if not loaded:
            loaded.append(model.load())
        return loaded[0]

    def rows_of(ids: list[str]) -> dict[str, list[SignalRow]]:
        found: dict[str, list[SignalRow]] = {}
        for row in signal_rows(store, ids):
            found.setdefault(row.item_id, []).append(row)
        return found

    grouping = None
    with_rows = [n for n, key in enumerate(columns.signal_keys) if key and (view is None or view[n])]
    if with_rows:
        name = model.name
        grouping = ClusterIndex(state_path(derived, name, TREND_COSINE) if derived else None, name, TREND_COSINE)
        placed = [n for n, key in enumerate(columns.signal_keys) if key]
        grouping.sync_items(
            [columns.ids[n] for n in placed], [columns.signal_keys[n] for n in placed], rows_of, embedder
        )
    top = TOP_SERIES if top is None else top
    return columnar_trends(columns, view, grouping, rows_of, embedder, by=by, top=top, today=today, themes=store.themes)


def digest_report(
    store: SqliteStore, signal_embedder: Callable[[], Embedder], *, since: str, today: str | None, by: str = "published"
) -> Digest:
    """What came in since a date and the signals rising since then."""
    from shadowmatch_kb.store.timeline import dated_items, signal_rows
    from shadowmatch_kb.trends.digest import build_digest

    rows = signal_rows(store)

    def about(ids: list[str]) -> dict[str, tuple[str, str | None]]:
        return {i: (row["title"], row["url"]) for i, row in store.brief_rows(ids).items()}

    embedder = signal_embedder() if rows else None
    return build_digest(dated_items(store), rows, embedder, since=since, today=today, about=about, by=by)
