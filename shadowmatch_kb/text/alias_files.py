"""Where a knowledge base's own aliases file is (sectors, themes), keyed for the caches that read it."""

from __future__ import annotations

from pathlib import Path

from shadowmatch_kb.errors import InputError

__all__ = ["aliases_file"]


def aliases_file(corpus_dir: Path | None, name: str) -> tuple[str, int, int] | None:
    """``corpus_dir/name`` with its change time and size, which key the vocabulary read from it (so an edit is seen
    at once); None when there is no such file. A file that cannot be looked at is an ``InputError``."""
    if corpus_dir is None:
        return None
    path = corpus_dir / name
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    return str(path), found.st_mtime_ns, found.st_size
