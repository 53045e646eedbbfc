"""Which URLs the fetcher may reach, and the one spelling of a URL the knowledge base keeps.

A knowledge base that fetches URLs typed or discovered by others must not become a way to read
the machine's own services or its private network. The rules live here; the one fetcher applies
them where it connects (``fetch.pinned``), to the very address it then dials. ``check_url_allowed``
resolves a name on its own, so a connection made after it could be sent elsewhere by a second,
different answer (DNS rebinding): fetching never relies on its lookup, only on its scheme, host and
port checks.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

from shadowmatch_kb.errors import FetchError, InputError

__all__ = ["TRACKING_PARAMETERS", "canonicalize_url", "check_url_allowed", "is_public_address", "page_address"]

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
# Parameters that only tell the linking site who clicked; they never change the page itself.
TRACKING_PARAMETERS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "ref_src", "igshid"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# IPv6 ranges that carry an IPv4 address, and are judged by it or refused outright.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the well-known prefix, IPv4 in the last 32 bits
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291 2.5.5.1: ::a.b.c.d, deprecated
_TEREDO = ipaddress.IPv6Network("2001::/32")  # RFC 4380: server and obfuscated client IPv4 inside


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a mapped, 6to4 or NAT64 address leads to, or None for other addresses."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
    if address.sixtofour is not None:
        return address.sixtofour  # 2002:7f00:1:: is routed by 6to4 to 127.0.0.1
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)  # a NAT64 gateway connects to it
    return None


def is_public_address(address: IPAddress) -> bool:
    """Return True when the address is an ordinary public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _TEREDO or address in _IPV4_COMPATIBLE:
            # Teredo reaches a client through a relay, its IPv4 hidden (inverted) in the address, and
            # compatible addresses are obsolete (some stacks still send them over IPv4): no site needs
            # either, so neither is worth judging.
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            # Judge where the packets end up. The IPv6 form alone looks public (2002::/16) or reserved
            # (64:ff9b::/96), depending on the Python version's tables.
            return is_public_address(embedded)
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    ):
        return False
    # is_global also rules out ranges none of the flags above name, e.g. 100.64.0.0/10 (carrier NAT).
    return address.is_global


def _resolve(url: str, host: str, port: int | None) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise FetchError(url, f"cannot resolve host {host}: {exc}") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone such as %eth0
        try:
            addresses.append(ipaddress.ip_address(raw))
        except ValueError:
            continue
    if not addresses:
        raise FetchError(url, f"cannot resolve host {host}: no usable address")
    return addresses


def check_url_allowed(url: str, *, allow_private: bool = False) -> None:
    """Raise FetchError unless the URL is http(s) and its host resolves only to public addresses.

    With ``allow_private`` nothing is resolved: only the scheme, host and port are checked.
    """
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise FetchError(url, f"invalid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = scheme or "no scheme"
        raise FetchError(url, f"only http and https URLs can be fetched, not {shown}")
    host = parts.hostname
    if not host:
        raise FetchError(url, "the URL has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise FetchError(url, f"invalid port: {exc}") from exc
    if allow_private:
        return
    for address in _resolve(url, host, port):
        # One private answer is enough to refuse: the client may connect to any of them.
        if not is_public_address(address):
            raise FetchError(
                url,
                f"refusing to fetch {host}: it resolves to a private or loopback address ({address}); "
                "pass --allow-private to allow it",
            )


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMETERS


def _clean_query(query: str) -> str:
    # Work on the raw pairs so the kept parameters stay byte-for-byte as they were (no re-encoding).
    kept = [pair for pair in query.split("&") if pair and not _is_tracking(pair.split("=", 1)[0])]
    return "&".join(kept)


def canonicalize_url(url: str) -> str:
    """Return the URL in the one spelling the knowledge base stores (no fragment, no tracking)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise InputError(url, f"invalid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError as exc:
        raise InputError(url, f"invalid port: {exc}") from exc
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    if parts.username is not None:
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{netloc}"
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, _clean_query(parts.query), ""))


def page_address(url: str | None) -> str | None:
    """The page an item was taken from, spelled as ``canonicalize_url`` spells it, so one article imported twice
    (from two feeds, or once with tracking parameters) is known as one; None for an item without an address."""
    if not url:
        return None
    try:
        return canonicalize_url(url)
    except InputError:
        return url.strip()
