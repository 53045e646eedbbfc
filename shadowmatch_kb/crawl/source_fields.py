"""Checks of a source's fields, one function per field, for values typed loosely (TOML or CLI options).

Each check returns the value in its canonical form or raises ``InvalidField`` naming the field and
the reason; ``crawl.sources`` adds where the source came from (the file and line, or the command).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime
from urllib.parse import urlsplit

from shadowmatch_kb.errors import InputError
from shadowmatch_kb.fetch.safety import canonicalize_url, is_public_address

__all__ = [
    "MAX_DEPTH_LIMIT",
    "InvalidField",
    "check_added",
    "check_bool",
    "check_depth",
    "check_name",
    "check_patterns",
    "check_tags",
    "check_url",
]

# A site crawl deeper than this is almost always a mistake that would fetch a whole site.
MAX_DEPTH_LIMIT = 20
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class InvalidField(Exception):
    """One field of a source is wrong; the caller adds where the source came from."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


def check_name(value: object) -> str:
    """A source name: 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InvalidField(
            "name", f"{value!r} is not a valid name: use 1 to 64 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )  # fmt: skip
    return value


def check_bool(name: str, value: object) -> bool:
    """A true/false field (TOML booleans only: no 0, 1 or "yes")."""
    if not isinstance(value, bool):
        raise InvalidField(name, f"must be true or false, not {value!r}")
    return value


def _is_private_host(host: str) -> bool:
    """True for hosts that are private without asking DNS: localhost and private IP literals."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not is_public_address(ipaddress.ip_address(host))
    except ValueError:
        return False  # a name: whether it resolves to a private address is checked when it is fetched


def check_url(value: object, allow_private: bool) -> str:
    """A canonical http(s) URL without credentials, on a public host unless ``allow_private``."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidField("url", "must be a non-empty string")
    text = value.strip()
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise InvalidField("url", f"{text!r} contains spaces or control characters")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise InvalidField("url", f"{text!r} is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"its scheme is {scheme}" if scheme else "it has no scheme; add https://"
        raise InvalidField("url", f"{text!r} is not an http or https URL ({shown})")
    host = parts.hostname
    if not host:
        raise InvalidField("url", f"{text!r} has no host")
    if parts.username is not None or parts.password is not None:
        # The registry is a plain-text file that gets copied and shared: no credentials in it.
        raise InvalidField("url", f"{text!r} carries a user name or password; register the URL without them")
    try:
        canonical = canonicalize_url(text)
    except InputError as exc:
        raise InvalidField("url", exc.reason) from None
    if not allow_private and _is_private_host(host):
        raise InvalidField(
            "url",
            f"{host} is a private or loopback address; allow it explicitly with allow_private = true "
            "(smkb sources add --allow-private)",
        )
    return canonical


def check_patterns(name: str, value: object) -> list[str]:
    """A list of distinct, non-empty regular expressions that compile."""
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise InvalidField(name, "must be a list of strings (regular expressions)")
    patterns: list[str] = []
    for pattern in value:
        if not pattern:
            raise InvalidField(name, "an empty pattern matches every URL; remove it")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidField(name, f"{pattern!r} is not a valid regular expression ({exc})") from None
        if pattern not in patterns:
            patterns.append(pattern)
    return patterns


def check_depth(value: object) -> int:
    """A site crawl's depth: a whole number from 0 to ``MAX_DEPTH_LIMIT``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DEPTH_LIMIT:
        raise InvalidField("max_depth", f"must be a whole number from 0 to {MAX_DEPTH_LIMIT}, not {value!r}")
    return value


def check_tags(value: object) -> list[str]:
    """Distinct analyst tags, stripped, none empty or with control characters."""
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InvalidField("tags", "must be a list of strings")
    tags: list[str] = []
    for raw in value:
        tag = raw.strip()
        if not tag or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in tag):
            raise InvalidField("tags", f"{raw!r} is not a usable tag (empty, or with control characters)")
        if tag not in tags:
            tags.append(tag)
    return tags


def check_added(value: object) -> date | None:
    """The date a source was registered: a TOML date or datetime, or YYYY-MM-DD text; None when absent."""
    if value is None:
        return None
    if isinstance(value, datetime):  # before date: a datetime is also a date
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidField("added", f"must be a date such as 2025-01-31, not {value!r}")
