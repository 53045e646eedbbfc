"""The digest: what came in since a date, and which signals rose since then.

By default items are taken by their published date, as the tracker counts them: a digest "since March"
tells what was *said* since March, also when an archive of older posts is imported today (dating by import
would put a whole backfill in this week's digest). Undated items and dates the tracker cannot count (after
today, before 1990) are not "new" then; asked ``by="imported"``, the digest lists what was *imported* since
the date instead, undated items included. Copies of an earlier item (``duplicate_of`` set) are left out:
they say nothing new. Rising signals are always judged on published dates.

A signal cluster is *rising* since the date when at least two independent items have stated it since then
(one item is not a trend; its signals are shown under it), and it is
* ``new``: first stated since then, or
* ``growing``: stated before the date too.
Rising signals are ordered by independent items since the date, then by items overall.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.formats.inert import markdown_text, safe_url
from shadowmatch_kb.model import SignalRow
from shadowmatch_kb.signal_clusters import SignalCluster, cluster_rows
from shadowmatch_kb.store.timeline import DatedItem
from shadowmatch_kb.text.dates import date_doubt, parse_iso_date
from shadowmatch_kb.trends.service import TREND_COSINE, dated_up_to_today

__all__ = ["DIGEST_BY", "Digest", "build_digest", "parse_since"]

DIGEST_BY = ("published", "imported")

TOP_SIGNALS_PER_ITEM = 3
RISING_SHOWN = 10


def parse_since(value: str) -> str:
    """A YYYY-MM-DD (or YYYY-MM, YYYY) date as YYYY-MM-DD; anything else is a UsageError."""
    day = parse_iso_date(value.strip())
    if day is None:
        raise UsageError(f"--since {value!r} is not a date; use YYYY-MM-DD")
    return day


@dataclass
class Digest:
    """New items (newest first) and rising signals since a date."""

    since: str
    by: str = "published"
    items: list[dict[str, Any]] = field(default_factory=list)
    rising: list[dict[str, Any]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``smkb digest --format json``."""
        return {
            "since": self.since,
            "by": self.by,
            "items": self.items,
            "rising": self.rising,
            "notices": self.notices,
        }

    def to_markdown(self) -> str:
        """The digest as Markdown: rising signals first, then the new items."""
        lines = [f"# Digest since {self.since}", ""]
        taken = "published" if self.by == "published" else "imported"
        lines.append(f"{len(self.items)} item(s) {taken} since {self.since}, {len(self.rising)} rising signal(s).")
        lines += ["", "## Rising signals", ""]
        titles = {item["id"]: item["title"] for item in self.items}
        for signal in self.rising or [{}]:
            if not signal:
                lines.append("None yet.")
                continue
            cited = ", ".join(markdown_text(titles.get(i, i)) for i in signal["items_since"])
            lines.append(
                f"- **{markdown_text(signal['signal'])}** ({signal['status']}; {signal['support_since']} item(s)"
                f" since, {signal['support']} in all): {markdown_text(signal['change'].rstrip('.'))}. Cited by: {cited}"
            )
        lines += ["", "## New items", ""]
        if not self.items:
            lines.append("None.")
        for item in self.items:
            url, title = safe_url(item["url"]), markdown_text(item["title"])
            link = f"[{title}](<{url}>)" if url else title
            lines.append(f"### {link}")
            when = item["date"] or "undated"
            if item.get("date_doubt"):
                when += f" ({item['date_doubt']}?)"
            lines += ["", f"{when} (imported {item['imported']}) · `{item['id']}`", ""]
            lines += [f"- {markdown_text(s['signal'])}: {markdown_text(s['change'])}" for s in item["signals"]]
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"


def build_digest(
    items: Sequence[DatedItem],
    rows: Sequence[SignalRow],
    embedder: Embedder | None,
    *,
    since: str,
    today: str | None = None,
    about: Any = None,
    by: str = "published",
) -> Digest:
    """The digest from dated items and their rows; ``about(ids)`` gives each item's title and url; ``by`` takes
    the new items by their published date or by the day they were imported."""
    since = parse_since(since)
    if by not in DIGEST_BY:
        raise UsageError(f"a digest takes items by {' or '.join(DIGEST_BY)} date, not {by!r}")
    found = Digest(since=since, by=by)
    today = today or datetime.date.today().isoformat()
    kept, rows, found.notices = dated_up_to_today(items, rows, today)
    clusters = cluster_rows(rows, embedder, threshold=TREND_COSINE) if rows and embedder is not None else []
    dates = {d.item_id: d for d in kept}
    new = _new_items(items, kept, since, by)
    if by == "published" and (unlisted := sum(1 for d in items if d.imported >= since and d.item_id not in dates)):
        found.notices.append(
            f"{unlisted} item(s) imported since {since} have no date the digest can count (undated, or dated after"
            " today or before 1990): `smkb digest --imported` lists what was imported since then"
        )
    details: Mapping[str, Any] = about([d.item_id for d in new]) if about and new else {}
    support_of = {id(row): cluster.support for cluster in clusters for row in cluster.rows}
    rows_of: dict[str, list[SignalRow]] = {}
    for r in rows:
        rows_of.setdefault(r.item_id, []).append(r)
    for d in new:
        own = list(rows_of.get(d.item_id, []))
        own.sort(key=lambda r: -support_of.get(id(r), 1))  # stable: the post's own order among equals
        title, url = details.get(d.item_id, (d.item_id, None))
        found.items.append(
            {
                "id": d.item_id,
                "title": title,
                "url": url,
                "date": None if d.undated else d.date,
                "dated_by": d.dated_by,
                "date_doubt": None if d.undated else date_doubt(d.date, today),
                "imported": d.imported,
                "signals": [
                    {"signal": r.signal.signal, "change": r.signal.change, "support": support_of.get(id(r), 1)}
                    for r in own[:TOP_SIGNALS_PER_ITEM]
                ],
            }
        )
    found.rising = _rising(clusters, dates, since)
    return found


def _new_items(items: Sequence[DatedItem], kept: Sequence[DatedItem], since: str, by: str) -> list[DatedItem]:
    """Originals published (``kept``: the countable ones) or imported since the date, newest first."""
    if by == "published":
        return [d for d in reversed(kept) if d.date >= since and d.duplicate_of is None]
    found = [d for d in items if d.imported >= since and d.duplicate_of is None]
    # Newest import first; among one day's imports, the newest published first (undated last).
    return sorted(found, key=lambda d: (d.imported, "" if d.undated else d.date, d.item_id), reverse=True)


def _rising(clusters: list[SignalCluster], dates: Mapping[str, DatedItem], since: str) -> list[dict[str, Any]]:
    rising: list[dict[str, Any]] = []
    for cluster in clusters:
        recent = [r for r in cluster.rows if (r.published or "") >= since]
        sources_since = {r.source for r in recent}
        if not sources_since:
            continue
        if len(sources_since) < 2:
            continue
        status = "new" if (cluster.first_seen or "") >= since else "growing"
        items_since = sorted({r.item_id for r in recent}, key=lambda i: dates[i].date, reverse=True)
        rising.append(
            {
                "signal": cluster.representative.signal.signal,
                "change": cluster.representative.signal.change,
                "status": status,
                "support_since": len(sources_since),
                "support": cluster.support,
                "first_seen": cluster.first_seen,
                "last_seen": cluster.last_seen,
                "items_since": items_since,
                "items": cluster.item_ids,
            }
        )
    rising.sort(key=lambda s: (-s["support_since"], -s["support"], s["signal"].lower()))
    return rising[:RISING_SHOWN]
