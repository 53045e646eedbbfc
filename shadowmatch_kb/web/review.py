"""Analyst review on the web page: tags and corrections of sectors and themes, behind the analyst token.

Writing is off unless the server was started with ``SMKB_ANALYST_TOKEN``. Scripts send the token as
``Authorization: Bearer <token>`` to ``POST /api/items/{id}/tags``; people sign in once with a form that
sets a session cookie (HttpOnly, SameSite=Strict), and every form they send carries a CSRF token tied to
that session. Both are HMACs keyed by the analyst token, and the server also keeps the sessions it
started: one ends at sign-out (a copied cookie is then worth nothing), after ``SESSION_S``, or when the
server stops. Wrong tokens are throttled (see ``throttle.py``), and a token shorter than
``MIN_TOKEN_CHARS`` is refused at start-up. The edits are the same analyst edits `smkb tag` records.

Writes run on their own thread with their own connection, and wait at most ``WRITE_WAIT_S`` for the
write lock: while an `smkb ingest` holds it, a write is refused with 503 and reads go on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse

from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.web.throttle import Throttle

__all__ = ["COOKIE", "MIN_TOKEN_CHARS", "SESSION_S", "Review", "ReviewError"]

COOKIE = "smkb_analyst"
WRITE_WAIT_S = 5.0
MAX_VALUES = 50  # tags, sectors or themes in one request
MAX_VALUE_CHARS = 100
MIN_TOKEN_CHARS = 24  # `openssl rand -hex 24` gives 48
MAX_TOKEN_CHARS = 1000  # a longer one is wrong without comparing it
SESSION_S = 8 * 3600
MAX_SESSIONS = 1000  # live at once; the oldest ends first
MAX_JSON_DEPTH = 8  # the bodies nest two deep; Python's parser fails with RecursionError near 1,000


class ReviewError(Exception):
    """A write that cannot be done: carries the HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class Review:
    """Who may write, the signatures that prove it, the sessions that are open, and the wrong guesses."""

    def __init__(self, token: str | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.token = token or None
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise UsageError(
                f"SMKB_ANALYST_TOKEN is {len(self.token)} characters long; an analyst token needs at least "
                f"{MIN_TOKEN_CHARS} characters (make one with: openssl rand -hex 24)"
            )
        self.clock = clock
        self.throttle = Throttle()
        self._sessions: dict[str, float] = {}  # nonce -> when the session ends (on ``clock``)

    @property
    def enabled(self) -> bool:
        return self.token is not None

    def _sign(self, purpose: str, value: str) -> str:
        assert self.token is not None
        return hmac.new(self.token.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def new_session(self) -> str:
        """A session cookie's value, for a session that ends after ``SESSION_S``."""
        now = self.clock()
        self._sessions = {n: end for n, end in self._sessions.items() if end > now}
        while len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        nonce = secrets.token_hex(16)
        self._sessions[nonce] = now + SESSION_S
        return f"{nonce}.{self._sign('session', nonce)}"

    def session(self, request: Request) -> str | None:
        """The nonce of a valid session cookie of a session still open, else None."""
        if not self.enabled:
            return None
        nonce, _, signature = request.cookies.get(COOKIE, "").partition(".")
        if not nonce or not hmac.compare_digest(signature.encode(), self._sign("session", nonce).encode()):
            return None
        return nonce if self._sessions.get(nonce, 0.0) > self.clock() else None

    def end_session(self, request: Request) -> None:
        """End the session of the request's cookie, if it has one."""
        nonce = self.session(request)
        if nonce is not None:
            del self._sessions[nonce]

    def check_token(self, request: Request, given: str) -> None:
        """429 while the client is held back for wrong tokens, 403 for a wrong one (counted)."""
        address = request.client.host if request.client else "unknown"
        now = self.clock()
        wait = self.throttle.wait(address, now)
        if wait > 0:
            seconds = math.ceil(wait)
            raise ReviewError(429, f"too many wrong analyst tokens; try again in {seconds} s", retry_after=seconds)
        expected = (self.token or "").encode()
        if len(given) > MAX_TOKEN_CHARS or not hmac.compare_digest(given.encode(errors="replace"), expected):
            self.throttle.failed(address, now)
            raise ReviewError(403, "wrong analyst token")

    def csrf_for(self, nonce: str) -> str:
        return self._sign("csrf", nonce)

    def check_bearer(self, request: Request) -> None:
        """401 without a token, 403 with a wrong one or on a read-only server."""
        if not self.enabled:
            raise ReviewError(403, "this server is read-only: start it with SMKB_ANALYST_TOKEN to allow writes")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise ReviewError(401, "send the analyst token as 'Authorization: Bearer <token>'")
        self.check_token(request, given.strip())

    def check_form(self, request: Request, form: Any) -> None:
        """A signed-in session and the CSRF token of that session."""
        if not self.enabled:
            raise ReviewError(403, "this server is read-only")
        nonce = self.session(request)
        if nonce is None:
            raise ReviewError(401, "sign in with the analyst token first")
        if not hmac.compare_digest(str(form.get("csrf", "")).encode(errors="replace"), self.csrf_for(nonce).encode()):
            raise ReviewError(403, "the form has expired or did not come from this page; reload it and try again")


def values(raw: Any, name: str, *, text: bool = False) -> list[str]:
    """A list of short strings from JSON, or from a comma-separated form field with ``text``; else a 400."""
    if raw is None:
        return []
    if text and isinstance(raw, str):
        raw = [part for part in raw.split(",")]
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise ReviewError(400, f"{name} must be a list of strings")
    if not all(_is_text(v) for v in raw):
        raise ReviewError(400, f"{name} must be text (a lone surrogate such as \\ud800 is not)")
    cleaned = [" ".join(v.split()) for v in raw if v.strip()]
    if len(cleaned) > MAX_VALUES or any(len(v) > MAX_VALUE_CHARS for v in cleaned):
        raise ReviewError(400, f"{name}: at most {MAX_VALUES} values of {MAX_VALUE_CHARS} characters")
    return cleaned


def _is_text(value: str) -> bool:
    """Whether ``value`` can be stored and shown: JSON's \\ud800 escapes make strings UTF-8 cannot hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _nesting(body: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (strings skipped), read in one pass."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # too few brackets to nest too deeply: no need to read it byte by byte
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # a backslash: the next byte is escaped
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:  # a quote
            in_string = True
        elif byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest


async def read_json(request: Request) -> dict[str, Any]:
    """The JSON object of an analyst write; a 400 for anything else."""
    raw = await request.body() or b"{}"
    if _nesting(raw) > MAX_JSON_DEPTH:
        raise ReviewError(400, f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        body = json.loads(raw)
    except ValueError:
        raise ReviewError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ReviewError(400, 'the body must be a JSON object: {"add": [...], "remove": [...]}')
    unknown = set(body) - {"add", "remove", "sectors", "themes"}
    if unknown:
        raise ReviewError(400, f"unknown keys: {', '.join(sorted(k if _is_text(k) else ascii(k) for k in unknown))}")
    return body


def safe_next(target: str) -> str:
    """A redirect target on this site only (no "//host" or "https://host")."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(safe_next(target), status_code=303)
