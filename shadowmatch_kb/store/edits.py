"""Analysts' edits of items: ids by unique prefix, changes of tags, sectors and themes with their history, undo.

Every change an analyst makes to an item's tags, sectors or themes is written with its row in
``edit_history`` in one transaction: the field, what was done (``add``, ``remove``, ``set``, ``undo``), the
labels given and the field's whole list before. One command's rows share a ``change_no``; undoing reverts the
latest change not undone yet and records itself as a change whose rows name the one they revert (``undoes``).

Sectors and themes stay analyst edits as before (``analyst_edits``, the latest row of a field wins on read);
undoing one deletes that latest row, so the field reads again as it did before (an earlier edit, or the
computed value). An item whose edits were made before this history was kept (or restored from an export) has
its history derived from ``analyst_edits`` and the dates of its tags; the first change written stores it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from shadowmatch_kb.errors import NotFoundError, UsageError
from shadowmatch_kb.model import Item, normalise_id

if TYPE_CHECKING:
    from shadowmatch_kb.text.sectors import SectorVocabulary


__all__ = [
    "HISTORY_FIELDS",
    "MIN_PREFIX",
    "HistoryEntry",
    "ItemStore",
    "ListChange",
    "apply_changes",
    "changes_of",
    "backfill_history",
    "history",
    "resolve_id",
    "undo_last",
]


class ItemStore(Protocol):
    """The part of a record store edits use: its connection and items read with their edits applied. (The
    migration that makes the history imports this module, so it names no store class.)"""

    db: Any

    def get(self, item_id: str) -> Item:
        """One item with its tags and analyst edits applied; NotFoundError when absent."""
        ...


def now() -> str:
    """The store's timestamp of this moment (UTC, to the second), as ``store.records.now`` gives it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


HISTORY_FIELDS = ("tags", "sectors", "themes")
# Four hex digits tell apart items of a corpus of thousands in most cases; fewer would rarely be unique.
MIN_PREFIX = 4
_HEX = re.compile(r"^[0-9a-f]+$")
_COLUMNS = "id, item_id, change_no, field, action, value, previous, edited_at, undoes"


def resolve_id(db: sqlite3.Connection, text: str) -> str:
    """The full id of the item ``text`` names: its id, or a unique prefix of at least ``MIN_PREFIX`` hex digits.

    A full id (or anything that is no hex prefix) is returned as given, for the store to find or not; a prefix
    no item has is a NotFoundError, one several items share a UsageError saying how many.
    """
    item_id = normalise_id(text)
    if len(item_id) >= 32 or not _HEX.match(item_id):
        return item_id
    if len(item_id) < MIN_PREFIX:
        raise UsageError(f"id prefix {item_id!r} is too short: give at least {MIN_PREFIX} hex digits of the id")
    pattern = item_id + "%"
    rows = db.execute("SELECT id FROM items WHERE id LIKE ? ORDER BY id LIMIT 2", (pattern,)).fetchall()
    if not rows:
        raise NotFoundError(f"no item with id starting {item_id}")
    if len(rows) > 1:
        count = db.execute("SELECT count(*) FROM items WHERE id LIKE ?", (pattern,)).fetchone()[0]
        shown = db.execute("SELECT id, title FROM items WHERE id LIKE ? ORDER BY id LIMIT 3", (pattern,)).fetchall()
        which = "; ".join(f"{row[0][:12]}… {row[1][:40]}" for row in shown) + ("; …" if count > 3 else "")
        raise UsageError(f"id prefix {item_id} matches {count} items ({which}): give more characters of the id")
    return str(rows[0][0])


@dataclass(frozen=True)
class ListChange:
    """A change of one list field: replaced by ``set_to`` when given, then ``add`` appended and ``remove`` taken out."""

    set_to: list[str] | None = None
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)

    def applied_to(self, current: list[str]) -> list[str]:
        """The list after this change."""
        result = list(current if self.set_to is None else self.set_to)
        result += [label for label in self.add if label not in result]
        return [label for label in result if label not in self.remove]

    def mapped(self, label_of: Callable[[str], str]) -> ListChange:
        """The same change with every label cleaned (stripped, empty ones dropped, repeats once) and mapped."""

        def clean(values: Iterable[str]) -> list[str]:
            return list(dict.fromkeys(label_of(v.strip()) for v in values if v.strip()))

        return ListChange(None if self.set_to is None else clean(self.set_to), clean(self.add), clean(self.remove))

    @property
    def action(self) -> str:
        """How the history names this change: set, add, remove (or change, for adds and removes at once)."""
        if self.set_to is not None:
            return "set"
        if self.add and self.remove:
            return "change"
        return "add" if self.add else "remove"


@dataclass(frozen=True)
class HistoryEntry:
    """One row of an item's edit history."""

    change_no: int
    field: str
    action: str
    value: list[str]
    previous: list[str] | None  # None: the field's computed value was in force (no earlier analyst edit)
    edited_at: str
    undoes: int | None = None
    undone: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The entry as `smkb history --json` gives it."""
        return {
            "change": self.change_no,
            "field": self.field,
            "action": self.action,
            "value": self.value,
            "previous": self.previous,
            "edited_at": self.edited_at,
            "undoes": self.undoes,
            "undone": self.undone,
        }


def changes_of(
    add: Iterable[str],
    remove: Iterable[str],
    sectors: list[str] | ListChange | None,
    themes: list[str] | ListChange | None,
    *,
    vocabulary: Callable[[], SectorVocabulary],
    theme_name: Callable[[str], str] = str,
) -> dict[str, ListChange]:
    """The changes a tag command asks for, labels cleaned, sectors as section names and themes by their one name
    (``theme_name``; a list sets the field whole); an unknown sector is a UsageError listing the names."""
    changes = {"tags": ListChange(add=list(add), remove=list(remove)).mapped(str)}
    for name, given in (("sectors", sectors), ("themes", themes)):
        if given is not None:
            change = given if isinstance(given, ListChange) else ListChange(set_to=list(given))
            changes[name] = change.mapped(vocabulary().section_name if name == "sectors" else theme_name)
    return changes


def apply_changes(store: ItemStore, item_id: str, changes: dict[str, ListChange]) -> bool:
    """Change an item's tags, sectors and themes (labels as stored) with their history, in one transaction; False
    when nothing was written.

    A change that leaves a field as it was writes nothing for that field; NotFoundError for an unknown item.
    """
    db, moment = store.db, now()
    db.execute("BEGIN IMMEDIATE")
    try:
        item = store.get(item_id)
        number = _next_change(db, item_id)
        for name, change in changes.items():
            current = list(getattr(item, name))
            wanted = change.applied_to(current)
            if name == "tags":
                _change_tags(db, item_id, current, wanted, number, moment)
            # Setting a field to what it reads still pins it: re-enrichment never changes it afterwards.
            elif wanted != current or change.set_to is not None:
                _write_edit(db, item_id, name, wanted, moment)
                value = wanted if change.set_to is not None else [*change.add, *change.remove]
                _append(db, item_id, number, name, change.action, value, current, moment)
        written = _next_change(db, item_id) > number
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return written


def _change_tags(
    db: sqlite3.Connection, item_id: str, current: list[str], wanted: list[str], number: int, moment: str
) -> None:
    added = [tag for tag in wanted if tag not in current]
    removed = [tag for tag in current if tag not in wanted]
    for tag in added:
        db.execute("INSERT INTO item_tags VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (item_id, tag, moment))
    if added:
        _append(db, item_id, number, "tags", "add", added, current, moment)
    for tag in removed:
        db.execute("DELETE FROM item_tags WHERE item_id = ? AND tag = ?", (item_id, tag))
    if removed:
        before = sorted({*current, *added})
        _append(db, item_id, number, "tags", "remove", removed, before, moment)


def _write_edit(db: sqlite3.Connection, item_id: str, name: str, value: list[str], moment: str) -> None:
    db.execute(
        "INSERT INTO analyst_edits (item_id, field, value, edited_at) VALUES (?, ?, ?, ?)",
        (item_id, name, json.dumps(value, ensure_ascii=False), moment),
    )


def _next_change(db: sqlite3.Connection, item_id: str) -> int:
    """The number of the change about to be written, once the item's derived history is stored."""
    if not db.execute("SELECT 1 FROM edit_history WHERE item_id = ? LIMIT 1", (item_id,)).fetchone():
        backfill_history(db, [item_id])
    row = db.execute("SELECT max(change_no) FROM edit_history WHERE item_id = ?", (item_id,)).fetchone()
    return int(row[0] or 0) + 1


def _append(
    db: sqlite3.Connection,
    item_id: str,
    number: int,
    name: str,
    action: str,
    value: list[str],
    previous: list[str] | None,
    moment: str,
    undoes: int | None = None,
) -> None:
    db.execute(
        "INSERT INTO edit_history (item_id, change_no, field, action, value, previous, edited_at, undoes)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            item_id,
            number,
            name,
            action,
            json.dumps(value, ensure_ascii=False),
            None if previous is None else json.dumps(previous, ensure_ascii=False),
            moment,
            undoes,
        ),
    )


def undo_last(store: ItemStore, item_id: str) -> list[HistoryEntry]:
    """Revert the item's latest change not yet undone, recording the undo; returns the undo's rows.

    UsageError when there is nothing to undo; NotFoundError for an unknown item.
    """
    db, moment = store.db, now()
    db.execute("BEGIN IMMEDIATE")
    try:
        store.get(item_id)
        number = _next_change(db, item_id)
        target = _latest_undoable(db, item_id)
        if target is None:
            raise UsageError(f"nothing to undo: item {item_id} has no analyst edit left to revert")
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM edit_history WHERE item_id = ? AND change_no = ? ORDER BY id DESC",
            (item_id, target),
        ).fetchall()
        for row in rows:
            name, value = row["field"], json.loads(row["value"])
            before = list(getattr(store.get(item_id), name))
            _revert(db, item_id, name, row["action"], value, moment)
            after = list(getattr(store.get(item_id), name))
            _append(db, item_id, number, name, "undo", after, before, moment, undoes=target)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return [entry for entry in history(store, item_id) if entry.change_no == number]


def _latest_undoable(db: sqlite3.Connection, item_id: str) -> int | None:
    row = db.execute(
        "SELECT max(change_no) FROM edit_history WHERE item_id = ? AND action != 'undo' AND change_no NOT IN"
        " (SELECT undoes FROM edit_history WHERE item_id = ? AND undoes IS NOT NULL)",
        (item_id, item_id),
    ).fetchone()
    return int(row[0]) if row[0] is not None else None


def _revert(db: sqlite3.Connection, item_id: str, name: str, action: str, value: list[str], moment: str) -> None:
    if name != "tags":
        # The change wrote the field's latest analyst edit: without it the field reads as it did before.
        db.execute(
            "DELETE FROM analyst_edits WHERE id = (SELECT max(id) FROM analyst_edits WHERE item_id = ? AND field = ?)",
            (item_id, name),
        )
    elif action == "add":
        for tag in value:
            db.execute("DELETE FROM item_tags WHERE item_id = ? AND tag = ?", (item_id, tag))
    elif action == "remove":
        for tag in value:
            db.execute("INSERT INTO item_tags VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (item_id, tag, moment))


def history(store: ItemStore, item_id: str) -> list[HistoryEntry]:
    """Every analyst edit of an item, oldest first (derived from its edits and tags while none is stored)."""
    rows = store.db.execute(f"SELECT {_COLUMNS} FROM edit_history WHERE item_id = ? ORDER BY id", (item_id,))
    entries = [
        HistoryEntry(
            int(row["change_no"]),
            row["field"],
            row["action"],
            json.loads(row["value"]),
            None if row["previous"] is None else json.loads(row["previous"]),
            row["edited_at"],
            None if row["undoes"] is None else int(row["undoes"]),
        )
        for row in rows
    ]
    if not entries:
        entries = _derived_history(store.db, item_id)
    undone = {entry.undoes for entry in entries if entry.undoes is not None}
    return [replace(entry, undone=entry.change_no in undone) for entry in entries]


def _derived_history(db: sqlite3.Connection, item_id: str) -> list[HistoryEntry]:
    """An item's history as its analyst edits and the dates of its tags tell it: each edit sets its field; the
    tags added at one moment are one change."""
    events: list[tuple[str, int, str, list[str], list[str] | None]] = []  # (at, order, field, value, previous)
    previous: dict[str, list[str] | None] = {}
    edits = db.execute("SELECT field, value, edited_at FROM analyst_edits WHERE item_id = ? ORDER BY id", (item_id,))
    for order, (name, value, edited_at) in enumerate(edits):
        events.append((edited_at, order, name, json.loads(value), previous.get(name)))
        previous[name] = json.loads(value)
    tags = db.execute("SELECT tag, added_at FROM item_tags WHERE item_id = ? ORDER BY added_at, tag", (item_id,))
    by_moment: dict[str, list[str]] = {}
    for tag, added_at in tags:
        by_moment.setdefault(added_at, []).append(tag)
    held: list[str] = []
    for added_at, added in by_moment.items():
        events.append((added_at, -1, "tags", added, sorted(held)))
        held += added
    events.sort(key=lambda event: (event[0], event[1]))
    return [
        HistoryEntry(number, name, "add" if name == "tags" else "set", value, before, at)
        for number, (at, _, name, value, before) in enumerate(events, start=1)
    ]


def backfill_history(db: sqlite3.Connection, item_ids: Iterable[str] | None = None) -> int:
    """Store the derived history of the items named (default: every item that has none stored); returns the rows.

    Runs inside the caller's transaction (the migration's, or the change's).
    """
    if item_ids is None:
        found = db.execute(
            "SELECT item_id FROM analyst_edits UNION SELECT item_id FROM item_tags"
            " EXCEPT SELECT item_id FROM edit_history"
        )
        item_ids = sorted(row[0] for row in found)
    count = 0
    for item_id in item_ids:
        for entry in _derived_history(db, item_id):
            e = entry
            _append(db, item_id, e.change_no, e.field, e.action, e.value, e.previous, e.edited_at)
            count += 1
    return count


# The tables, as the SQLite migration creates them (``store.pg`` holds Postgres's spelling of the same): the
# history, and the raw inputs an item was read from before another input of the same page replaced them
# (``ingest.duplicates``), so importing either again is a no-op.
EDIT_HISTORY_SQLITE = """
CREATE TABLE edit_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    change_no INTEGER NOT NULL,
    field TEXT NOT NULL,
    action TEXT NOT NULL,
    value TEXT NOT NULL,
    previous TEXT,
    edited_at TEXT NOT NULL,
    undoes INTEGER
);
CREATE INDEX edit_history_item ON edit_history(item_id, change_no);
CREATE TABLE earlier_inputs (
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    input TEXT NOT NULL,
    media_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    compressed BLOB NOT NULL,
    stored_at TEXT NOT NULL,
    replaced_at TEXT NOT NULL,
    PRIMARY KEY (item_id, sha256)
)
"""
