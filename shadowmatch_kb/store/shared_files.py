"""The files people edit, shared through a knowledge base in Postgres: crawl sources, sector and theme aliases,
smkb.toml.

A folder knowledge base keeps them beside its record. A knowledge base in Postgres is used from many machines,
each with its own working folder, and they must all crawl the same sources and read sectors the same way; so
the database holds each file, and every machine works on copies in its working folder (where the commands
and a person's editor find them, as in a folder knowledge base). Whenever the knowledge base is opened, and
after a command changes one of them, each copy is reconciled with the database's:

* only the database's copy changed since this machine last saw it: the working copy is replaced;
* only the working copy changed (a command, or a hand edit): it becomes the database's;
* both changed: the database's copy wins, the working copy is kept beside it as ``NAME.mine`` and a notice
  says so, so no edit is lost.

What this machine last saw of each file is kept as a digest in ``.shared/`` in the working folder. The
reconciling runs under a lock of the database's, so two machines never interleave their writes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shadowmatch_kb.store.pg import PgConnection

__all__ = ["SHARED_FILES", "reconcile"]

# Paths in the working folder, as a folder knowledge base has them.
SHARED_FILES = ("smkb.toml", "corpus/sources.toml", "corpus/sector_aliases.toml", "corpus/theme_aliases.toml")
# Any number will do as long as no other part of the project takes the same advisory lock.
_LOCK = 0x736D6B66  # "smkf"


def reconcile(db: PgConnection, folder: Path) -> list[str]:
    """Bring the working copies in ``folder`` and the database's copies of the shared files together; the
    notices of edits set aside."""
    notices: list[str] = []
    db.execute("SELECT pg_advisory_lock(?)", (_LOCK,))
    try:
        for name in SHARED_FILES:
            notice = _reconcile_one(db, folder, name)
            if notice:
                notices.append(notice)
    finally:
        db.execute("SELECT pg_advisory_unlock(?)", (_LOCK,))
    return notices


def _reconcile_one(db: PgConnection, folder: Path, name: str) -> str | None:
    path, seen_path = folder / name, folder / ".shared" / (name.replace("/", "__") + ".sha256")
    row = db.execute("SELECT content FROM kb_files WHERE name = ?", (name,)).fetchone()
    shared = None if row is None else str(row[0])
    local = path.read_text(encoding="utf-8") if path.is_file() else None
    seen = seen_path.read_text().strip() if seen_path.is_file() else None
    notice = None
    if local != shared and _digest(shared) == seen:  # only the working copy changed: it goes to the database
        if local is None:
            db.execute("DELETE FROM kb_files WHERE name = ?", (name,))
        else:
            db.execute(
                "INSERT INTO kb_files (name, content) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET content = excluded.content",
                (name, local),
            )
    elif local != shared:  # the database's copy changed: it replaces the working copy
        if local is not None and _digest(local) != seen:  # and so did this one: it is kept beside
            mine = path.with_name(path.name + ".mine")
            _write(mine, local)
            notice = f"{path} was changed here and on another machine; theirs is used, yours is kept in {mine}"
        if shared is None:
            path.unlink(missing_ok=True)
        else:
            _write(path, shared)
        local = shared
    seen_path.parent.mkdir(parents=True, exist_ok=True)
    seen_path.write_text(_digest(local) + "\n")
    return notice


def _digest(text: str | None) -> str:
    return "absent" if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write(path: Path, text: str) -> None:
    """Replace a file whole, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
