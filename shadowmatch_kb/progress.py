"""How long-running library work reports progress without printing anything itself."""

from __future__ import annotations

from typing import Protocol

__all__ = ["NullProgress", "Progress"]


class Progress(Protocol):
    """Receives progress of one task at a time; the CLI draws it, tests ignore it."""

    def start(self, label: str, total: int | None) -> None:
        """A task begins; ``total`` steps when known."""
        ...

    def advance(self, steps: int = 1) -> None:
        """Some steps of the current task are done."""
        ...

    def finish(self) -> None:
        """The current task ended."""
        ...


class NullProgress:
    """Progress that goes nowhere."""

    def start(self, label: str, total: int | None) -> None:
        """Ignore."""

    def advance(self, steps: int = 1) -> None:
        """Ignore."""

    def finish(self) -> None:
        """Ignore."""
