"""Connections that go only where the safety check allowed: addresses pinned as they were checked.

This is the bottom of the one fetcher (``fetch.async_http.AsyncFetcher``), so it is under every
network read: the crawler's and ``smkb ingest URL``'s alike.

``PinnedTransport`` is an httpx transport over an httpcore pool whose network backend resolves each
host once, refuses it unless every address is public (or private addresses are allowed), and
connects to the very address it checked. A name whose answer changes between a check and the
connect (DNS rebinding) therefore cannot lead to a private address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpcore
import httpx

from shadowmatch_kb.fetch.safety import is_public_address

__all__ = ["PinnedTransport", "RefusedConnection", "checked_addresses", "resolve_host"]

MAX_CONNECTIONS = 64
MAX_KEEPALIVE = 32
KEEPALIVE_SECONDS = 15.0


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name: an error reason fits one line."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class RefusedConnection(Exception):
    """The pinned backend would not connect; ``reason`` is the one line to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def resolve_host(host: str, port: int) -> list[str]:
    """Return the addresses a host resolves to, in the resolver's order, without duplicates."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise RefusedConnection(f"cannot resolve host {host}: {exc}") from exc
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise RefusedConnection(f"cannot resolve host {host}: no usable address")
    return addresses


async def checked_addresses(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve a host and refuse it if any address is not public (unless allow_private)."""
    addresses = await resolve_host(host, port)
    if allow_private:
        return addresses
    for address in addresses:
        try:
            parsed = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone such as %eth0
        except ValueError as exc:
            raise RefusedConnection(f"cannot resolve host {host}: {address!r} is not an address") from exc
        # One private answer is enough to refuse: the resolver may hand out any of them next time.
        if not is_public_address(parsed):
            raise RefusedConnection(
                f"refusing to fetch {host}: it resolves to a private or loopback address ({parsed}); "
                "pass --allow-private to allow it"
            )
    return addresses


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses it resolved and checked itself, so the check cannot be raced."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve and check the host, then connect to the first checked address that answers."""
        try:
            async with asyncio.timeout(timeout):
                addresses = await checked_addresses(host, port, allow_private=self.allow_private)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout:g}s") from exc
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                # TLS still verifies the name: httpcore passes the host as server_hostname to start_tls.
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None  # resolve_host never returns an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refuse: only TCP to checked addresses is allowed."""
        raise RefusedConnection("unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        """Sleep as the wrapped backend does."""
        await self._inner.sleep(seconds)


# httpcore's errors as httpx names them, most specific first, so callers see only httpx's hierarchy.
_HTTPX_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core_error, httpx_error in _HTTPX_ERRORS:
            if isinstance(exc, core_error):
                raise httpx_error(one_line(exc)) from exc
        raise


class _CoreStream(httpx.AsyncByteStream):
    """An httpcore response body seen as an httpx stream."""

    def __init__(self, stream: typing.AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        closer = getattr(self._stream, "aclose", None)
        if closer is not None:
            with _as_httpx_errors():
                await closer()


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over an httpcore pool that connects through ``_PinnedBackend``.

    httpx has no public way to give its transport a network backend: AsyncHTTPTransport builds its
    httpcore pool in a private ``_pool`` attribute. Overwriting that attribute would silently stop
    pinning the day httpx renames it, so this transport owns its pool and converts requests,
    responses and errors using only the public types of httpcore and httpx. It never uses proxies,
    which could not honour the pinned address anyway.
    """

    def __init__(self, *, allow_private: bool) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=MAX_CONNECTIONS,
            max_keepalive_connections=MAX_KEEPALIVE,
            keepalive_expiry=KEEPALIVE_SECONDS,
            network_backend=_PinnedBackend(allow_private=allow_private),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request through the pinned pool."""
        if not isinstance(request.stream, httpx.AsyncByteStream):
            raise TypeError("the pinned transport needs an async request body")
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            core_response = await self._pool.handle_async_request(core_request)
        body = core_response.stream
        if not isinstance(body, typing.AsyncIterable):
            raise TypeError("the pinned pool returned a synchronous body")
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_CoreStream(body),
            extensions=core_response.extensions,
        )

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._pool.aclose()
