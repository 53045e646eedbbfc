"""The shapes of SPEC.md as dataclasses: items, their signals, search results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Item", "SearchResult", "Signal"]


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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Item:
        """Rebuild an item from ``to_dict`` output (unknown keys are ignored)."""
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["signals"] = [
            Signal(**{k: v for k, v in s.items() if k in Signal.__dataclass_fields__}) for s in data.get("signals", [])
        ]
        return cls(**values)


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
