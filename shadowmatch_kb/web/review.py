"""Analyst review on the web page: tags and corrections of sectors and themes, behind the analyst token.

Writing is off unless the server was started with ``SMKB_ANALYST_TOKEN``. Scripts send the token as
``Authorization: Bearer <token>`` to ``POST /api/items/{id}/tags``; people sign in once with a form that
sets a session cookie (HttpOnly, SameSite=Strict), and every form they send carries a CSRF token tied to
that session. Both are HMACs keyed by the analyst token, so restarting the server with another token
ends every session. The edits are the same analyst edits `smkb tag` records.

Writes run on their own thread with their own connection, and wait at most ``WRITE_WAIT_S`` for the
write lock: while an `smkb ingest` holds it, a write is refused with 503 and reads go on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse

__all__ = ["COOKIE", "Review", "ReviewError"]

COOKIE = "smkb_analyst"
WRITE_WAIT_S = 5.0
MAX_VALUES = 50  # tags, sectors or themes in one request
MAX_VALUE_CHARS = 100


class ReviewError(Exception):
    """A write that cannot be done: carries the HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Review:
    """Who may write, and the signatures that prove it."""

    def __init__(self, token: str | None) -> None:
        self.token = token or None

    @property
    def enabled(self) -> bool:
        return self.token is not None

    def _sign(self, purpose: str, value: str) -> str:
        assert self.token is not None
        return hmac.new(self.token.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def new_session(self) -> str:
        nonce = secrets.token_hex(16)
        return f"{nonce}.{self._sign('session', nonce)}"

    def session(self, request: Request) -> str | None:
        """The nonce of a valid session cookie, else None."""
        if not self.enabled:
            return None
        nonce, _, signature = request.cookies.get(COOKIE, "").partition(".")
        if nonce and hmac.compare_digest(signature, self._sign("session", nonce)):
            return nonce
        return None

    def csrf_for(self, nonce: str) -> str:
        return self._sign("csrf", nonce)

    def check_bearer(self, request: Request) -> None:
        """401 without a token, 403 with a wrong one or on a read-only server."""
        if not self.enabled:
            raise ReviewError(403, "this server is read-only: start it with SMKB_ANALYST_TOKEN to allow writes")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise ReviewError(401, "send the analyst token as 'Authorization: Bearer <token>'")
        if not hmac.compare_digest(given.strip().encode(), (self.token or "").encode()):
            raise ReviewError(403, "wrong analyst token")

    def check_form(self, request: Request, form: Any) -> None:
        """A signed-in session and the CSRF token of that session."""
        if not self.enabled:
            raise ReviewError(403, "this server is read-only")
        nonce = self.session(request)
        if nonce is None:
            raise ReviewError(401, "sign in with the analyst token first")
        if not hmac.compare_digest(str(form.get("csrf", "")), self.csrf_for(nonce)):
            raise ReviewError(403, "the form has expired or did not come from this page; reload it and try again")


def values(raw: Any, name: str, *, text: bool = False) -> list[str]:
    """A list of short strings from JSON, or from a comma-separated form field with ``text``; else a 400."""
    if raw is None:
        return []
    if text and isinstance(raw, str):
        raw = [part for part in raw.split(",")]
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise ReviewError(400, f"{name} must be a list of strings")
    cleaned = [" ".join(v.split()) for v in raw if v.strip()]
    if len(cleaned) > MAX_VALUES or any(len(v) > MAX_VALUE_CHARS for v in cleaned):
        raise ReviewError(400, f"{name}: at most {MAX_VALUES} values of {MAX_VALUE_CHARS} characters")
    return cleaned


async def read_json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ReviewError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ReviewError(400, 'the body must be a JSON object: {"add": [...], "remove": [...]}')
    unknown = set(body) - {"add", "remove", "sectors", "themes"}
    if unknown:
        raise ReviewError(400, f"unknown keys: {', '.join(sorted(unknown))}")
    return body


def safe_next(target: str) -> str:
    """A redirect target on this site only (no "//host" or "https://host")."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(safe_next(target), status_code=303)
