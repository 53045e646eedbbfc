"""Export every item: jsonl (lossless), csv (one row an item) or md (one Signals post a file)."""

from __future__ import annotations

import base64
import csv
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from shadowmatch_kb.formats.signals_post import render_signals_post

if TYPE_CHECKING:
    from shadowmatch_kb.kb import KnowledgeBase

__all__ = ["CSV_COLUMNS", "export_items"]

CSV_COLUMNS = (
    "id",
    "title",
    "url",
    "published",
    "source",
    "summary",
    "keywords",
    "themes",
    "sectors",
    "tags",
    "signals",
    "duplicate_of",
)


def export_items(kb: KnowledgeBase, fmt: str, output: str | None) -> int:
    """Write every item in ``fmt`` to ``output`` (stdout when None); returns the count."""
    if fmt == "md":
        return _export_markdown(kb, output)
    if output is None:
        return _write(kb, fmt, sys.stdout)
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    # Written beside the target and renamed, so an interrupted export never leaves half a file.
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        count = _write(kb, fmt, handle)
    os.replace(tmp, target)
    return count


def _write(kb: KnowledgeBase, fmt: str, handle: TextIO) -> int:
    count = 0
    if fmt == "jsonl":
        for item in kb.iter_all():
            handle.write(json.dumps(_lossless_record(kb, item.id, item.to_dict()), ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.writer(handle)
    writer.writerow(CSV_COLUMNS)
    for item in kb.iter_all():
        data = item.to_dict()
        row = []
        for column in CSV_COLUMNS:
            value = data[column]
            if column == "signals":
                value = " || ".join(
                    " | ".join((s["signal"], s["change"], s["horizon"], s["driving_force"])) for s in value
                )
            elif isinstance(value, list):
                value = "; ".join(value)
            row.append("" if value is None else value)
        writer.writerow(row)
        count += 1
    return count


def _lossless_record(kb: KnowledgeBase, item_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """An item with everything needed to rebuild it: analyst edits and the raw input too."""
    store = kb.store
    data["analyst_edits"] = store.analyst_edits(item_id)
    raw = store.raw_input(item_id)
    if raw is not None:
        data["raw"] = {
            "input": raw.input,
            "media_type": raw.media_type,
            "base64": base64.b64encode(raw.content).decode("ascii"),
        }
    return data


def _export_markdown(kb: KnowledgeBase, output: str | None) -> int:
    count = 0
    folder = Path(output) if output else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    for item in kb.iter_all():
        closest = [(c.id, c.title) for c in kb.closest(item.id, k=5)]
        text = render_signals_post(item, closest)
        if folder is None:
            sys.stdout.write(text + "\n")
        else:
            (folder / f"{item.id}.md").write_text(text, encoding="utf-8")
        count += 1
    return count
