"""The crawl's parts on their own: frontier, host gate, page analysis, language guess, decoding."""

from __future__ import annotations

import asyncio
import gzip
import json

import pytest
from conftest import require_shared

from shadowmatch_kb.crawl.pages import analyse_page, page_links
from shadowmatch_kb.crawl.politeness import HostGate, RobotsRules
from shadowmatch_kb.extract.language import guess_language
from shadowmatch_kb.fetch.decode import decode_body
from shadowmatch_kb.store.frontier import Frontier, QueuedUrl
from shadowmatch_kb.store.sqlite import SqliteStore


@pytest.fixture
def store(tmp_path):
    opened = SqliteStore(tmp_path / "kb.sqlite")
    yield opened
    opened.close()


# ----- frontier ---------------------------------------------------------------------------------------


def test_frontier_queues_once_and_interleaves_hosts(store: SqliteStore) -> None:
    frontier = Frontier(store.db, run="one")
    urls = [f"https://big.example/{i}" for i in range(5)] + ["https://small.example/a", "https://small.example/b"]
    assert frontier.enqueue(QueuedUrl(url, "src", "page", 1) for url in urls) == 7
    assert frontier.enqueue([QueuedUrl(urls[0], "src", "page", 1)]) == 0  # already queued
    batch = frontier.next_batch(["src"], 4)
    # One host's long queue does not starve another: hosts take turns.
    assert [entry.url for entry in batch] == [urls[0], urls[5], urls[1], urls[6]]
    assert frontier.next_batch(["other"], 10) == []
    assert [e.url for e in frontier.next_batch(["src"], 10, skip={urls[0]})][0] == urls[5]


def test_frontier_records_outcomes_and_keeps_validators(store: SqliteStore) -> None:
    frontier = Frontier(store.db, run="one")
    frontier.enqueue([QueuedUrl("https://a.example/feed", "src", "feed")])
    frontier.record("https://a.example/feed", "listed", etag='"v1"', last_modified="Mon, 01 Jan 2024", raw=b"<rss/>")
    assert frontier.queued_count(["src"]) == 0
    # Finished in this run: queuing it again (a page linking back) does nothing.
    assert frontier.enqueue([QueuedUrl("https://a.example/feed", "src", "feed")]) == 0
    assert frontier.queued_count(["src"]) == 0
    # The next run revisits it, with the validators of the last full fetch.
    later = Frontier(store.db, run="two")
    assert later.enqueue([QueuedUrl("https://a.example/feed", "src", "feed")]) == 1
    (entry,) = later.next_batch(["src"], 10)
    assert (entry.etag, entry.last_modified, entry.outcome) == ('"v1"', "Mon, 01 Jan 2024", "listed")
    later.record(entry.url, "unchanged", keep_validators=True)
    assert later.stored_body(entry.url) == b"<rss/>"
    later.enqueue([QueuedUrl(entry.url, "src", "feed")])  # no-op: done in run two
    assert later.outcome_counts() == {"src": {"unchanged": 1}}


def test_frontier_never_queues_a_malformed_url(store: SqliteStore) -> None:
    frontier = Frontier(store.db, run="one")
    assert (
        frontier.enqueue([QueuedUrl("http://[::1/x", "src", "page"), QueuedUrl("https://a.example/", "src", "page")])
        == 1
    )
    assert [entry.url for entry in frontier.next_batch(["src"], 5)] == ["https://a.example/"]


def test_frontier_keeps_the_shallowest_depth(store: SqliteStore) -> None:
    frontier = Frontier(store.db, run="one")
    frontier.enqueue([QueuedUrl("https://a.example/x", "src", "page", 3)])
    frontier.enqueue([QueuedUrl("https://a.example/x", "src", "page", 1)])
    assert frontier.next_batch(["src"], 1)[0].depth == 1


# ----- host gate and robots -------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_host_gate_spaces_starts_per_site() -> None:
    clock = _Clock()
    gate = HostGate(per_host=2, delay=1.0, clock=clock, sleep=clock.sleep)
    starts: list[tuple[str, float]] = []

    async def one(site: str) -> None:
        async with gate.slot(site):
            starts.append((site, clock.now))

    async def main() -> None:
        await asyncio.gather(*(one("https://a") for _ in range(3)), one("https://b"))

    asyncio.run(main())
    a_starts = [t for site, t in starts if site == "https://a"]
    assert a_starts == [100.0, 101.0, 102.0]
    # Site b never waited for site a's delay: the only sleeps were a's.
    assert clock.slept == [1.0, 1.0]


def test_host_gate_applies_a_delay_learnt_after_a_request() -> None:
    clock = _Clock()
    gate = HostGate(per_host=1, delay=0.0, clock=clock, sleep=clock.sleep)

    async def main() -> list[float]:
        seen = []
        async with gate.slot("https://a"):
            seen.append(clock.now)
            gate.set_delay("https://a", 5.0)  # robots.txt said Crawl-delay: 5
        async with gate.slot("https://a"):
            seen.append(clock.now)
        return seen

    assert asyncio.run(main()) == [100.0, 105.0]


def test_robots_rules_fetch_once_and_apply_crawl_delay() -> None:
    gate = HostGate(per_host=2, delay=0.0)
    rules = RobotsRules("shadowmatch_kb/0.1", gate)
    calls: list[str] = []

    async def fetch(url: str) -> tuple[int, str | None]:
        calls.append(url)
        return 200, "User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n"

    async def main() -> list[bool]:
        return [
            await rules.allows("https://a.example/news/1", fetch),
            await rules.allows("https://a.example/private/x", fetch),
        ]

    assert asyncio.run(main()) == [True, False]
    assert calls == ["https://a.example/robots.txt"]
    assert gate.delay_for("https://a.example") == 2.0


def test_unreadable_robots_txt_means_fetch_nothing() -> None:
    rules = RobotsRules("shadowmatch_kb/0.1", HostGate(per_host=1, delay=0.0))

    async def fetch(url: str) -> tuple[int, str | None]:
        return 503, None

    assert asyncio.run(rules.allows("https://a.example/news/1", fetch)) is False
    assert "could not be read" in rules.notes["https://a.example"]


# ----- pages ------------------------------------------------------------------------------------------


def test_real_articles_are_articles_and_keep_their_links() -> None:
    folder = require_shared("extraction", "zyte")
    truth = json.loads((folder / "ground-truth.json").read_text())
    skipped = []
    pages = sorted((folder / "html").glob("*.html.gz"))[:60]
    for path in pages:
        page_id = path.name.split(".")[0]
        url = truth[page_id]["url"]
        page = analyse_page(gzip.decompress(path.read_bytes()), None, url, "text/html", True)
        if page.skip_reason:
            skipped.append(page.skip_reason)
        assert all(link.startswith("http") and "#" not in link for link in page.links)
    # Real news pages, a few of them very short: almost all count as articles.
    assert len(skipped) <= 2, skipped


def test_an_index_page_and_a_stub_are_not_articles() -> None:
    links = "".join(
        f'<li><a href="/story/{i}">Story number {i} about work</a> - a teaser line.</li>' for i in range(30)
    )
    index = f"<html><body><h1>All stories</h1><ul>{links}</ul></body></html>".encode()
    page = analyse_page(index, "utf-8", "https://news.example/all", "text/html", True)
    # trafilatura finds little or no main text in it; either way it is no article.
    assert page.skip_reason and page.skip_reason.startswith("not an article")
    assert len(page.links) == 30 and page.links[0] == "https://news.example/story/0"
    stub = b"<html><body><article><p>Coming soon.</p></article></body></html>"
    assert analyse_page(stub, None, "https://news.example/x", "text/html", False).skip_reason


def test_links_are_absolute_canonical_and_unique() -> None:
    from trafilatura.utils import load_html

    html = (
        '<html><head><base href="https://a.example/news/"></head><body>'
        '<a href="one.html#part">1</a><a href="one.html">1 again</a><a href="mailto:x@y">m</a>'
        '<a href="/two?utm_source=feed&id=2">2</a><a href="ftp://a.example/f">f</a></body></html>'
    )
    assert page_links(load_html(html), "https://a.example/") == [
        "https://a.example/news/one.html",
        "https://a.example/two?id=2",
    ]


def test_guess_language_on_real_texts() -> None:
    assert guess_language("The workers said that the new system was built for the warehouse and it is fast.") == "en"
    german = "Die Beschäftigten sagen, dass das neue System nicht mit den alten Abläufen auf dem Lager vereinbar ist."
    assert guess_language(german + " " + german) == "de"
    assert guess_language("AI") is None
    folder = require_shared("extraction", "zyte")
    bodies = [entry["articleBody"] for entry in json.loads((folder / "ground-truth.json").read_text()).values()]
    guesses = [guess_language(body) for body in bodies]
    # The benchmark is English news, with a few pages in other languages and some very short ones.
    assert guesses.count("en") >= 0.85 * len(bodies)
    assert {g for g in guesses if g not in ("en", None)} <= {"de", "fr", "es", "it", "nl", "pt", "sv"}


def test_decode_body_keeps_a_declared_utf8_page_with_a_few_bad_bytes() -> None:
    text = "It’s the workers’ view — “not the robots’”. " * 20
    broken = text.encode("utf-8").replace("’".encode(), b"\x92", 2)
    decoded = decode_body(broken, "utf-8")
    assert decoded.count("’") == text.count("’") - 2 and "â€" not in decoded
