"""Reading a URL for `smkb ingest`: through the one pinned fetcher, handed in or built, over real loopback HTTP."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpcore
import pytest
from conftest import require_shared

from shadowmatch_kb.errors import FetchError, UnsupportedContentError
from shadowmatch_kb.fetch.async_http import AsyncFetcher, FetchOptions, FetchResponse, accepts_page
from shadowmatch_kb.fetch.blocking import BlockingFetcher
from shadowmatch_kb.ingest.readers import item_id_for, read_input

ARTICLE_ID = "16c30add7e96315e9cc957d85aa876ccb6b70055f0ddab51547a586117cc1f56"  # a Vox article
PUBLIC_IP = "93.184.215.14"  # a global address
NOTE = b"Shift rota\nRobots now plan the night shift."


@dataclass
class _Site:
    port: int
    seen: list[str] = field(default_factory=list)
    article: bytes = b""

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def site() -> Iterator[_Site]:
    """A real HTTP server on 127.0.0.1: an article, a plain-text note and a JSON document."""
    state = _Site(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            state.seen.append(self.path)
            path = self.path.split("?", 1)[0]
            if path == "/page":
                body, kind = state.article or b"<html><body><p>loopback secret</p></body></html>", "text/html"
            elif path == "/note.txt":
                body, kind = NOTE, "text/plain; charset=utf-8"
            else:
                body, kind = b'{"version": "https://jsonfeed.org/version/1.1"}', "application/json"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            """Keep the test output clean."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _rebinding_dns(monkeypatch: pytest.MonkeyPatch, name: str, answers: list[str]) -> list[str]:
    """Make ``name`` resolve to each answer in turn (the last repeating), as a rebinding DNS server does.

    The socket module's resolver is replaced, so every lookup in the process sees the same sequence:
    a fetcher that checked one answer and then let the connection resolve again would get the next.
    """
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port or 0)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def _record_dials(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Note every address a connection is made to; only loopback is really dialled, the rest fails."""
    real = httpcore.AnyIOBackend.connect_tcp
    dialled: list[tuple[str, int]] = []

    async def connect_tcp(self: httpcore.AnyIOBackend, host: str, port: int, **kwargs: Any) -> Any:
        dialled.append((host, port))
        if host != "127.0.0.1":
            raise httpcore.ConnectError("unreachable in tests")
        return await real(self, host, port, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
    return dialled


def test_a_name_that_rebinds_to_loopback_is_refused(site: _Site, monkeypatch: pytest.MonkeyPatch) -> None:
    # Public on the first lookup, this machine on every later one. The connection goes to the address
    # that was checked; the lookup made for the retry answers loopback, and that answer is refused.
    asked = _rebinding_dns(monkeypatch, "rebind.test", [PUBLIC_IP, "127.0.0.1"])
    dialled = _record_dials(monkeypatch)
    with pytest.raises(FetchError) as caught:
        read_input(site.url("/page", host="rebind.test"), allow_private=False)
    assert caught.value.reason.startswith(
        "refusing to fetch rebind.test: it resolves to a private or loopback address (127.0.0.1)"
    )
    assert site.seen == []  # the loopback server never saw a request
    assert dialled == [(PUBLIC_IP, site.port)]
    assert asked == ["rebind.test", "rebind.test"]


def test_a_loopback_address_is_refused_before_any_request(site: _Site) -> None:
    with pytest.raises(FetchError, match="refusing to fetch 127.0.0.1"):
        read_input(site.url("/page"))
    assert site.seen == []


def test_the_standard_fetcher_reads_a_real_page_when_private_addresses_are_allowed(site: _Site) -> None:
    html = require_shared("extraction", "zyte", "html", f"{ARTICLE_ID}.html.gz")
    site.article = gzip.decompress(html.read_bytes())
    loaded = read_input(site.url("/page"), allow_private=True, user_agent="probe/1.0")
    assert loaded.item.kind == "html" and "air pollution" in loaded.item.text.lower()
    assert (loaded.raw.content, loaded.raw.media_type) == (site.article, "text/html")
    assert site.seen == ["/page"]


def test_a_handed_in_fetcher_is_the_one_used(site: _Site) -> None:
    # The caller's fetcher decides: allow_private=False here does not rebuild a stricter one.
    with BlockingFetcher(AsyncFetcher(FetchOptions(retries=0), allow_private=True)) as fetcher:
        loaded = read_input(site.url("/note.txt?utm_source=x"), allow_private=False, fetcher=fetcher)
        with pytest.raises(UnsupportedContentError, match="not a page: application/json"):
            read_input(site.url("/feed.json"), fetcher=fetcher)  # JSON is for the crawler, not an item
    assert (loaded.item.title, loaded.item.text) == ("Shift rota", "Robots now plan the night shift.")
    assert loaded.item.url == site.url("/note.txt")
    assert loaded.item.id == item_id_for(site.url("/note.txt"))
    assert site.seen == ["/note.txt?utm_source=x", "/feed.json"]


@dataclass
class _CannedFetcher:
    """A stand-in fetcher: answers from memory and remembers what it was asked."""

    asked: list[tuple[str, Callable[[str], bool]]] = field(default_factory=list)

    def fetch(self, url: str, *, accept: Callable[[str], bool] = accepts_page) -> FetchResponse:
        self.asked.append((url, accept))
        return FetchResponse(
            url=url, requested_url=url, status=200, content=NOTE, content_type="text/plain",
            charset="utf-8", etag=None, last_modified=None,
        )  # fmt: skip


def test_read_input_reaches_the_network_only_through_its_fetcher() -> None:
    canned = _CannedFetcher()
    loaded = read_input("https://news.example/note.txt", fetcher=canned)
    assert loaded.item.title == "Shift rota"
    ((url, accept),) = canned.asked
    assert url == "https://news.example/note.txt"
    assert accept("text/html") and accept("text/plain") and not accept("application/json")


def test_the_knowledge_base_imports_urls_with_its_fetcher_and_a_broken_one_fails_only_urls(
    site: _Site, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """`smkb ingest` reads URLs with the fetcher the knowledge base was given; when none can be built, the
    URLs fail with their reason and the files of the same run are still imported."""
    from shadowmatch_kb.config import Config
    from shadowmatch_kb.kb import KnowledgeBase

    note = tmp_path / "note.txt"
    note.write_text("Warehouse pickers now work beside robots that bring the shelves to them.\n" * 5)
    built: list[bool] = []

    def pinned_loopback(options=None, *, allow_private=False, pace=None):
        built.append(allow_private)
        return AsyncFetcher(options, allow_private=True, pace=pace)

    with KnowledgeBase(Config(tmp_path / "kb"), fetchers=pinned_loopback) as kb:
        kb.pipeline._sync = lambda progress: None  # the record is what matters here, not the index
        kb.pipeline._enrich_pending = lambda progress: None
        results = kb.ingest([site.url("/page")])
    assert [r.status for r in results] == ["added"] and built == [False]

    def broken(options=None, *, allow_private=False, pace=None):
        raise OSError("no certificate store")

    with KnowledgeBase(Config(tmp_path / "kb2"), fetchers=broken) as kb:
        kb.pipeline._sync = lambda progress: None
        kb.pipeline._enrich_pending = lambda progress: None
        results = kb.ingest([str(note), site.url("/page")])
    assert [r.status for r in results] == ["added", "failed"]
    assert "no certificate store" in (results[1].error or "")


def test_smkb_ingest_of_a_rebinding_name_is_refused(site: _Site, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """The rebinding case through the knowledge base's own fetcher, as `smkb ingest URL` runs it."""
    from shadowmatch_kb.config import Config
    from shadowmatch_kb.kb import KnowledgeBase

    _rebinding_dns(monkeypatch, "rebind.test", [PUBLIC_IP, "127.0.0.1"])
    dialled = _record_dials(monkeypatch)
    with KnowledgeBase(Config(tmp_path / "kb")) as kb:
        kb.pipeline._sync = lambda progress: None
        kb.pipeline._enrich_pending = lambda progress: None
        results = kb.ingest([site.url("/page", host="rebind.test")])
    assert [r.status for r in results] == ["failed"]
    assert "private or loopback address (127.0.0.1)" in (results[0].error or "")
    assert site.seen == [] and dialled == [(PUBLIC_IP, site.port)]
