"""The tracker's reads over a record: the trends report and the digest.

``kb.py`` hands these the store and a way to load the signal model (loaded only when there are rows to
group); they read the dated items and their Signals rows and pass them to the ``trends`` stage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.model import ItemFilter
from shadowmatch_kb.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from shadowmatch_kb.trends.digest import Digest
    from shadowmatch_kb.trends.service import TrendsReport

__all__ = ["digest_report", "trends_report"]


def trends_report(
    store: SqliteStore,
    signal_embedder: Callable[[], Embedder],
    where: ItemFilter | None,
    *,
    by: str,
    top: int | None,
    today: str | None,
) -> TrendsReport:
    """Series per period and emerging signals over the items matching ``where``."""
    from shadowmatch_kb.store.timeline import dated_items, signal_rows
    from shadowmatch_kb.trends.service import TOP_SERIES, build_trends

    items = dated_items(store, where)
    rows = signal_rows(store, [d.item_id for d in items]) if items else []
    embedder = signal_embedder() if rows else None
    return build_trends(items, rows, embedder, by=by, top=TOP_SERIES if top is None else top, today=today)


def digest_report(
    store: SqliteStore, signal_embedder: Callable[[], Embedder], *, since: str, today: str | None
) -> Digest:
    """What came in since a date and the signals rising since then."""
    from shadowmatch_kb.store.timeline import dated_items, signal_rows
    from shadowmatch_kb.trends.digest import build_digest

    rows = signal_rows(store)

    def about(ids: list[str]) -> dict[str, tuple[str, str | None]]:
        return {i: (row["title"], row["url"]) for i, row in store.brief_rows(ids).items()}

    embedder = signal_embedder() if rows else None
    return build_digest(dated_items(store), rows, embedder, since=since, today=today, about=about)
