"""The state of a knowledge base: counts for ``smkb stats`` and the consistency check of ``smkb doctor``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shadowmatch_kb.backends import Backends
from shadowmatch_kb.errors import ShadowmatchError
from shadowmatch_kb.store.sqlite import SqliteStore

__all__ = ["DoctorReport", "doctor_report", "stats_report"]


@dataclass
class DoctorReport:
    """Problems break the record or the index; notes are harmless (e.g. items not yet embedded)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def stats_report(store: SqliteStore, backends: Backends) -> dict[str, Any]:
    """Counts of the record and the state of the index."""
    from shadowmatch_kb.index.sync import pending_changes

    counts = store.stats()
    dates = _date_counts(store)
    # The published range shown is the one the tracker counts: a typo such as 2029 is counted under "dates".
    counts["oldest"], counts["newest"] = dates.pop("range")
    counts["dates"] = dates
    counts["sectors"] = store.facet_counts("sectors")
    counts["themes"] = store.facet_counts("themes")
    meta = backends.index_meta()
    index_info: dict[str, Any] = {"kind": backends.config.index_kind, "built": meta is not None}
    if meta:
        index_info["model"] = meta["model"]
        index_info["dimension"] = meta["dimension"]
        index = backends.index()
        assert index is not None
        entries = index.entries()
        to_embed, to_remove = pending_changes(store, index)
        index_info.update(
            items=len(entries),
            chunks=sum(e.chunks for e in entries.values()),
            pending=len(to_embed) + len(to_remove),
        )
    counts["index"] = index_info
    counts["kb"] = backends.config.kb_label
    return counts


def doctor_report(store: SqliteStore, backends: Backends) -> DoctorReport:
    """Check the record and the index; problems need action, notes do not."""
    from shadowmatch_kb.index.sync import pending_changes
    from shadowmatch_kb.store.enrichment import items_to_enrich

    report = DoctorReport(problems=store.check())
    report.problems.extend(_date_problems(store))
    if not report.problems and (unenriched := len(items_to_enrich(store))):
        report.notes.append(
            f"{unenriched} item(s) without computed fields yet (an import was interrupted?); "
            "`smkb enrich` computes them"
        )
    try:
        index = backends.index()
    except ShadowmatchError as exc:
        report.problems.append(f"index: {exc}")
        return report
    if index is None:
        if store.count():
            report.notes.append("no vector index yet; `smkb reindex` builds it")
        return report
    to_embed, to_remove = pending_changes(store, index)
    if to_embed:
        report.notes.append(
            f"{len(to_embed)} item(s) not embedded yet (an import was interrupted?); "
            "the next `smkb ingest` or `smkb reindex` embeds them"
        )
    if to_remove:
        report.problems.append(f"{len(to_remove)} vector(s) of items that are not in the record; run `smkb reindex`")
    if not backends.onnx_exported():
        report.notes.append("no ONNX export of the model yet: the next import or query builds it (a few seconds)")
    return report


def _date_problems(store: SqliteStore) -> list[str]:
    """One line per kind of published date the tracker cannot count, with the items to correct."""
    import datetime

    from shadowmatch_kb.store.timeline import doubtful_dates

    by_doubt: dict[str, list[str]] = {}
    for item_id, published, doubt in doubtful_dates(store, datetime.date.today().isoformat()):
        by_doubt.setdefault(doubt, []).append(f"{item_id} ({published})")
    problems = []
    for doubt, shown in by_doubt.items():
        more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
        problems.append(
            f"{len(shown)} item(s) dated {doubt}, kept out of the tracker (correct them at the source and "
            f"import again): {', '.join(shown[:5])}{more}"
        )
    return problems


def _date_counts(store: SqliteStore) -> dict[str, Any]:
    """Items the tracker cannot count by date (undated ones, dates after today or before 1990), and the ``range``
    of the dates it counts."""
    import datetime

    from shadowmatch_kb.text.dates import EARLIEST_PLAUSIBLE

    today = datetime.date.today().isoformat()
    row = store.db.execute(
        "SELECT sum(CASE WHEN published IS NULL THEN 1 ELSE 0 END), sum(CASE WHEN published > ? THEN 1 ELSE 0 END),"
        " sum(CASE WHEN published < ? THEN 1 ELSE 0 END),"
        " min(CASE WHEN published BETWEEN ? AND ? THEN published END),"
        " max(CASE WHEN published BETWEEN ? AND ? THEN published END) FROM items",
        (today, EARLIEST_PLAUSIBLE, EARLIEST_PLAUSIBLE, today, EARLIEST_PLAUSIBLE, today),
    ).fetchone()
    return {
        "undated": int(row[0] or 0),
        "after_today": int(row[1] or 0),
        "before_1990": int(row[2] or 0),
        "range": (row[3], row[4]),
    }
