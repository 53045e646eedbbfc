"""The ``smkb`` command line: a thin shell over ``KnowledgeBase``; the only code that prints."""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """Console-script entry point."""
    from shadowmatch_kb.cli.app import app

    app(prog_name="smkb")  # `python -m shadowmatch_kb` too: completion scripts name the installed command
