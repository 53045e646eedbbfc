"""Printing for the CLI: JSON on stdout, messages and progress on stderr, errors as one line."""

from __future__ import annotations

import json
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from shadowmatch_kb.kb import KnowledgeBase


@dataclass
class GlobalOptions:
    """Options given before the command name (``smkb --kb DIR search ...``)."""

    kb: str | None = None
    model: str | None = None
    index: str | None = None
    chroma_url: str | None = None
    debug: bool = False


def options(ctx: typer.Context) -> GlobalOptions:
    """The global options of this run."""
    found = ctx.find_root().obj
    return found if isinstance(found, GlobalOptions) else GlobalOptions()


def open_kb(ctx: typer.Context, kb_dir: str | None = None, model: str | None = None) -> KnowledgeBase:
    """Open the knowledge base named by the command's --kb, the global one, or the environment."""
    from shadowmatch_kb.kb import KnowledgeBase

    opts = options(ctx)
    try:
        return KnowledgeBase.open(
            kb_dir or opts.kb, model=model or opts.model, index_kind=opts.index, chroma_url=opts.chroma_url
        )
    except ValueError as exc:
        fail(str(exc), code=2)


def stderr() -> Console:
    """A console on stderr for messages and progress."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def stdout() -> Console:
    """A console on stdout for human-readable results."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


# A lone surrogate (a file name's undecodable byte, kept by Python as U+DC80..U+DCFF) cannot be written as
# UTF-8; one can only stand inside a JSON string, where its escape, written out, keeps the document valid.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\\\u{code:04x}"


def print_json(document: Any) -> None:
    """Exactly one JSON document on stdout, always valid UTF-8 (undecodable bytes of names escaped)."""
    sys.stdout.write(_SURROGATE.sub(_escaped, json.dumps(document, ensure_ascii=False, indent=2)) + "\n")


def fail(message: str, *, code: int = 1) -> NoReturn:
    """One clear line on stderr, then exit."""
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(code)


def print_notices(kb: KnowledgeBase) -> None:
    """Warnings the library collected, one line each on stderr."""
    for notice in kb.take_notices():
        sys.stderr.write(f"warning: {notice}\n")


@contextmanager
def reporting_errors(ctx: typer.Context, kb: KnowledgeBase | None = None) -> Iterator[None]:
    """Turn library errors into one line and exit 1; a traceback only with --debug."""
    from shadowmatch_kb.errors import ShadowmatchError

    try:
        yield
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except ShadowmatchError as exc:
        if options(ctx).debug:
            traceback.print_exc()
        fail(" ".join(str(exc).split()))
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    except Exception as exc:  # noqa: BLE001 - last resort: still one line unless --debug
        if options(ctx).debug:
            traceback.print_exc()
        fail(f"unexpected {type(exc).__name__}: {' '.join(str(exc).split())} (rerun with --debug for details)")
    finally:
        if kb is not None:
            print_notices(kb)
            kb.close()


class RichProgress:
    """The library's Progress protocol drawn as a rich progress bar on stderr."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.live = sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None

    def start(self, label: str, total: int | None) -> None:
        """Begin a bar."""
        if not self.enabled:
            return
        if not self.live:
            # No terminal to redraw: one line per task keeps logs readable.
            count = f" {total}" if total else ""
            sys.stderr.write(f"{label}{count} ...\n")
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=stderr(),
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(label, total=total)

    def advance(self, steps: int = 1) -> None:
        """Move the bar."""
        if self._progress is not None:
            self._progress.advance(self._task, steps)

    def finish(self) -> None:
        """Close the bar."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
