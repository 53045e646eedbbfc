"""Errors raised by shadowmatch_kb.

Every error the library raises on purpose derives from ``ShadowmatchError`` so the CLI
and the web layer can turn it into one clear line::

    ShadowmatchError
    ├── InputError          an input (file, URL, text) could not be read or parsed
    ├── FetchError          a URL could not be fetched (network, status, size, safety)
    │   └── UnsupportedContentError  it answered with something that is not a page we read (PDF, image)
    ├── NotFoundError       an item id, source or path does not exist
    ├── UsageError          a request that cannot be done as asked (a folder that is no known dataset)
    ├── IndexMismatchError  the derived index was built by another embedding model
    ├── BackendError        an embedding or vector backend could not be used
    └── LockTimeoutError    another writer held the knowledge base for too long
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "FetchError",
    "IndexMismatchError",
    "InputError",
    "LockTimeoutError",
    "NotFoundError",
    "ShadowmatchError",
    "UnsupportedContentError",
    "UsageError",
]


class ShadowmatchError(Exception):
    """Base of every error the library raises on purpose."""


class InputError(ShadowmatchError):
    """An input could not be read or understood; ``source`` names it."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class FetchError(InputError):
    """A URL could not be fetched; ``status`` is the HTTP status when the server answered with one."""

    def __init__(self, source: str, reason: str, *, status: int | None = None) -> None:
        super().__init__(source, reason)
        self.status = status


class UnsupportedContentError(FetchError):
    """The URL answered, but with a media type the caller does not read (a PDF, an image)."""


class NotFoundError(ShadowmatchError):
    """Something the user named does not exist."""


class UsageError(ShadowmatchError):
    """The user asked for something that cannot be done as asked; the message says what would work."""


class IndexMismatchError(ShadowmatchError):
    """The index on disk was built with a different embedding model."""


class BackendError(ShadowmatchError):
    """An embedding model or vector index backend is unavailable or failed."""


class LockTimeoutError(ShadowmatchError):
    """The knowledge base stayed locked by another writer past the timeout."""
