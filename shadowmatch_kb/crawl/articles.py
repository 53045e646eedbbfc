"""Crawled article pages become items: one per canonical URL, identical text stored once."""

from __future__ import annotations

from urllib.parse import urlsplit

from shadowmatch_kb.crawl.pages import PageAnalysis
from shadowmatch_kb.crawl.sources import Source
from shadowmatch_kb.ingest.duplicates import store_once
from shadowmatch_kb.ingest.readers import item_id_for
from shadowmatch_kb.model import Item
from shadowmatch_kb.store.sqlite import RawInput, SqliteStore

__all__ = ["ArticleWriter", "item_from_page"]


def item_from_page(page: PageAnalysis) -> Item:
    """The item of an extracted page, its id taken from the page's canonical URL."""
    title = page.title or page.text.strip().split("\n", 1)[0][:120]
    return Item(
        id=item_id_for(page.url),
        title=title,
        url=page.url,
        published=page.published,
        source=page.site or urlsplit(page.url).hostname,
        text=page.text,
        author=page.author,
        site=page.site,
        language=page.language,
        kind="html",
    )


class ArticleWriter:
    """The crawler's PageStore: writes articles into the record store."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def store_page(self, page: PageAnalysis, raw: RawInput, *, source: Source) -> tuple[str, str | None, str | None]:
        """Store one article page; (outcome, item id, reason)."""
        decision = store_once(self.store, item_from_page(page), raw, identical="skip", tags=list(source.tags))
        return decision.outcome, decision.item_id, decision.reason
