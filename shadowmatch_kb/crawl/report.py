"""What a crawl reports: one event per URL as it ends, and the totals at the end.

Outcomes of a URL:
``added`` / ``updated``  an article stored (new, or its content changed);
``unchanged``            the server answered 304, or the same bytes came back: nothing re-processed;
``duplicate``            the same text is already stored under another URL (not stored again);
``listed``               a feed, sitemap or robots.txt read for the links it lists;
``skipped``              not fetched or not stored, by rule: robots.txt, not an article, not a web page;
``failed``               could not be fetched or read (HTTP error, timeout, too large, bad feed).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["OUTCOMES", "CrawlEvent", "CrawlObserver", "CrawlReport"]

OUTCOMES = ("added", "updated", "unchanged", "duplicate", "listed", "skipped", "failed")
# The report keeps every failure, but only this many skipped URLs with their reasons (counts stay exact).
MAX_SKIPPED_LISTED = 200


@dataclass(frozen=True)
class CrawlEvent:
    """One URL has ended with an outcome."""

    url: str
    source: str
    host: str
    outcome: str
    reason: str | None = None
    item_id: str | None = None
    queued: int = 0  # how many URLs this one added to the queue


class CrawlObserver(Protocol):
    """Told of every URL as it ends, and of the queue's size; the CLI draws them, tests collect them."""

    def url_done(self, event: CrawlEvent, queued: int) -> None:
        """A URL ended; ``queued`` URLs wait."""
        ...


class NullObserver:
    """An observer that ignores everything."""

    def url_done(self, event: CrawlEvent, queued: int) -> None:
        """Ignore."""


@dataclass
class CrawlReport:
    """Totals of one crawl run."""

    sources: list[str]
    counts: Counter[str] = field(default_factory=Counter)
    per_source: dict[str, Counter[str]] = field(default_factory=dict)
    per_host: dict[str, Counter[str]] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    fetches: int = 0  # URLs requested, robots.txt included (a redirect or a retry is part of one fetch)
    resumed: int = 0
    remaining: int = 0
    older_than_since: int = 0
    stopped: str | None = None  # why the run ended before its queue was empty
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, event: CrawlEvent) -> None:
        """Count one ended URL."""
        self.counts[event.outcome] += 1
        self.per_source.setdefault(event.source, Counter())[event.outcome] += 1
        self.per_host.setdefault(event.host, Counter())[event.outcome] += 1
        if event.outcome == "failed":
            self.failures.append({"url": event.url, "source": event.source, "reason": event.reason or ""})
        elif event.outcome == "skipped" and len(self.skipped) < MAX_SKIPPED_LISTED:
            self.skipped.append({"url": event.url, "source": event.source, "reason": event.reason or ""})

    @property
    def stored(self) -> int:
        """Items added or updated."""
        return self.counts["added"] + self.counts["updated"]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``smkb crawl --json``."""
        return {
            "counts": {outcome: self.counts[outcome] for outcome in OUTCOMES},
            "sources": {
                name: {outcome: self.per_source.get(name, Counter())[outcome] for outcome in OUTCOMES}
                for name in self.sources
            },
            "hosts": {host: dict(counts) for host, counts in sorted(self.per_host.items())},
            "failures": self.failures,
            "skipped": self.skipped,
            "fetches": self.fetches,
            "resumed": self.resumed,
            "remaining": self.remaining,
            "older_than_since": self.older_than_since,
            "stopped": self.stopped,
            "notes": self.notes,
            "seconds": round(self.seconds, 2),
        }
