"""The crawl frontier in ``corpus/kb.sqlite``: every URL a source led to, queued or with its last outcome.

A URL stays queued until its outcome is recorded, so a crawl that is interrupted (Ctrl-C, a kill,
``--max-pages``) resumes with exactly the URLs it had not finished. Validators (ETag,
Last-Modified) are kept per URL for conditional requests, and listing pages (feeds, sitemaps,
pages a site crawl follows) keep their body, compressed, so a 304 still yields their links.
"""

from __future__ import annotations

import sqlite3
import uuid
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from shadowmatch_kb.store.pg import dialect, insertion_order
from shadowmatch_kb.store.sqlite import RAW_COMPRESSION

__all__ = ["CLAIM_BATCH", "CLAIM_SECONDS", "Frontier", "FrontierEntry", "QueuedUrl"]

ROLES = ("feed", "sitemap", "robots", "page")
# How long a crawl's claim on a URL in a shared store holds: far longer than fetching one page takes, with its
# retries and a polite crawl delay, yet short enough that the URLs of a crawler that was killed do not wait long.
CLAIM_SECONDS = 900
# The most URLs a crawl claims at once: about what its workers take on together.
CLAIM_BATCH = 8
# Any number will do as long as no other part of the project takes the same advisory lock.
_FRONTIER_LOCK = 0x736D6B71  # "smkq"


@dataclass(frozen=True)
class QueuedUrl:
    """A URL to enqueue: where it came from and how far from its source's start."""

    url: str
    source: str
    role: str
    depth: int = 0
    listed_date: str | None = None


@dataclass(frozen=True)
class FrontierEntry:
    """A queued URL with what the last crawl learnt of it."""

    url: str
    host: str
    source: str
    role: str
    depth: int
    listed_date: str | None
    etag: str | None
    last_modified: str | None
    item_id: str | None
    outcome: str | None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _host(url: str) -> str | None:
    """The URL's host, or None for a URL too malformed to split (such a link is never queued)."""
    try:
        return (urlsplit(url).hostname or "").lower() or None
    except ValueError:
        return None


class Frontier:
    """Crawl state on the record store's connection (autocommit: each call is one transaction)."""

    def __init__(self, db: sqlite3.Connection, run: str | None = None) -> None:
        """``run`` names this crawl: a URL it has finished is not queued again until the next one."""
        self.db = db
        self.run = run or uuid.uuid4().hex
        self.started = _now()

    def _begin_write(self) -> None:
        """Open a transaction that changes several URLs. In a shared store crawlers on other machines run the
        same transactions, so they take turns: otherwise two that both find a URL new would both insert it (a
        duplicate key), and two that change the same URLs in another order would wait on each other (a
        deadlock). A file store's ``BEGIN IMMEDIATE`` already takes turns."""
        self.db.execute("BEGIN IMMEDIATE")
        if dialect(self.db) == "postgres":
            self.db.execute("SELECT pg_advisory_xact_lock(?)", (_FRONTIER_LOCK,))

    def enqueue(self, entries: Iterable[QueuedUrl]) -> int:
        """Queue URLs (new ones, and known ones to revisit); returns how many were not queued before."""
        now = _now()
        added = 0
        self._begin_write()
        try:
            for entry in entries:
                host = _host(entry.url)
                if host is None:
                    continue
                row = self.db.execute(
                    "SELECT queued, depth, last_run, last_fetched FROM crawl_urls WHERE url = ?", (entry.url,)
                ).fetchone()
                if row is None:
                    self.db.execute(
                        "INSERT INTO crawl_urls (url, host, source, role, depth, queued, listed_date, first_seen)"
                        " VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
                        (entry.url, host, entry.source, entry.role, entry.depth, entry.listed_date, now),
                    )
                    added += 1
                    continue
                if row[2] == self.run:
                    continue  # finished in this crawl already: links between pages must not loop
                if row[3] is not None and row[3] > self.started:
                    # Fetched by another crawl since this one began (crawlers sharing a frontier). Times are to the
                    # second: a fetch in the second this crawl began is revisited, as a fetch before it would be.
                    continue
                if not row[0]:
                    added += 1
                # A URL reached again keeps its first source; it may now be nearer to a start page.
                self.db.execute(
                    "UPDATE crawl_urls SET queued = 1, depth = CASE WHEN ? < depth THEN ? ELSE depth END,"
                    " listed_date = coalesce(?, listed_date) WHERE url = ?",
                    (entry.depth, entry.depth, entry.listed_date, entry.url),
                )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return added

    def next_batch(self, sources: Collection[str], limit: int, *, skip: Collection[str] = ()) -> list[FrontierEntry]:
        """Queued URLs of these sources, shallowest first and hosts interleaved, leaving out ``skip``; in a shared
        store, each is claimed for this crawl, so crawlers on other machines leave it alone until it ends."""
        if not sources:
            return []
        if dialect(self.db) != "postgres":
            return self._queued(sources, limit, skip)
        # A crawl claims no more than it can soon work on, so crawls elsewhere find work too.
        limit = min(limit, CLAIM_BATCH)
        # Another crawler may claim what this one read before this one's claims land: read again, until this
        # crawl has claimed some URLs or none is left to claim (each round that ends empty handed, another
        # crawl has claimed URLs, so the rounds end).
        while True:
            now = _now()
            entries = self._queued(sources, limit, skip, unclaimed_at=now)
            claimed = self._claim(entries, now)
            if claimed or not entries:
                return claimed

    def _queued(
        self, sources: Collection[str], limit: int, skip: Collection[str], *, unclaimed_at: str | None = None
    ) -> list[FrontierEntry]:
        marks = ",".join("?" * len(sources))
        # A file store has one writer at a time, so only a shared one needs claims; another crawl's claim lapses
        # after CLAIM_SECONDS, so the URLs of a crawler killed mid-page are fetched by another in the end.
        unclaimed = " AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until < ?)" if unclaimed_at else ""
        # Ranking within each host and ordering by that rank round-robins the hosts, so one big
        # site with a long crawl delay does not hold every worker while other hosts wait.
        rows = self.db.execute(
            "SELECT url, host, source, role, depth, listed_date, etag, last_modified, item_id, outcome"
            f" FROM (SELECT *, row_number() OVER (PARTITION BY host ORDER BY depth, {insertion_order(self.db)}) AS turn"
            f"       FROM crawl_urls WHERE queued = 1 AND source IN ({marks}){unclaimed}) AS queue"
            " ORDER BY turn, depth, url LIMIT ?",
            (*sources, *((self.run, unclaimed_at) if unclaimed_at else ()), limit + len(skip)),
        ).fetchall()
        return [FrontierEntry(*row) for row in rows if row[0] not in skip][:limit]

    def _claim(self, entries: list[FrontierEntry], now: str) -> list[FrontierEntry]:
        """The entries this crawl could claim: another crawler may have claimed some since they were read (its
        update then holds the row, and this one finds the claim when the row is free again)."""
        until = (datetime.now(UTC) + timedelta(seconds=CLAIM_SECONDS)).strftime("%Y-%m-%dT%H:%M:%SZ")
        claimed = []
        self._begin_write()
        try:
            for entry in entries:
                row = self.db.execute(
                    "UPDATE crawl_urls SET claimed_by = ?, claimed_until = ? WHERE url = ? AND queued = 1"
                    " AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until < ?) RETURNING url",
                    (self.run, until, entry.url, self.run, now),
                ).fetchone()
                if row is not None:
                    claimed.append(entry)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return claimed

    def claimed_elsewhere(self, sources: Collection[str]) -> int:
        """How many queued URLs of these sources crawls elsewhere hold now (always 0 in a file store)."""
        if dialect(self.db) != "postgres" or not sources:
            return 0
        marks = ",".join("?" * len(sources))
        return int(
            self.db.execute(
                f"SELECT count(*) FROM crawl_urls WHERE queued = 1 AND source IN ({marks})"
                " AND claimed_by != ? AND claimed_until >= ?",
                (*sources, self.run, _now()),
            ).fetchone()[0]
        )

    def release(self) -> None:
        """Give up this crawl's claims on URLs it did not finish (a crawl that stops calls it), so that another
        crawl takes them at once rather than after CLAIM_SECONDS."""
        if dialect(self.db) == "postgres":
            self.db.execute(
                "UPDATE crawl_urls SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?", (self.run,)
            )

    def queued_count(self, sources: Collection[str]) -> int:
        """How many URLs of these sources wait to be crawled."""
        if not sources:
            return 0
        marks = ",".join("?" * len(sources))
        query = f"SELECT count(*) FROM crawl_urls WHERE queued = 1 AND source IN ({marks})"
        return int(self.db.execute(query, tuple(sources)).fetchone()[0])

    def record(
        self,
        url: str,
        outcome: str,
        *,
        reason: str | None = None,
        fetched: bool = True,
        etag: str | None = None,
        last_modified: str | None = None,
        item_id: str | None = None,
        raw: bytes | None = None,
        keep_validators: bool = False,
    ) -> None:
        """Record a URL's outcome and take it off the queue."""
        failed = outcome == "failed"
        self.db.execute(
            "UPDATE crawl_urls SET queued = 0, outcome = ?, reason = ?,"
            " last_fetched = CASE WHEN ? THEN ? ELSE last_fetched END,"
            " etag = CASE WHEN ? THEN etag ELSE ? END,"
            " last_modified = CASE WHEN ? THEN last_modified ELSE ? END,"
            " item_id = coalesce(?, item_id),"
            " raw = CASE WHEN ? THEN ? ELSE raw END,"
            " failures = CASE WHEN ? THEN failures + 1 ELSE 0 END, last_run = ?"
            f"{', claimed_by = NULL, claimed_until = NULL' if dialect(self.db) == 'postgres' else ''}"
            " WHERE url = ?",
            (
                outcome,
                reason,
                fetched,
                _now(),
                keep_validators,
                etag,
                keep_validators,
                last_modified,
                item_id,
                raw is not None,
                zlib.compress(raw, RAW_COMPRESSION) if raw is not None else None,
                failed,
                self.run,
                url,
            ),
        )

    def stored_body(self, url: str) -> bytes | None:
        """The body kept from the last full fetch of a listing page, for re-reading its links after a 304."""
        row = self.db.execute("SELECT raw FROM crawl_urls WHERE url = ?", (url,)).fetchone()
        return zlib.decompress(row[0]) if row and row[0] is not None else None

    def outcome_counts(self, sources: Collection[str] | None = None) -> dict[str, dict[str, int]]:
        """Per source, how many URLs ended with each outcome (queued ones under "queued")."""
        rows = self.db.execute(
            "SELECT source, CASE WHEN queued = 1 THEN 'queued' ELSE coalesce(outcome, 'queued') END, count(*)"
            " FROM crawl_urls GROUP BY 1, 2"
        ).fetchall()
        counts: dict[str, dict[str, int]] = {}
        for source, outcome, count in rows:
            if sources is None or source in sources:
                counts.setdefault(source, {})[outcome] = count
        return counts
