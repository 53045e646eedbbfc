"""Enrich stored items: build the enricher from what the knowledge base knows, then fill items one by one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.enrich.pipeline import Enricher, LabelledItem
from shadowmatch_kb.errors import ShadowmatchError
from shadowmatch_kb.model import Item
from shadowmatch_kb.progress import NullProgress, Progress
from shadowmatch_kb.store.enrichment import items_to_enrich, labelled_theme_items, save_enrichment
from shadowmatch_kb.store.sqlite import SqliteStore

__all__ = ["EnrichOutcome", "EnrichResult", "enrich_items"]


@dataclass
class EnrichResult:
    """The outcome of one item: enriched or failed (with a one-line reason)."""

    id: str
    status: str
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``smkb enrich --json``."""
        return {"id": self.id, "status": self.status, "error": self.error}


@dataclass
class EnrichOutcome:
    """Every item's outcome, and the warnings a person should see (a language model that failed)."""

    results: list[EnrichResult]
    notices: list[str]


def _own_fields(store: SqliteStore, item: Item) -> Item:
    """The item as its input gave it: a Signals post keeps its own fields, computed ones are cleared."""
    blank = replace(item, summary="", keywords=[], themes=[], sectors=[], signals=[])
    if item.kind != "signals_post":
        return blank
    raw = store.raw_input(item.id)
    if raw is None:
        return item
    from shadowmatch_kb.formats.signals_post import parse_signals_post

    post = parse_signals_post(raw.content.decode("utf-8", errors="replace"), item_id=item.id)
    return replace(
        blank, summary=post.summary, keywords=post.keywords, themes=post.themes, sectors=post.sectors,
        signals=post.signals,
    )  # fmt: skip


def enrich_items(
    store: SqliteStore,
    embedder: Callable[[], Embedder],
    ids: Iterable[str] | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> EnrichOutcome:
    """Enrich the items named (or every item not enriched yet); ``force`` recomputes enriched ones.

    ``embedder`` is called only when there is something to enrich (loading a model takes seconds).
    """
    from shadowmatch_kb.enrich.llm import LlmSettings

    progress = progress or NullProgress()
    wanted = items_to_enrich(store, ids, force=force)
    if not wanted:
        return EnrichOutcome([], [])
    labelled = [LabelledItem(text, tuple(themes), fixed) for _, text, themes, fixed in labelled_theme_items(store)]
    enricher = Enricher(embedder(), labelled=labelled, llm=LlmSettings.from_env())
    results: list[EnrichResult] = []
    progress.start("Enriching", len(wanted))
    for start in range(0, len(wanted), 100):
        batch = wanted[start : start + 100]
        found = store.get_many(batch)
        for item_id in batch:
            item = found.get(item_id)
            if item is None:
                results.append(EnrichResult(item_id, "failed", "no such item"))
                continue
            try:
                # Computed afresh from the item's own fields; analyst edits live apart and win on read.
                enriched, record = enricher.enrich_with_record(_own_fields(store, item))
                save_enrichment(store, enriched, record)
                results.append(EnrichResult(item_id, "enriched"))
            except ShadowmatchError as exc:
                results.append(EnrichResult(item_id, "failed", " ".join(str(exc).split())))
            except Exception as exc:  # noqa: BLE001 - one item's surprise must not stop the others
                results.append(EnrichResult(item_id, "failed", f"{type(exc).__name__}: {exc}"))
            progress.advance()
    progress.finish()
    return EnrichOutcome(results, list(dict.fromkeys(enricher.notices)))
