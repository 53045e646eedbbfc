"""AsyncFetcher against a real HTTP server on 127.0.0.1: retries, conditional GETs, limits and pinned DNS."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import shutil
import ssl
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
import pytest
from conftest import require_shared

from shadowmatch_kb.errors import FetchError, UnsupportedContentError
from shadowmatch_kb.fetch import async_http, pinned
from shadowmatch_kb.fetch.async_http import (
    DEFAULT_USER_AGENT,
    AsyncFetcher,
    FetchOptions,
    FetchResponse,
    accepts_page,
    accepts_sitemap,
)

ARTICLE_ID = "16c30add7e96315e9cc957d85aa876ccb6b70055f0ddab51547a586117cc1f56"  # a Vox article
LIMIT = 100_000
ETAG = '"v1-5f3a"'
LAST_MODIFIED = "Tue, 02 Jan 2024 10:00:00 GMT"
SITEMAP = b'<?xml version="1.0"?><urlset><url><loc>http://example.org/a</loc></url></urlset>'
PUBLIC_IP = "93.184.215.14"  # a global address; a literal, so no DNS is needed


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # the concurrency test opens 20 connections at once
    requests: list[tuple[str, dict[str, str]]]
    hits: Counter[str]
    article: bytes
    lock: threading.Lock
    active: int
    max_active: int


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Keep the test output clean."""

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _html(self, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        self._send(200, body, {"Content-Type": content_type})

    def _trickle(self, content_type: str, chunks: int, chunk: bytes, pause: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(chunks * len(chunk)))
        self.end_headers()
        for _ in range(chunks):
            self.wfile.write(chunk)
            self.wfile.flush()
            time.sleep(pause)

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        """Serve the route named by the path."""
        path = urlsplit(self.path).path
        with self.server.lock:
            self.server.requests.append((self.path, dict(self.headers.items())))
            self.server.hits[path] += 1
        try:
            self._route(path, self.server.hits[path])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the fetcher gave up first, which is what several tests want

    def _route(self, path: str, hit: int) -> None:  # noqa: C901 - one branch per route reads best here
        port = self.server.server_address[1]
        if path == "/article":
            self._html(self.server.article)
        elif path == "/article-gz":
            self._send(
                200,
                gzip.compress(self.server.article),
                {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
            )
        elif path == "/sitemap.xml.gz":
            self._send(200, gzip.compress(SITEMAP), {"Content-Type": "application/x-gzip"})
        elif path == "/feed.json":
            self._send(
                200, b'{"version": "https://jsonfeed.org/version/1.1"}', {"Content-Type": "application/feed+json"}
            )
        elif path == "/cond":
            if self.headers.get("If-None-Match") == ETAG or self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                self._send(304, b"", {"ETag": ETAG})
            else:
                self._send(
                    200, b"<p>fresh</p>", {"Content-Type": "text/html", "ETag": ETAG, "Last-Modified": LAST_MODIFIED}
                )
        elif path == "/limited":
            if hit == 1:
                self._send(429, b"slow down", {"Content-Type": "text/plain", "Retry-After": "1"})
            else:
                self._html(b"<p>welcome back</p>")
        elif path == "/flaky":
            if hit <= 3:
                self._send(503, b"busy", {"Content-Type": "text/plain"})
            else:
                self._html(b"<p>up again</p>")
        elif path == "/down":
            self._send(500, b"oops", {"Content-Type": "text/plain"})
        elif path == "/busy":
            self._send(429, b"come back tomorrow", {"Content-Type": "text/plain", "Retry-After": "3600"})
        elif path.startswith("/hop/"):
            left = int(path.rsplit("/", 1)[1])
            if left > 0:
                self._send(302 if left % 2 else 301, b"", {"Location": f"/hop/{left - 1}"})
            else:
                self._html(b"<html><body><p>arrived</p></body></html>")
        elif path == "/loop/a":
            self._send(302, b"", {"Location": "/loop/b"})
        elif path == "/loop/b":
            self._send(301, b"", {"Location": f"http://127.0.0.1:{port}/loop/a"})
        elif path == "/nowhere":
            self._send(302, b"")
        elif path == "/to-file":
            self._send(302, b"", {"Location": "file:///etc/passwd"})
        elif path == "/paper.pdf":
            self._trickle("application/pdf", 100, b"%" * 20_000, 0.02)  # two seconds to send it all
        elif path == "/photo.jpg":
            self._trickle("image/jpeg", 100, b"\xff" * 20_000, 0.02)
        elif path == "/big":
            self._html(b"<p>" + b"x" * (LIMIT * 2) + b"</p>")
        elif path == "/big-stream":
            # No Content-Length: only counting the streamed bytes can catch this one.
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"y" * 10_000)
        elif path == "/slow":
            time.sleep(1.5)
            self._html(b"<p>too late</p>")
        elif path == "/trickle":
            self._trickle("text/html", 100, b"z" * 40, 0.05)  # each read is quick, the whole takes 5 s
        elif path == "/no-type":
            self._send(200, b"\xef\xbb\xbf  <html><body>untyped</body></html>")
        elif path == "/no-type-binary":
            self._send(200, b"\x00\x01\x02 binary")
        elif path == "/together":
            with self.server.lock:
                self.server.active += 1
                self.server.max_active = max(self.server.max_active, self.server.active)
            time.sleep(0.3)
            with self.server.lock:
                self.server.active -= 1
            self._html(b"<p>together</p>")
        else:
            self._send(404, b"not here", {"Content-Type": "text/plain"})


@pytest.fixture(scope="module")
def http_server() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.requests = []
    server.hits = Counter()
    server.article = b""
    server.lock = threading.Lock()
    server.active = server.max_active = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(http_server: _Server) -> _Server:
    http_server.requests.clear()
    http_server.hits.clear()
    http_server.active = http_server.max_active = 0
    return http_server


class _Sleeps:
    """An instant stand-in for asyncio.sleep that remembers what it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _base(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def _paths(server: _Server) -> list[str]:
    return [path for path, _ in server.requests]


def _fetch(
    url: str,
    options: FetchOptions | None = None,
    *,
    allow_private: bool = True,
    sleep: Any = asyncio.sleep,
    transport: httpx.AsyncBaseTransport | None = None,
    **kwargs: Any,
) -> FetchResponse:
    async def go() -> FetchResponse:
        async with AsyncFetcher(options, allow_private=allow_private, transport=transport, sleep=sleep) as fetcher:
            return await fetcher.fetch(url, **kwargs)

    return asyncio.run(go())


def _failure(url: str, options: FetchOptions | None = None, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        _fetch(url, options, **kwargs)
    assert "\n" not in str(caught.value)
    assert caught.value.source == url
    return caught.value


# --- pages ------------------------------------------------------------------------------------------


def test_fetches_a_real_article(server: _Server) -> None:
    html_path = require_shared("extraction", "zyte", "html", f"{ARTICLE_ID}.html.gz")
    server.article = gzip.decompress(html_path.read_bytes())
    page = _fetch(f"{_base(server)}/article?utm_source=feed&id=7#comments")

    assert (page.status, page.content_type, page.charset) == (200, "text/html", "utf-8")
    assert page.content == server.article
    assert page.url == f"{_base(server)}/article?id=7"
    assert page.requested_url == f"{_base(server)}/article?utm_source=feed&id=7#comments"
    assert (page.attempts, page.redirects, page.retry_waits, page.not_modified) == (1, [], [], False)
    assert "air pollution" in page.text().lower()
    assert _paths(server) == ["/article?utm_source=feed&id=7"]  # the fragment never leaves the client


def test_content_encoding_is_undone_but_gzip_files_are_not(server: _Server) -> None:
    server.article = b"<html><body><p>" + "naïve café ".encode() * 500 + b"</p></body></html>"
    page = _fetch(f"{_base(server)}/article-gz")
    assert page.content == server.article  # httpx removed the Content-Encoding
    sitemap = _fetch(f"{_base(server)}/sitemap.xml.gz", accept=accepts_sitemap)
    assert sitemap.content_type == "application/x-gzip"
    assert gzip.decompress(sitemap.content) == SITEMAP  # left for the crawler to unpack
    with pytest.raises(UnsupportedContentError, match="not a page: application/x-gzip"):
        _fetch(f"{_base(server)}/sitemap.xml.gz")


def test_json_feed_and_untyped_markup_are_pages(server: _Server) -> None:
    feed = _fetch(f"{_base(server)}/feed.json")
    assert feed.content_type == "application/feed+json"
    untyped = _fetch(f"{_base(server)}/no-type")
    assert (untyped.content_type, untyped.charset) == ("text/html", None)
    assert "untyped" in untyped.text()
    with pytest.raises(UnsupportedContentError, match="no Content-Type"):
        _fetch(f"{_base(server)}/no-type-binary")


@pytest.mark.parametrize(
    ("media_type", "page", "sitemap"),
    [
        ("text/html", True, True),
        ("application/xhtml+xml", True, True),
        ("text/plain", True, True),
        ("application/xml", True, True),
        ("text/xml", True, True),
        ("application/rss+xml", True, True),
        ("application/atom+xml", True, True),
        ("application/json", True, True),
        ("application/feed+json", True, True),
        ("application/gzip", False, True),
        ("application/x-gzip", False, True),
        ("application/octet-stream", False, True),
        ("application/pdf", False, False),
        ("image/png", False, False),
        ("text/css", False, False),
    ],
)
def test_media_type_filters(media_type: str, page: bool, sitemap: bool) -> None:
    assert (accepts_page(media_type), accepts_sitemap(media_type)) == (page, sitemap)


def test_user_agent_and_accept_are_sent(server: _Server) -> None:
    _fetch(f"{_base(server)}/hop/0", FetchOptions(user_agent="probe/1.0"))
    _fetch(f"{_base(server)}/hop/0")
    (_, first), (_, second) = server.requests
    assert first["User-Agent"] == "probe/1.0"
    assert second["User-Agent"] == DEFAULT_USER_AGENT
    assert "text/html" in first["Accept"]


# --- conditional GET --------------------------------------------------------------------------------


def test_etag_and_last_modified_round_trip_to_304(server: _Server) -> None:
    url = f"{_base(server)}/cond"
    fresh = _fetch(url)
    assert (fresh.status, fresh.content, fresh.etag, fresh.last_modified) == (200, b"<p>fresh</p>", ETAG, LAST_MODIFIED)
    assert "If-None-Match" not in server.requests[0][1]

    again = _fetch(url, etag=fresh.etag, last_modified=fresh.last_modified)
    assert again.not_modified
    assert (again.status, again.content, again.content_type, again.etag) == (304, b"", "", ETAG)
    assert again.last_modified == LAST_MODIFIED  # the 304 omitted it; the one sent still holds
    sent = server.requests[1][1]
    assert (sent["If-None-Match"], sent["If-Modified-Since"]) == (ETAG, LAST_MODIFIED)


# --- retries ----------------------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(server: _Server) -> None:
    started = time.monotonic()
    page = _fetch(f"{_base(server)}/limited")  # the real asyncio.sleep
    assert time.monotonic() - started >= 1.0
    assert page.content == b"<p>welcome back</p>"
    assert page.attempts == 2
    assert len(page.retry_waits) == 1 and page.retry_waits[0] >= 1.0
    assert server.hits["/limited"] == 2


def test_503_is_retried_with_doubling_backoff(server: _Server) -> None:
    sleeps = _Sleeps()
    page = _fetch(f"{_base(server)}/flaky", sleep=sleeps)
    assert (page.status, page.attempts, server.hits["/flaky"]) == (200, 4, 4)
    assert page.retry_waits == sleeps.waits
    first, second, third = sleeps.waits
    assert 0.5 <= first <= 0.55 and 1.0 <= second <= 1.1 and 2.0 <= third <= 2.2


def test_500_forever_fails_after_every_retry(server: _Server) -> None:
    sleeps = _Sleeps()
    error = _failure(f"{_base(server)}/down", FetchOptions(retries=3), sleep=sleeps)
    assert (error.reason, error.status) == ("HTTP 500 Internal Server Error after 4 attempts", 500)
    assert server.hits["/down"] == 4
    assert len(sleeps.waits) == 3


def test_a_retry_after_too_long_fails_without_waiting(server: _Server) -> None:
    sleeps = _Sleeps()
    error = _failure(f"{_base(server)}/busy", sleep=sleeps)
    assert error.reason.startswith("HTTP 429 Too Many Requests, Retry-After 3600s is longer than the 120s")
    assert (sleeps.waits, server.hits["/busy"], error.status) == ([], 1, 429)


def test_retry_after_as_an_http_date() -> None:
    answers = iter(["in-30s", "long-ago", "tomorrow"])
    dates = {
        "in-30s": datetime.now(UTC) + timedelta(seconds=30),
        "long-ago": datetime(2001, 1, 1, tzinfo=UTC),
        "tomorrow": datetime.now(UTC) + timedelta(days=1),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        when = email.utils.format_datetime(dates[next(answers)], usegmt=True)
        return httpx.Response(503, headers={"Retry-After": when})

    sleeps = _Sleeps()
    transport = httpx.MockTransport(handler)
    with pytest.raises(FetchError, match=r"HTTP 503 Service Unavailable, Retry-After 86\d{3}s is longer"):
        _fetch(f"http://{PUBLIC_IP}/x", FetchOptions(retries=3), sleep=sleeps, transport=transport)
    in_30s, long_ago = sleeps.waits
    assert 28 <= in_30s <= 30.5
    assert 1.0 <= long_ago <= 1.1  # a date already past leaves only the backoff


def test_timeouts_are_not_retried(server: _Server) -> None:
    started = time.monotonic()
    error = _failure(f"{_base(server)}/slow", FetchOptions(timeout=0.3), sleep=_Sleeps())
    assert (error.reason, error.status) == ("timed out after 0.3s (ReadTimeout)", None)
    assert time.monotonic() - started < 1.4  # gave up before the server answered
    assert _paths(server) == ["/slow"]


def test_connection_refused_is_retried_then_one_line() -> None:
    from conftest import free_port

    sleeps = _Sleeps()
    error = _failure(f"http://127.0.0.1:{free_port()}/", FetchOptions(retries=2), sleep=sleeps)
    assert error.reason.startswith("ConnectError: ")
    assert error.reason.endswith(" after 3 attempts")
    assert (len(sleeps.waits), error.status) == (2, None)


# --- redirects --------------------------------------------------------------------------------------


def test_follows_a_redirect_chain(server: _Server) -> None:
    page = _fetch(f"{_base(server)}/hop/3")
    base = _base(server)
    assert (page.url, page.requested_url) == (f"{base}/hop/0", f"{base}/hop/3")
    assert page.redirects == [f"{base}/hop/3", f"{base}/hop/2", f"{base}/hop/1"]
    assert _paths(server) == ["/hop/3", "/hop/2", "/hop/1", "/hop/0"]


def test_redirect_limit_is_exact(server: _Server) -> None:
    assert _fetch(f"{_base(server)}/hop/2", FetchOptions(max_redirects=2)).status == 200
    server.requests.clear()
    error = _failure(f"{_base(server)}/hop/3", FetchOptions(max_redirects=2))
    assert (error.reason, error.status) == ("too many redirects (more than 2)", 302)
    assert _paths(server) == ["/hop/3", "/hop/2", "/hop/1"]


def test_redirect_loop_is_reported_at_the_first_repeat(server: _Server) -> None:
    error = _failure(f"{_base(server)}/loop/a")
    assert error.reason == f"redirect loop: {_base(server)}/loop/b redirects back to {_base(server)}/loop/a"
    assert error.status == 301
    assert _paths(server) == ["/loop/a", "/loop/b"]


def test_redirect_without_location_or_to_another_scheme(server: _Server) -> None:
    assert _failure(f"{_base(server)}/nowhere").reason == "HTTP 302 redirect without a Location header"
    error = _failure(f"{_base(server)}/to-file")
    assert error.reason.startswith("redirect to file:///etc/passwd refused: only http and https")
    assert _paths(server) == ["/nowhere", "/to-file"]


def test_redirect_from_public_to_private_is_refused_with_a_given_transport() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://127.0.0.1:8080/admin"})

    error = _failure(f"http://{PUBLIC_IP}/start", allow_private=False, transport=httpx.MockTransport(handler))
    assert error.reason.startswith("redirect to http://127.0.0.1:8080/admin refused: refusing to fetch 127.0.0.1")
    assert seen == [f"http://{PUBLIC_IP}/start"]


# --- statuses, types and limits ---------------------------------------------------------------------


def test_404_is_one_line_and_not_retried(server: _Server) -> None:
    error = _failure(f"{_base(server)}/missing", sleep=_Sleeps())
    assert (error.reason, error.status) == ("HTTP 404 Not Found", 404)
    assert server.hits["/missing"] == 1


@pytest.mark.parametrize(("path", "media_type"), [("/paper.pdf", "application/pdf"), ("/photo.jpg", "image/jpeg")])
def test_pdf_and_images_are_refused_before_the_body(server: _Server, path: str, media_type: str) -> None:
    started = time.monotonic()
    with pytest.raises(UnsupportedContentError) as caught:
        _fetch(_base(server) + path)
    assert caught.value.reason == f"not a page: {media_type}"
    assert time.monotonic() - started < 1.0  # the server needs two seconds to send the whole body


@pytest.mark.parametrize("path", ["/big", "/big-stream"])
def test_oversized_pages_are_cut_off(server: _Server, path: str) -> None:
    error = _failure(_base(server) + path, FetchOptions(max_bytes=LIMIT))
    assert error.reason == f"page larger than {LIMIT} bytes"
    assert _paths(server) == [path]


def test_trickling_body_hits_the_deadline(server: _Server) -> None:
    started = time.monotonic()
    error = _failure(f"{_base(server)}/trickle", FetchOptions(timeout=0.5))
    assert error.reason == "timed out after 0.5s reading the body"
    assert time.monotonic() - started < 2.0  # the whole body would take five seconds


def test_concurrent_fetches_overlap(server: _Server) -> None:
    async def go() -> list[FetchResponse]:
        async with AsyncFetcher(allow_private=True) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(f"{_base(server)}/together?n={n}") for n in range(20)))

    started = time.monotonic()
    pages = asyncio.run(go())
    elapsed = time.monotonic() - started
    assert [page.url for page in pages] == [f"{_base(server)}/together?n={n}" for n in range(20)]
    assert all(page.content == b"<p>together</p>" for page in pages)
    assert server.max_active >= 10
    assert elapsed < 3.0  # twenty 0.3 s requests one after another would take six


# --- address safety and pinning ---------------------------------------------------------------------


def test_loopback_server_is_refused_without_allow_private(server: _Server) -> None:
    error = _failure(f"{_base(server)}/hop/0", allow_private=False)
    assert error.reason.startswith("refusing to fetch 127.0.0.1: it resolves to a private or loopback address")
    assert server.requests == []  # refused before connecting


def _fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """Answer lookups from a table (one answer per call, the last repeating); return the names asked."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        queue = answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    monkeypatch.setattr(pinned, "resolve_host", resolve)
    return asked


def test_a_public_looking_name_that_resolves_to_loopback_is_refused(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _fake_dns(monkeypatch, {"news.example.org": [["127.0.0.1"]]})
    error = _failure(f"http://news.example.org:{server.server_address[1]}/hop/0", allow_private=False)
    assert error.reason.startswith("refusing to fetch news.example.org: it resolves to a private or loopback")
    assert "(127.0.0.1)" in error.reason
    assert asked == ["news.example.org"]
    assert server.requests == []


def test_one_private_address_among_public_ones_is_enough_to_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {"mixed.example.org": [[PUBLIC_IP, "10.0.0.7"]]})
    error = _failure("http://mixed.example.org/", allow_private=False)
    assert "(10.0.0.7)" in error.reason


def test_the_connection_goes_to_the_checked_address(monkeypatch: pytest.MonkeyPatch) -> None:
    # A rebinding name: public when checked, loopback on any later lookup. A fetcher that checked and then
    # let the socket layer resolve again would reach 127.0.0.1; the pinned one dials what it checked.
    asked = _fake_dns(monkeypatch, {"rebind.example.org": [[PUBLIC_IP], ["127.0.0.1"]]})
    dialled: list[tuple[str, int]] = []

    async def connect_tcp(self: object, host: str, port: int, **kwargs: object) -> httpcore.AsyncNetworkStream:
        dialled.append((host, port))
        raise httpcore.ConnectError("unreachable in tests")

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
    error = _failure("http://rebind.example.org:8080/", FetchOptions(retries=0), allow_private=False)
    assert error.reason == "ConnectError: unreachable in tests"
    assert dialled == [(PUBLIC_IP, 8080)]
    assert asked == ["rebind.example.org"]


def test_a_private_source_connects_to_the_resolved_address(server: _Server, monkeypatch: pytest.MonkeyPatch) -> None:
    port = server.server_address[1]
    asked = _fake_dns(monkeypatch, {"intranet.example": [["127.0.0.1"]]})
    page = _fetch(f"http://intranet.example:{port}/hop/0", allow_private=True)
    assert page.url == f"http://intranet.example:{port}/hop/0"
    assert asked == ["intranet.example"]  # no system resolver knows this name; ours was used to connect
    assert server.requests[0][1]["Host"] == f"intranet.example:{port}"


def test_an_unresolvable_name_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        raise pinned.RefusedConnection(f"cannot resolve host {host}: Name or service not known")

    monkeypatch.setattr(pinned, "resolve_host", resolve)
    sleeps = _Sleeps()
    error = _failure("http://no-such-host.example/", allow_private=False, sleep=sleeps)
    assert error.reason == "cannot resolve host no-such-host.example: Name or service not known"
    assert sleeps.waits == []  # a name that does not resolve is not retried


def _self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={name}"]
        + ["-addext", f"subjectAltName=DNS:{name}"],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_tls_checks_the_name_while_connecting_to_the_pinned_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path, "secure.example")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.requests, server.hits, server.lock = [], Counter(), threading.Lock()
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # httpx reads it when the fetcher is built
        _fake_dns(monkeypatch, {"secure.example": [["127.0.0.1"]], "other.example": [["127.0.0.1"]]})
        page = _fetch(f"https://secure.example:{port}/hop/0")
        assert page.url == f"https://secure.example:{port}/hop/0"
        sleeps = _Sleeps()
        error = _failure(f"https://other.example:{port}/hop/0", sleep=sleeps)
        assert "CERTIFICATE_VERIFY_FAILED" in error.reason  # the certificate names secure.example only
        assert sleeps.waits == []  # a bad certificate is not retried
        assert _paths(server) == ["/hop/0"]
    finally:
        server.shutdown()
        server.server_close()


def test_a_name_with_several_addresses_falls_back_to_the_next(server: _Server, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on 127.0.0.2 (the server is bound to 127.0.0.1 only), so the first connect is refused.
    _fake_dns(monkeypatch, {"twin.example": [["127.0.0.2", "127.0.0.1"]]})
    page = _fetch(f"http://twin.example:{server.server_address[1]}/hop/0", sleep=_Sleeps())
    assert (page.content, page.attempts) == (b"<html><body><p>arrived</p></body></html>", 1)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("7", 7.0), (" 0 ", 0.0), ("soon", None), ("-5", None), ("Mon, 01 Jan 2001 00:00:00 GMT", 0.0)],
)
def test_retry_after_values(header: str | None, seconds: float | None) -> None:
    assert async_http._retry_after(header) == seconds


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1", "invalid URL: Invalid IPv6 URL"),
        ("https://xn--/", "invalid URL: Malformed A-label"),
        ("ftp://example.org/file", "only http and https URLs can be fetched, not ftp"),
        ("http:///nothing", "the URL has no host"),
    ],
)
def test_urls_that_cannot_be_fetched_fail_in_one_line(url: str, reason: str) -> None:
    assert _failure(url, allow_private=False).reason.startswith(reason)
