"""The shapes that more than one stage shares: items, their signals, search results, filters, Signals rows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["IngestResult", "Item", "ItemFilter", "SearchResult", "Signal", "SignalRow", "normalise_id", "row_text"]


@dataclass
class Signal:
    """One row of a Signals table."""

    signal: str
    change: str = ""
    horizon: str = ""
    driving_force: str = ""
    evidence: str = ""

    def to_dict(self) -> dict[str, str]:
        """The JSON shape of SPEC.md."""
        return asdict(self)


@dataclass
class Item:
    """One article or post in the knowledge base.

    ``id`` is 32 lowercase hex digits. ``published`` is ``YYYY-MM-DD`` or None.
    ``reference_closest`` are the ids a Signals post listed itself; the project's own
    related items are always computed from its index.
    """

    id: str
    title: str
    url: str | None = None
    published: str | None = None
    source: str | None = None
    text: str = ""
    summary: str = ""
    keywords: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    reference_closest: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    author: str | None = None
    site: str | None = None
    language: str | None = None
    kind: str = "text"

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain JSON-ready values."""
        data = asdict(self)
        data["signals"] = [s.to_dict() for s in self.signals]
        return data


@dataclass
class SearchResult:
    """One hit of ``related`` or ``search``."""

    id: str
    title: str
    url: str | None
    published: str | None
    score: float
    snippet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of SPEC.md (snippet only when there is one)."""
        data = asdict(self)
        if self.snippet is None:
            del data["snippet"]
        return data


@dataclass(frozen=True)
class ItemFilter:
    """Filters shared by list, search and the tracker."""

    sector: str | None = None
    theme: str | None = None
    tag: str | None = None
    since: str | None = None

    def is_empty(self) -> bool:
        """True when nothing is filtered."""
        return not (self.sector or self.theme or self.tag or self.since)


def normalise_id(item_id: str) -> str:
    """An item id as people paste it (spaces, capitals) in the stored form: 32 lowercase hex digits."""
    return item_id.strip().lower()


def row_text(signal: Signal) -> str:
    """The text under which a Signals row is compared with others: its signal and its change."""
    return f"{signal.signal.strip()}: {signal.change.strip()}".strip(": ")


@dataclass(frozen=True)
class SignalRow:
    """One row of one item; ``original`` is the item it duplicates (a syndicated copy), else its own id."""

    item_id: str
    signal: Signal
    published: str | None = None
    original: str | None = None

    @property
    def source(self) -> str:
        """The item that counts as independent support: a near-duplicate counts as its original."""
        return self.original or self.item_id


@dataclass
class IngestResult:
    """The outcome of one input, as in SPEC.md's ingest JSON."""

    input: str
    id: str | None
    status: str  # added | updated | unchanged | failed
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of SPEC.md."""
        return {"input": self.input, "id": self.id, "status": self.status, "error": self.error}
