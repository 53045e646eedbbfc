"""`smkb serve` under attack over real loopback sockets (issue 17): slow requests and huge bodies are cut
off, one slow briefing cannot stall the rest, and work for clients that left is never done.

Every test sends a bounded number of bytes and connections to 127.0.0.1 only, and stops on its own clock.
"""

from __future__ import annotations

import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from conftest import free_port, smkb, smkb_serve

TOKEN = "server-token-0123456789abcdef"
NURSE = "I'm a nurse on a busy ward. How will AI change my job?"


@contextmanager
def serving(app, **settings: float) -> Iterator[str]:
    """``app`` served by uvicorn with `smkb serve`'s settings (``settings`` as for ``server_config``), on a
    thread of this process; yields its URL."""
    import uvicorn

    from shadowmatch_kb.web.server import server_config

    port = free_port()
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, **settings))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class BodyCounter:
    """An outer ASGI layer that counts the request-body bytes the server handed to the app."""

    def __init__(self, app) -> None:
        self.app, self.bytes = app, 0
        self.state = app.state  # so tests reach the app's state through it

    async def __call__(self, scope, receive, send) -> None:
        async def counted():
            message = await receive()
            self.bytes += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def _status(answer: bytes) -> int | None:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


def _send_chunked_gigabyte(base: str, head: bytes, counter: BodyCounter) -> tuple[int | None, int]:
    """Send up to 1 GB in 64 KB chunks, made as they go, until the server answers or closes; the status
    it answered (None if it closed without one) and the bytes sent. Stops early once the app has been
    handed 4 MB, or after 30 s, so a server that reads on never makes the test send the whole gigabyte."""
    chunk = b"%x\r\n" % 65536 + b"a" * 65536 + b"\r\n"
    sent, answer = 0, b""
    deadline = time.monotonic() + 30
    with _connect(base) as sock:
        sock.sendall(head)
        try:
            while sent < 2**30 and counter.bytes < 4 * 2**20 and time.monotonic() < deadline:
                if select.select([sock], [], [], 0)[0]:
                    break
                sock.sendall(chunk)
                sent += 65536
            sock.settimeout(5)
            answer = sock.recv(4096)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
    return _status(answer), sent


@pytest.mark.slow
def test_a_chunked_gigabyte_is_refused_within_the_first_megabyte(demo_kb) -> None:
    from shadowmatch_kb.web.app import create_app

    counter = BodyCounter(create_app(demo_kb, analyst_token=TOKEN, warm=False, readers=1))
    with serving(counter) as base:
        for path, kind in [
            ("/signin", b"application/x-www-form-urlencoded"),
            ("/signout", b"multipart/form-data; boundary=x"),
            ("/items/" + "0" * 32 + "/review", b"application/x-www-form-urlencoded"),
            ("/api/items/" + "0" * 32 + "/tags", b"application/json"),
        ]:
            counter.bytes = 0
            head = b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n" % (
                path.encode(),
                kind,
            )
            status, sent = _send_chunked_gigabyte(base, head, counter)
            assert counter.bytes < 2**20, (path, counter.bytes)  # the server stopped reading within 1 MB
            assert status in (413, None) and sent < 64 * 2**20, (path, status, sent)
        # The server is none the worse for it.
        assert httpx.get(f"{base}/healthz", timeout=5).json()["items"] == 44


class SlowBriefings:
    """A stand-in for briefings that take minutes (a planted 200,000-character token did that): each
    waits until released, and records which questions it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.release = threading.Event()

    def __call__(self, kb, question: str, *, since: str | None = None):
        self.asked.append(question)
        self.release.wait(timeout=20)
        from shadowmatch_kb.errors import UsageError

        raise UsageError("released")  # answered with 400: what a briefing would say does not matter here


@pytest.fixture
def slow_briefings(monkeypatch) -> Iterator[SlowBriefings]:
    from shadowmatch_kb.kb import KnowledgeBase

    slow = SlowBriefings()
    monkeypatch.setattr(
        KnowledgeBase, "brief", lambda kb, question, since=None, occupation=None: slow(kb, question, since=since)
    )
    try:
        yield slow
    finally:
        slow.release.set()


def _wait_for(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


@pytest.mark.slow
def test_healthz_answers_within_a_second_while_briefings_hold_every_reading_thread(demo_kb, slow_briefings) -> None:
    from shadowmatch_kb.web.app import create_app

    app = create_app(demo_kb, warm=False, readers=2, request_timeout=1.5)
    with serving(app) as base:
        answers: dict[str, httpx.Response] = {}

        def ask(question: str, path: str = "/api/brief") -> None:
            answers[question] = httpx.get(f"{base}{path}", params={"q": question}, timeout=30)

        askers = [threading.Thread(target=ask, args=(f"question {n}",)) for n in range(4)]
        askers.append(threading.Thread(target=ask, args=("as a page", "/brief")))
        for asker in askers:
            asker.start()
        _wait_for(lambda: len(slow_briefings.asked) == 2)  # both reading threads are held
        for _ in range(3):
            started = time.monotonic()
            health = httpx.get(f"{base}/healthz", timeout=5)
            assert health.status_code == 200 and health.json()["items"] == 44
            assert time.monotonic() - started < 1.0
        # The briefings waited at most their time limit, then were told to try again.
        for asker in askers:
            asker.join(timeout=10)
        busy = [answer for answer in answers.values() if answer.status_code == 503]
        assert len(busy) == 5 and all(answer.headers["retry-after"] for answer in busy)
        assert "busy" in answers["question 0"].json()["error"]
        assert "<title>Busy" in answers["as a page"].text
        # Only the two that had started ran; the three still queued were dropped when their wait ran out.
        slow_briefings.release.set()
        time.sleep(0.3)
        assert len(slow_briefings.asked) == 2


@pytest.mark.slow
def test_a_queued_request_whose_client_left_is_never_run(demo_kb, slow_briefings) -> None:
    from shadowmatch_kb.web.app import create_app

    app = create_app(demo_kb, warm=False, readers=1)
    with serving(app) as base:
        first = threading.Thread(target=httpx.get, args=(f"{base}/api/brief",), kwargs={"params": {"q": "first"}})
        first.start()
        _wait_for(lambda: slow_briefings.asked == ["first"])
        with _connect(base) as sock:  # queued behind the first, then the client gives up
            sock.sendall(b"GET /api/brief?q=second HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            time.sleep(0.3)
        time.sleep(0.3)
        slow_briefings.release.set()
        first.join(timeout=10)
        time.sleep(0.3)
        assert slow_briefings.asked == ["first"]
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200


def _slow_header_connection(base: str) -> socket.socket:
    sock = _connect(base)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line that ends it
    return sock


def _seconds_until_closed(socks: dict[str, socket.socket], trickling: str, limit: float) -> dict[str, float]:
    """Seconds until the server closed each of ``socks`` (the ``trickling`` one sends a header byte every
    0.5 s meanwhile); a socket still open after ``limit`` seconds is left out."""
    started = time.monotonic()
    closed: dict[str, float] = {}
    next_byte = started + 0.5
    while len(closed) < len(socks) and time.monotonic() - started < limit:
        waiting = {sock: name for name, sock in socks.items() if name not in closed}
        for sock in select.select(list(waiting), [], [], 0.1)[0]:
            try:
                ended = sock.recv(4096) == b""
            except OSError:
                ended = True
            if ended:
                closed[waiting[sock]] = time.monotonic() - started
        if time.monotonic() >= next_byte and trickling not in closed:
            next_byte += 0.5
            try:
                socks[trickling].send(b"X")
            except OSError:
                closed[trickling] = time.monotonic() - started
    return closed


@pytest.mark.slow
def test_smkb_serve_closes_slow_requests_and_answers_beside_fifty_of_them(demo_kb) -> None:
    with smkb_serve(demo_kb, "--read-timeout", "2") as served:
        base = served.base
        # A client that trickles its headers a byte at a time, one that sends nothing at all, and one
        # that stops halfway through its body are all cut off at the read limit.
        socks = {"trickling": _slow_header_connection(base), "silent": _connect(base), "stalled": _connect(base)}
        socks["stalled"].sendall(b"POST /signin HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\ntoken=")
        closed = _seconds_until_closed(socks, "trickling", limit=8)
        for sock in socks.values():
            sock.close()
        assert set(closed) == set(socks), closed
        assert all(1.0 < seconds < 3.5 for seconds in closed.values()), closed
        # Headers over 16 KiB are refused rather than buffered.
        with _connect(base) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 32_000 + b"\r\n\r\n")
            sock.settimeout(5)
            assert _status(sock.recv(4096)) in (400, 431)
        # Fifty slow connections at once do not keep anyone else out.
        held = [_slow_header_connection(base) for _ in range(50)]
        try:
            for _ in range(3):
                started = time.monotonic()
                assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
                assert time.monotonic() - started < 1.0
        finally:
            for sock in held:
                sock.close()


@pytest.mark.slow
def test_the_read_deadline_never_cuts_off_a_request_being_answered(demo_kb, slow_briefings) -> None:
    from shadowmatch_kb.web.app import create_app

    app = create_app(demo_kb, warm=False, readers=2)
    with serving(app, read_timeout=0.5) as base:
        threading.Timer(1.5, slow_briefings.release.set).start()
        kept, closing = _connect(base), _connect(base)
        kept.sendall(b"GET /api/brief?q=kept HTTP/1.1\r\nHost: x\r\n\r\n")
        closing.sendall(b"GET /api/brief?q=closing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        for sock in (kept, closing):
            assert _status(sock.recv(4096)) == 400  # answered after 1.5 s, past the 0.5 s read deadline
        closing.close()
        # The kept-alive connection's next request is held to the deadline again.
        kept.sendall(b"GET /healthz HTTP/1.1\r\n")
        closed = _seconds_until_closed({"kept": kept}, "kept", limit=4)
        kept.close()
        assert 0.2 < closed["kept"] < 2, closed


# ----- the access log and -v/-q (issue: logging for deployment) ------------------------------------

ACCESS_LINE = re.compile(
    r'^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (?P<client>\S+) "(?P<method>[A-Z]+) (?P<target>\S+) HTTP/1\.1" '
    r"(?P<status>\d{3}) (?P<bytes>\d+) (?P<seconds>\d+\.\d{3})s$"
)


def _access_lines(text: str) -> list[re.Match[str]]:
    return [match for line in text.splitlines() if (match := ACCESS_LINE.match(line))]


@pytest.mark.slow
def test_smkb_serve_logs_one_line_per_request_and_never_the_token(demo_kb, monkeypatch) -> None:
    monkeypatch.setenv("SMKB_ANALYST_TOKEN", TOKEN)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with smkb_serve(demo_kb) as served:
        base = served.base
        with httpx.Client(base_url=base, timeout=30) as client:
            asked = [
                client.get("/api/search", params={"q": "nurses", "k": "3"}),
                client.get("/items/" + "0" * 32),
                # The token where a careless script might put it: a query, a path, a header, a form, a body.
                client.get("/search", params={"q": TOKEN, "token": "x"}),
                client.get(f"/items/{TOKEN}"),
                client.post("/api/items/" + "0" * 32 + "/tags", json={"bogus": TOKEN}, headers=bearer),
                client.post("/signin", data={"token": TOKEN, "next": "/"}),
            ]
            session = client.cookies.get("smkb_analyst")
            asked.append(client.get("/healthz"))
    assert [answer.status_code for answer in asked] == [200, 404, 200, 404, 400, 303, 200]
    assert session and session not in served.stderr and TOKEN not in served.stderr
    assert "serving " in served.stderr.splitlines()[0]
    lines = _access_lines(served.stderr)
    ours = lines[-len(asked) :]  # before them: the /healthz polls that waited for the server to start
    assert all(line["target"].startswith("/healthz") for line in lines[: -len(asked)])
    for line, answer in zip(ours, asked, strict=True):
        assert line["client"] == "127.0.0.1" and line["method"] == answer.request.method
        assert int(line["status"]) == answer.status_code and int(line["bytes"]) == len(answer.content)
        assert float(line["seconds"]) < 30
    assert ours[0]["target"] == "/api/search?q=nurses&k=3"
    assert ours[2]["target"] == "/search?q=***&token=***" and ours[3]["target"] == "/items/***"
    # Every other line is the start-up line: nothing else, and no traceback.
    assert len(served.stderr.strip().splitlines()) == len(lines) + 1


@pytest.mark.slow
def test_smkb_serve_quiet_writes_nothing_but_errors(demo_kb) -> None:
    with smkb_serve(demo_kb, "-q") as served:
        assert httpx.get(f"{served.base}/api/search", params={"q": "nurses"}, timeout=30).status_code == 200
        assert httpx.get(f"{served.base}/nowhere", timeout=5).status_code == 404
    assert served.stderr == ""


@pytest.mark.slow
def test_smkb_serve_verbose_with_an_access_log_file(demo_kb, tmp_path) -> None:
    log = tmp_path / "access.log"
    log.write_text("an earlier line\n")
    # Proxy headers are trusted from loopback, as the README says: the log names the client they name.
    with smkb_serve(demo_kb, "-v", "--access-log", str(log)) as served:
        answer = httpx.get(
            f"{served.base}/api/search", params={"q": "nurses"}, headers={"X-Forwarded-For": "203.0.113.9"}
        )
    written = log.read_text().splitlines()
    assert written[0] == "an earlier line"  # appended to, never truncated
    assert all(ACCESS_LINE.match(line) for line in written[1:])
    last = ACCESS_LINE.match(written[-1])
    assert last and last["client"] == "203.0.113.9" and int(last["bytes"]) == len(answer.content)
    assert not _access_lines(served.stderr)  # the file instead of stderr
    assert "debug: model, indexes and caches loaded in" in served.stderr
    assert "debug: GET /api/search?q=nurses: 200 in" in served.stderr
    assert re.search(r"debug: reader \d of \d takes it \(busy: [\d, ]+\)", served.stderr)
    assert "Traceback" not in served.stderr


def test_smkb_serve_usage_errors_are_one_line_and_exit_2(tmp_path) -> None:
    # Both are refused before a knowledge base is opened or a model loaded.
    both = smkb("serve", "-v", "-q", kb=tmp_path)
    assert both.exit_code == 2 and both.stderr.count("\n") == 1 and "--quiet" in both.stderr
    unwritable = smkb("serve", "--access-log", str(tmp_path / "missing" / "access.log"), kb=tmp_path)
    assert unwritable.exit_code == 2 and unwritable.stderr.count("\n") == 1
    assert unwritable.stderr.startswith("error: cannot open the access log")
