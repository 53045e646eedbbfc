"""How `smkb serve` listens: uvicorn's settings, and a deadline for each request to arrive in full.

uvicorn closes idle keep-alive connections but puts no limit on how long a request's headers may take:
a client that sends a byte every few seconds holds its connection forever, and a few thousand of them
hold the server. So the HTTP protocol here is uvicorn's h11 one (which bounds how much of an unfinished
head it holds) with a deadline: from the moment a connection opens, or its previous answer is complete, the
next request's headers and body must arrive within ``read_timeout`` seconds, else the connection is
closed. Requests are small here (the largest body is 64 KiB), so a slow one is a stalled or hostile one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from shadowmatch_kb.web.guard import MAX_HEAD_BYTES

__all__ = ["KEEP_ALIVE_S", "MAX_CONNECTIONS", "READ_TIMEOUT_S", "server_config"]

READ_TIMEOUT_S = 10.0  # for a request's headers and body to arrive
KEEP_ALIVE_S = 5  # an idle connection between requests
# Open connections and running requests beyond this are answered 503 at once; slow connections are
# closed at the read deadline, so this only binds under a flood.
MAX_CONNECTIONS = 512


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose request does not arrive in full in time."""

    read_timeout = READ_TIMEOUT_S

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[arg-type]
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def handle_events(self) -> None:
        super().handle_events()
        # The request is in (DONE, or MUST_CLOSE for a client that asked to close after it): the deadline
        # is met, and the answer may take as long as it takes.
        if self.conn.their_state in (h11.DONE, h11.MUST_CLOSE):
            self._disarm()

    def on_response_complete(self) -> None:
        # Armed first: the next request may already be waiting, and be read in full, inside this call.
        if not self.transport.is_closing():
            self._arm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def server_config(
    app: Any, *, host: str, port: int, read_timeout: float = READ_TIMEOUT_S, log_level: str = "warning"
) -> uvicorn.Config:
    """uvicorn's settings for `smkb serve`: the deadline protocol, bounded headers and connections; uvicorn's
    own messages from ``log_level`` up."""
    seconds = read_timeout

    class Protocol(DeadlineH11Protocol):
        read_timeout = seconds

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=Protocol,
        # No upgrades: the page has no websockets, and an upgraded connection would escape the deadline.
        ws="none",
        timeout_keep_alive=KEEP_ALIVE_S,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        limit_concurrency=MAX_CONNECTIONS,
        log_level=log_level,
        # Requests are logged by ``access_log.AccessLog``, with the bytes sent, the time taken and tokens hidden.
        access_log=False,
    )
