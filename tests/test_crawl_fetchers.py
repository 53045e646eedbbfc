"""The crawler receives its fetchers: every request of a crawl goes through the factory handed in."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from shadowmatch_kb.crawl.run import Crawler, CrawlOptions
from shadowmatch_kb.crawl.sources import Source
from shadowmatch_kb.fetch.async_http import AsyncFetcher, FetchOptions, Pace
from shadowmatch_kb.store.frontier import Frontier
from shadowmatch_kb.store.sqlite import SqliteStore

PUBLIC_IP = "93.184.215.14"  # a global address; a literal, so no DNS is needed
FEED = (
    f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
    f"<item><title>Gone</title><link>http://{PUBLIC_IP}/gone.html</link></item></channel></rss>"
).encode()


class _Pages:
    """A page store that should never be reached: the only article listed is missing."""

    def store_page(self, page: object, raw: object, *, source: Source) -> tuple[str, str | None, str | None]:
        raise AssertionError("nothing here is an article")


@pytest.fixture
def store(tmp_path) -> Iterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "kb.sqlite")
    yield opened
    opened.close()


def test_every_request_goes_through_the_fetchers_handed_in(store: SqliteStore) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/feed.xml":
            return httpx.Response(200, content=FEED, headers={"Content-Type": "application/rss+xml"})
        return httpx.Response(404, content=b"not here", headers={"Content-Type": "text/plain"})

    built: list[tuple[FetchOptions | None, bool]] = []

    def fetchers(
        options: FetchOptions | None = None, *, allow_private: bool = False, pace: Pace | None = None
    ) -> AsyncFetcher:
        built.append((options, allow_private))
        transport = httpx.MockTransport(handler)
        return AsyncFetcher(options, allow_private=allow_private, transport=transport, pace=pace)

    options = CrawlOptions(delay=0.0, workers=0, fetch=FetchOptions(user_agent="probe/1.0", retries=0))
    source = Source(name="news", url=f"http://{PUBLIC_IP}/feed.xml", kind="feed")
    crawler = Crawler(Frontier(store.db), _Pages(), [source], options, fetchers=fetchers)
    report = crawler.run()

    assert built == [(options.fetch, False)]  # one fetcher, with the crawl's options and the source's policy
    assert seen == ["/robots.txt", "/feed.xml", "/gone.html"]
    assert (report.counts["listed"], report.counts["failed"]) == (1, 1)
