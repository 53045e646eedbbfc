"""The web page's outer guard: strict headers on every answer, bounded request bodies, and requests
dropped when their client leaves.

A pure ASGI middleware, so it sees the body as it arrives rather than after a framework has read it.
The body is counted as it streams in, since a chunked request has no Content-Length to trust, and is
refused with 413 the moment it passes the limit, before any form or JSON parser sees it; the answer
closes the connection, so the server stops reading the rest. Bodies here are small (sign-in forms,
analyst writes), so each is read in full first and handed on in one piece. Then the request runs while
the connection is watched: when the client leaves before its answer, the request is cancelled, and
work it queued on a reading thread is dropped before it starts.
"""

from __future__ import annotations

import asyncio
import json
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_HEAD_BYTES", "SECURITY_HEADERS", "Guard"]

# The request line and headers. uvicorn's h11 parser holds no more than this while a head is incomplete,
# but takes a larger head that arrives in one read; refused here whichever way it came.
MAX_HEAD_BYTES = 16 * 1024

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_LENGTH = re.compile(r"[0-9]{1,18}")


class _Refused(Exception):
    """A request answered by the guard itself, before the app sees it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _ClientGone(Exception):
    """The client closed its connection before its request had arrived."""


class Guard:
    """Security headers on every answer; long URLs and large bodies refused; requests of clients that
    left cancelled."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_url: int, max_head: int = MAX_HEAD_BYTES) -> None:
        self.app = app
        self.max_body = max_body
        self.max_url = max_url
        self.max_head = max_head

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _secured(send)
        try:
            self._check_head(scope)
            body = await self._body(receive)
        except _Refused as refused:
            await _answer(send, refused.status, str(refused))
            return
        except _ClientGone:
            return
        await _run_watched(self.app, scope, body, receive, send)

    def _check_head(self, scope: Scope) -> None:
        if len(scope.get("raw_path", b"")) + len(scope.get("query_string", b"")) > self.max_url:
            raise _Refused(414, "request URL too long")
        if sum(len(name) + len(value) + 4 for name, value in scope["headers"]) > self.max_head:
            raise _Refused(431, "request headers too large")
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not _LENGTH.fullmatch(value.decode("latin-1")):
                    raise _Refused(400, "Content-Length is not a number")
                if int(value) > self.max_body:
                    raise _Refused(413, "request body too large")

    async def _body(self, receive: Receive) -> bytes:
        """The whole body, counted as it arrives: refused once it passes the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _Refused(413, "request body too large")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _secured(send: Send) -> Send:
    async def secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in SECURITY_HEADERS.items():
                headers[name] = value
        await send(message)

    return secured


async def _answer(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        # The rest of a refused body is never read: closing is the only way to be rid of it.
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _run_watched(app: ASGIApp, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
    """Run the request with its body, and cancel it if the client leaves before the answer is complete."""
    gone = asyncio.Event()
    answered = False
    handed = False

    async def app_receive() -> Message:
        nonlocal handed
        if not handed:
            handed = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def app_send(message: Message) -> None:
        nonlocal answered
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            answered = True
        await send(message)

    async def watch() -> None:
        # With the body read, the server's next message is the disconnect: when the client goes, or
        # (for ASGI servers) once the answer is complete.
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    request = asyncio.ensure_future(app(scope, app_receive, app_send))
    watcher = asyncio.ensure_future(watch())
    try:
        done, _ = await asyncio.wait({request, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if request not in done and not answered:
            request.cancel()
        await asyncio.wait({request})
    finally:
        watcher.cancel()
        if not request.done():  # this coroutine itself was cancelled
            request.cancel()
    if not request.cancelled():
        request.result()  # the app's own errors go on to the error pages
