"""The blocking face of the one fetcher against a real HTTP server on 127.0.0.1, plus the URL safety and
canonical-URL rules."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import require_shared

from shadowmatch_kb.errors import FetchError, InputError
from shadowmatch_kb.extract.html import extract_article
from shadowmatch_kb.fetch.async_http import DEFAULT_USER_AGENT, AsyncFetcher, FetchOptions
from shadowmatch_kb.fetch.blocking import BlockingFetcher
from shadowmatch_kb.fetch.decode import decode_body
from shadowmatch_kb.fetch.pinned import RefusedConnection, checked_addresses
from shadowmatch_kb.fetch.safety import canonicalize_url, check_url_allowed, is_public_address

ARTICLE_ID = "16c30add7e96315e9cc957d85aa876ccb6b70055f0ddab51547a586117cc1f56"  # a Vox article
LIMIT = 100_000
LATIN1_PAGE = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
    "<title>Crème brûlée</title></head><body><p>Crème brûlée à Zürich, Ærøskøbing.</p></body></html>"
).encode("latin-1")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[tuple[str, dict[str, str]]]
    article: bytes


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

    def _redirect(self, status: int, location: str) -> None:
        self._send(status, b"", {"Location": location})

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        """Serve the route named by the path."""
        self.server.requests.append((self.path, dict(self.headers.items())))
        path = urlsplit(self.path).path
        try:
            self._route(path)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the fetcher gave up first, which is what several tests want

    def _route(self, path: str) -> None:
        port = self.server.server_address[1]
        if path == "/article":
            self._html(self.server.article)
        elif path.startswith("/hop/"):
            left = int(path.rsplit("/", 1)[1])
            if left > 0:
                self._redirect(302 if left % 2 else 301, f"/hop/{left - 1}")
            else:
                self._html(b"<html><body><p>arrived</p></body></html>")
        elif path == "/loop/a":
            self._redirect(302, "/loop/b")
        elif path == "/loop/b":
            self._redirect(301, f"http://127.0.0.1:{port}/loop/a")
        elif path == "/to-file":
            self._redirect(302, "file:///etc/passwd")
        elif path == "/broken":
            self._send(500, b"oops", {"Content-Type": "text/plain"})
        elif path == "/big":
            self._html(b"<p>" + b"x" * (LIMIT * 2) + b"</p>")
        elif path == "/big-stream":
            # No Content-Length: only counting the streamed bytes can catch this one.
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"y" * 10_000)
        elif path == "/paper.pdf":
            self._send(200, b"%PDF-1.4 not really", {"Content-Type": "application/pdf"})
        elif path == "/latin1":
            self._html(LATIN1_PAGE, content_type="text/html")
        elif path == "/plain":
            self._html("plain text, naïve".encode(), content_type="text/plain; charset=utf-8")
        elif path == "/no-type":
            self._send(200, b"<html><body>untyped</body></html>")
        elif path == "/slow":
            time.sleep(1.5)
            self._html(b"<p>too late</p>")
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "4000")
            self.end_headers()
            for _ in range(100):  # 40 bytes every 50 ms: each read is quick, the whole is slow
                self.wfile.write(b"z" * 40)
                self.wfile.flush()
                time.sleep(0.05)
        else:
            self._send(404, b"not here", {"Content-Type": "text/plain"})


@pytest.fixture(scope="module")
def http_server() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.requests = []
    server.article = b""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(http_server: _Server) -> _Server:
    http_server.requests.clear()
    return http_server


def _base(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def _paths(server: _Server) -> list[str]:
    return [path for path, _ in server.requests]


def _blocking(
    *, allow_private: bool = False, transport: httpx.AsyncBaseTransport | None = None, **limits: Any
) -> BlockingFetcher:
    """The one fetcher as ingest uses it, with these limits; no retries, so each test sees one request a hop."""
    options = replace(FetchOptions(retries=0), **limits)
    return BlockingFetcher(AsyncFetcher(options, allow_private=allow_private, transport=transport))


@pytest.fixture
def fetcher() -> Iterator[BlockingFetcher]:
    with _blocking(allow_private=True, max_bytes=LIMIT, max_redirects=5, timeout=5.0) as client:
        yield client


# --- fetching ---------------------------------------------------------------------------------------


def test_fetches_a_real_article_and_extracts_it(server: _Server) -> None:
    html_path = require_shared("extraction", "zyte", "html", f"{ARTICLE_ID}.html.gz")
    server.article = gzip.decompress(html_path.read_bytes())
    with _blocking(allow_private=True) as big_enough:
        page = big_enough.fetch(f"{_base(server)}/article?utm_source=feed&id=7#comments")

    assert page.status == 200
    assert page.content == server.article
    assert page.content_type == "text/html"
    assert page.charset == "utf-8"
    assert page.url == f"{_base(server)}/article?id=7"
    assert page.requested_url == f"{_base(server)}/article?utm_source=feed&id=7#comments"
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    ((path, headers),) = server.requests
    assert path == "/article?utm_source=feed&id=7"  # the fragment never leaves the client
    assert headers["User-Agent"] == DEFAULT_USER_AGENT
    article = extract_article(page.text(), url=page.url)
    assert "air pollution" in article.text.lower()
    assert len(article.text) > 5000


def test_follows_a_redirect_chain(server: _Server, fetcher: BlockingFetcher) -> None:
    page = fetcher.fetch(f"{_base(server)}/hop/3")
    assert page.url == f"{_base(server)}/hop/0"
    assert page.requested_url == f"{_base(server)}/hop/3"
    assert b"arrived" in page.content
    assert _paths(server) == ["/hop/3", "/hop/2", "/hop/1", "/hop/0"]


def test_redirect_limit_is_exact(server: _Server) -> None:
    with _blocking(allow_private=True, max_redirects=2) as strict:
        assert strict.fetch(f"{_base(server)}/hop/2").status == 200
        server.requests.clear()
        with pytest.raises(FetchError, match="too many redirects"):
            strict.fetch(f"{_base(server)}/hop/3")
    assert _paths(server) == ["/hop/3", "/hop/2", "/hop/1"]


def test_redirect_loop_stops_at_the_first_repeat(server: _Server, fetcher: BlockingFetcher) -> None:
    with pytest.raises(FetchError, match="redirect loop") as caught:
        fetcher.fetch(f"{_base(server)}/loop/a")
    assert "loop" in caught.value.reason
    assert _paths(server) == ["/loop/a", "/loop/b"]


def test_redirect_to_another_scheme_is_refused(server: _Server, fetcher: BlockingFetcher) -> None:
    with pytest.raises(FetchError, match=r"redirect to file:///etc/passwd refused: only http and https"):
        fetcher.fetch(f"{_base(server)}/to-file")
    assert _paths(server) == ["/to-file"]


@pytest.mark.parametrize(("path", "status"), [("/missing", "HTTP 404"), ("/broken", "HTTP 500")])
def test_error_statuses(server: _Server, fetcher: BlockingFetcher, path: str, status: str) -> None:
    with pytest.raises(FetchError, match=status) as caught:
        fetcher.fetch(_base(server) + path)
    assert caught.value.source == _base(server) + path
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("path", ["/big", "/big-stream"])
def test_oversized_pages_are_cut_off(server: _Server, fetcher: BlockingFetcher, path: str) -> None:
    with pytest.raises(FetchError, match=f"page larger than {LIMIT} bytes"):
        fetcher.fetch(_base(server) + path)
    assert _paths(server) == [path]


def test_pdf_is_refused(server: _Server, fetcher: BlockingFetcher) -> None:
    with pytest.raises(FetchError, match="not a page: application/pdf"):
        fetcher.fetch(f"{_base(server)}/paper.pdf")


def test_plain_text_and_untyped_markup_are_accepted(server: _Server, fetcher: BlockingFetcher) -> None:
    plain = fetcher.fetch(f"{_base(server)}/plain")
    assert (plain.content_type, plain.charset, plain.text()) == ("text/plain", "utf-8", "plain text, naïve")
    untyped = fetcher.fetch(f"{_base(server)}/no-type")
    assert untyped.content_type == "text/html"


def test_latin1_page_declared_by_meta_charset(server: _Server, fetcher: BlockingFetcher) -> None:
    page = fetcher.fetch(f"{_base(server)}/latin1")
    assert page.charset is None
    assert page.content == LATIN1_PAGE
    text = decode_body(page.content, page.charset)
    assert "Crème brûlée à Zürich, Ærøskøbing." in text


def test_slow_server_times_out(server: _Server) -> None:
    started = time.monotonic()
    with (
        _blocking(allow_private=True, timeout=0.3) as impatient,
        pytest.raises(FetchError, match="timed out"),
    ):
        impatient.fetch(f"{_base(server)}/slow")
    assert time.monotonic() - started < 1.4  # gave up before the server answered
    assert _paths(server) == ["/slow"]


def test_trickling_body_times_out(server: _Server) -> None:
    started = time.monotonic()
    with (
        _blocking(allow_private=True, timeout=0.5) as impatient,
        pytest.raises(FetchError, match="timed out"),
    ):
        impatient.fetch(f"{_base(server)}/trickle")
    assert time.monotonic() - started < 2.5  # the whole body would take five seconds


def test_connection_refused_is_one_line() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with _blocking(allow_private=True) as client, pytest.raises(FetchError) as caught:
        client.fetch(f"http://127.0.0.1:{port}/")
    assert "\n" not in str(caught.value)
    assert "Connect" in caught.value.reason


def test_user_agent_is_sent(server: _Server) -> None:
    with _blocking(allow_private=True, user_agent="probe/1.0") as client:
        client.fetch(f"{_base(server)}/hop/0")
    assert server.requests[0][1]["User-Agent"] == "probe/1.0"


def test_loopback_server_is_refused_without_allow_private(server: _Server) -> None:
    with _blocking() as client, pytest.raises(FetchError, match="refusing to fetch 127.0.0.1"):
        client.fetch(f"{_base(server)}/hop/0")
    assert server.requests == []  # refused before connecting


# --- the transport seam -----------------------------------------------------------------------------

PUBLIC_IP = "93.184.215.14"  # a global address; a literal, so no DNS is needed


def test_redirect_from_public_to_private_is_refused() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://127.0.0.1:8080/admin"})

    with _blocking(transport=httpx.MockTransport(handler)) as client, pytest.raises(FetchError) as caught:
        client.fetch(f"http://{PUBLIC_IP}/start")
    assert "redirect to http://127.0.0.1:8080/admin refused" in caught.value.reason
    assert "refusing to fetch 127.0.0.1" in caught.value.reason
    assert seen == [f"http://{PUBLIC_IP}/start"]


def test_transport_decides_the_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<p>hi</p>", headers={"Content-Type": "application/xhtml+xml"})

    with _blocking(transport=httpx.MockTransport(handler)) as client:
        page = client.fetch(f"HTTP://{PUBLIC_IP}:80/a#b")
    assert (page.url, page.content_type, page.content) == (
        f"http://{PUBLIC_IP}/a",
        "application/xhtml+xml",
        b"<p>hi</p>",
    )


# --- decode_body ------------------------------------------------------------------------------------


def test_decode_body_prefers_the_header_charset() -> None:
    assert decode_body("Grüße".encode("cp1252"), "windows-1252") == "Grüße"


def test_decode_body_reads_html5_meta_charset() -> None:
    body = b'<meta charset="windows-1252"><p>\x93quoted\x94</p>'
    assert "\u201cquoted\u201d" in decode_body(body, None)


def test_decode_body_defaults_to_utf8_then_cp1252() -> None:
    assert decode_body("naïve".encode(), None) == "naïve"
    assert decode_body(b"caf\xe9", None) == "café"
    assert decode_body(b"\x81\x8d\xff", None)  # undefined even in cp1252; replaced, not raised


def test_decode_body_survives_wrong_labels() -> None:
    assert decode_body("naïve".encode(), "no-such-charset") == "naïve"
    assert decode_body("naïve".encode(), "ascii") == "naïve"  # ascii cannot hold it; utf-8 can


def test_decode_body_distrusts_a_default_latin1_label_on_utf8() -> None:
    assert decode_body("naïve café".encode(), "ISO-8859-1") == "naïve café"
    assert decode_body("naïve café".encode("latin-1"), "ISO-8859-1") == "naïve café"


def test_decode_body_honours_a_bom() -> None:
    assert decode_body(b"\xef\xbb\xbfhello", "cp1252") == "hello"


# --- safety -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8080/x",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://100.64.0.1/",
    ],
)
def test_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchError, match="private or loopback address") as caught:
        check_url_allowed(url)
    assert caught.value.reason.endswith("pass --allow-private to allow it")
    check_url_allowed(url, allow_private=True)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "javascript:alert(1)", "example.com/a"])
def test_other_schemes_are_refused_even_with_allow_private(url: str) -> None:
    for allow in (False, True):
        with pytest.raises(FetchError, match="only http and https"):
            check_url_allowed(url, allow_private=allow)


def test_url_without_host_is_refused() -> None:
    with pytest.raises(FetchError, match="no host"):
        check_url_allowed("http:///path")


def test_public_address_is_allowed() -> None:
    check_url_allowed(f"https://{PUBLIC_IP}/news")


def _fake_dns(answers: dict[str, list[str]]):
    def getaddrinfo(host: str, port: object, *args: object, **kwargs: object) -> list[tuple]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        family = {True: socket.AF_INET6, False: socket.AF_INET}
        return [(family[":" in ip], socket.SOCK_STREAM, 6, "", (ip, 0)) for ip in answers[host]]

    return getaddrinfo


def test_host_names_are_judged_by_what_they_resolve_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        _fake_dns(
            {
                "news.example": [PUBLIC_IP],
                "intranet.example": ["10.0.0.5"],
                "split.example": [PUBLIC_IP, "fd00::7"],
            }
        ),
    )
    check_url_allowed("https://news.example/a")
    with pytest.raises(FetchError, match=r"refusing to fetch intranet.example: .*\(10\.0\.0\.5\)"):
        check_url_allowed("https://intranet.example/")
    with pytest.raises(FetchError, match=r"\(fd00::7\)"):
        check_url_allowed("https://split.example/")
    with pytest.raises(FetchError, match="cannot resolve host nowhere.example"):
        check_url_allowed("https://nowhere.example/")


# IPv6 addresses that carry an IPv4 address (issue 17): judged by the IPv4 address the packets reach.
EMBEDDED_PRIVATE = [
    "2002:7f00:1::",  # 6to4 (RFC 3056) of 127.0.0.1
    "2002:a00:5::1",  # 6to4 of 10.0.0.5
    "2002:c0a8:101:0:1::",  # 6to4 of 192.168.1.1
    "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254, the cloud metadata service
    "2002:6440:1::",  # 6to4 of 100.64.0.1, carrier-grade NAT
    "::ffff:10.0.0.5",  # IPv4-mapped (RFC 4291 2.5.5.2)
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible (RFC 4291 2.5.5.1, deprecated)
    "::10.0.0.5",
    "64:ff9b::7f00:1",  # NAT64 well-known prefix (RFC 6052) of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::c0a8:101",  # NAT64 of 192.168.1.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo (RFC 4380): the client's IPv4 is obfuscated
    "2001::1",
]
EMBEDDED_PUBLIC = [
    "2002:5db8:d70e::1",  # 6to4 of 93.184.215.14
    "::ffff:93.184.215.14",
    "64:ff9b::5db8:d70e",  # NAT64 of 93.184.215.14: how an IPv6-only network reaches an IPv4 site
    "2606:4700:4700::1111",  # an ordinary global IPv6 address, for contrast
]


@pytest.mark.parametrize("address", EMBEDDED_PRIVATE)
def test_ipv6_forms_of_private_ipv4_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))
    with pytest.raises(FetchError, match="private or loopback address"):
        check_url_allowed(f"http://[{address}]/")


@pytest.mark.parametrize("address", EMBEDDED_PUBLIC)
def test_ipv6_forms_of_public_ipv4_addresses_are_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["2002:7f00:1::", "2002:a9fe:a9fe::", "64:ff9b::a00:5"])
def test_the_pinned_transport_refuses_ipv6_forms_of_private_addresses(address: str) -> None:
    with pytest.raises(RefusedConnection, match="private or loopback address"):
        asyncio.run(checked_addresses(address, 80, allow_private=False))
    # Through the one fetcher, refused before any connection is tried.
    with _blocking() as client, pytest.raises(FetchError, match="private or loopback address"):
        client.fetch(f"http://[{address}]/")


# --- canonical URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTP://Example.COM", "http://example.com/"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?utm_source=x&id=3&UTM_Medium=y&b=&fbclid=z", "https://example.com/a?id=3&b="),
        ("https://example.com/a?gclid=1&mc_cid=2&mc_eid=3&ref_src=4&igshid=5", "https://example.com/a"),
        ("https://example.com/a?z=1&a=2", "https://example.com/a?z=1&a=2"),
        ("https://example.com/a?q=caf%C3%A9+au+lait", "https://example.com/a?q=caf%C3%A9+au+lait"),
        ("https://example.com/Path/Keeps/Case", "https://example.com/Path/Keeps/Case"),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
        ("https://user@Example.com/", "https://user@example.com/"),
    ],
)
def test_canonicalize_url(raw: str, canonical: str) -> None:
    assert canonicalize_url(raw) == canonical


def test_canonicalize_url_is_idempotent() -> None:
    once = canonicalize_url("HTTPS://News.Example:443?utm_campaign=a&x=1#top")
    assert once == "https://news.example/?x=1"
    assert canonicalize_url(once) == once


def test_canonicalize_url_rejects_a_bad_port() -> None:
    with pytest.raises(InputError, match="invalid port"):
        canonicalize_url("http://example.com:99999/")


def test_a_malformed_url_is_a_one_line_error() -> None:
    with pytest.raises(FetchError, match="invalid URL"):
        check_url_allowed("http://[::1/x")
    with pytest.raises(InputError, match="invalid URL"):
        canonicalize_url("http://[::1/x")
