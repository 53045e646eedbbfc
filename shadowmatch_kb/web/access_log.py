"""The access log of `smkb serve`: one line per request, emitted as a log record that the command line
sends where it was told (stderr, or a file).

A pure ASGI middleware rather than uvicorn's access logger: uvicorn's logs when the answer starts, so it
knows neither the bytes sent nor how long the answer took, and it writes the target as the client sent
it, analyst token and all. Here each line is written once the answer is complete (or the client left):

    2026-12-06T09:50:01Z 127.0.0.1 "GET /brief?q=nurse HTTP/1.1" 200 1234 0.183s

the time the request arrived (UTC), the client's address, the request line, the status, the body bytes
sent and the seconds until the answer was complete. The address is the one the app itself trusts:
uvicorn's proxy-headers layer, outside this one, has already put X-Forwarded-For's address in its place
on connections from 127.0.0.1. The status is 499 when the client left before any answer (as nginx
writes it), 500 when the app failed before answering.

Bodies, cookies and headers are never logged. In the target, a query value whose name says it is a
secret, and any path segment or query value that holds the analyst token however it was encoded, is
written as ``***``. Bytes outside printable ASCII, quotes and backslashes are percent-escaped, so a
request is always one line of space-separated fields.

The library only emits records: the access lines on the ``shadowmatch_kb.web.access`` logger at INFO,
and debug detail (time to the first byte, requests in flight, how long start-up took) on this module's
logger; `smkb serve` decides where they go.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ACCESS_LOGGER", "CLIENT_LEFT", "HIDDEN", "AccessLog", "request_target"]

ACCESS_LOGGER = "shadowmatch_kb.web.access"
CLIENT_LEFT = 499  # nginx's "client closed request": the client left before any answer
HIDDEN = "***"
# Query parameters whose values are secrets by their name; the app takes none, but a script may send one.
_SECRET_NAME = re.compile(r"token|passw|secret|auth|session|csrf|api_?key", re.IGNORECASE)
_PLAIN = frozenset(range(0x21, 0x7F)) - {ord('"'), ord("\\")}

access_logger = logging.getLogger(ACCESS_LOGGER)
detail_logger = logging.getLogger(__name__)


class AccessLog:
    """Logs one line per HTTP request once it is answered; ``secrets`` (the analyst token) never appear in it."""

    def __init__(self, app: ASGIApp, *, secrets: Iterable[str | None] = ()) -> None:
        self.app = app
        self.secrets = tuple(secret.encode() for secret in secrets if secret)
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and detail_logger.isEnabledFor(logging.DEBUG):
            await self.app(scope, receive, _timing_startup(send))
            return
        if scope["type"] != "http" or not (
            access_logger.isEnabledFor(logging.INFO) or detail_logger.isEnabledFor(logging.DEBUG)
        ):
            await self.app(scope, receive, send)
            return
        arrived, started = time.time(), time.perf_counter()
        status: int | None = None
        first_byte: float | None = None
        sent = 0
        failed = False

        async def counting_send(message: Message) -> None:
            nonlocal status, first_byte, sent
            if message["type"] == "http.response.start":
                status, first_byte = message["status"], time.perf_counter() - started
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        self.in_flight += 1
        try:
            await self.app(scope, receive, counting_send)
        except Exception:
            failed = True
            raise
        finally:
            self.in_flight -= 1
            seconds = time.perf_counter() - started
            code = status if status is not None else 500 if failed else CLIENT_LEFT
            self._log(scope, arrived, code, sent, seconds, first_byte)

    def _log(
        self, scope: Scope, arrived: float, status: int, sent: int, seconds: float, first_byte: float | None
    ) -> None:
        method = _escaped(str(scope.get("method", "-")).encode("latin-1", "replace"))
        target = request_target(scope, self.secrets)
        if access_logger.isEnabledFor(logging.INFO):
            client = scope.get("client")
            address = _escaped(str(client[0]).encode("utf-8", "replace")) if client else "-"
            when = datetime.fromtimestamp(arrived, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            protocol = f"HTTP/{scope.get('http_version', '1.1')}"
            access_logger.info(f'{when} {address} "{method} {target} {protocol}" {status} {sent} {seconds:.3f}s')
        if detail_logger.isEnabledFor(logging.DEBUG):
            waited = "no answer" if first_byte is None else f"first byte after {first_byte:.3f} s"
            detail_logger.debug(
                f"{method} {target}: {status} in {seconds:.3f} s ({waited}); {self.in_flight} other requests in flight"
            )


def _timing_startup(send: Send) -> Send:
    """``send`` for the lifespan, logging how long the app took to start (the model and indexes load then)."""
    started = time.perf_counter()

    async def timed(message: Message) -> None:
        if message["type"] == "lifespan.startup.complete":
            detail_logger.debug(f"model, indexes and caches loaded in {time.perf_counter() - started:.2f} s")
        await send(message)

    return timed


def request_target(scope: Scope, secrets: tuple[bytes, ...] = ()) -> str:
    """The request's path and query as the client sent them, with secrets hidden, escaped to one field."""
    path: bytes = scope.get("raw_path") or str(scope.get("path", "")).encode("utf-8", "replace")
    path = path.split(b"?", 1)[0]  # a raw_path never holds the query, but some servers' did
    path = b"/".join(HIDDEN.encode() if _holds(segment, secrets) else segment for segment in path.split(b"/"))
    if _holds(path, secrets):  # a secret spread over several segments
        path = HIDDEN.encode()
    query: bytes = scope.get("query_string", b"")
    if query:
        query = b"&".join(_hidden_parameter(pair, secrets) for pair in query.split(b"&"))
        if _holds(query, secrets):
            query = HIDDEN.encode()
    return _escaped(path + (b"?" + query if query else b""))


def _hidden_parameter(pair: bytes, secrets: tuple[bytes, ...]) -> bytes:
    name, equals, _ = pair.partition(b"=")
    if _holds(pair, secrets):
        return name + equals + HIDDEN.encode() if equals and not _holds(name, secrets) else HIDDEN.encode()
    if equals and _SECRET_NAME.search(unquote_to_bytes(name).decode("utf-8", "replace")):
        return name + equals + HIDDEN.encode()
    return pair


def _holds(raw: bytes, secrets: tuple[bytes, ...]) -> bool:
    """Whether ``raw`` holds one of ``secrets`` as sent, percent-decoded, or form-decoded ('+' a space)."""
    if not secrets:
        return False
    forms = (raw, unquote_to_bytes(raw), unquote_to_bytes(raw.replace(b"+", b" ")))
    return any(secret in form for secret in secrets for form in forms)


def _escaped(raw: bytes) -> str:
    return "".join(chr(byte) if byte in _PLAIN else f"%{byte:02X}" for byte in raw)
