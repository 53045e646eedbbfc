"""Crawlers on two machines share one frontier in Postgres: their writes to it take turns, so neither fails
when both reach the same URLs at once. Every Postgres here is a real server (``postgres_url``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from shadowmatch_kb.store.frontier import Frontier, QueuedUrl
from shadowmatch_kb.store.pg import PgConnection, ensure_schema


def _queued(url: str) -> QueuedUrl:
    return QueuedUrl(url, "news", "page", 1, None)


def _waiting_on_a_lock(db: PgConnection) -> bool:
    return bool(db.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()[0])


def test_two_crawlers_queue_the_same_urls_at_once(postgres_url):
    """The first crawler has queued one URL and not yet the second when the other queues both in the other
    order. Without turns, the other inserts the second URL and waits on the first: the first crawler then waits
    on the second URL (a deadlock), or the other, let go, inserts a URL already there (a duplicate key)."""
    watcher, first_db, second_db = (PgConnection(postgres_url) for _ in range(3))
    ensure_schema(watcher)
    halfway, go_on = threading.Event(), threading.Event()

    def in_two_steps() -> Iterator[QueuedUrl]:
        yield _queued("https://news.example/a")
        halfway.set()
        assert go_on.wait(30)
        yield _queued("https://news.example/b")

    outcomes: dict[str, object] = {}

    def enqueue(name: str, db: PgConnection, entries) -> None:
        try:
            outcomes[name] = Frontier(db).enqueue(entries)
        except Exception as exc:  # the test reads what each crawler met
            outcomes[name] = exc

    first = threading.Thread(target=enqueue, args=("first", first_db, in_two_steps()))
    first.start()
    assert halfway.wait(30)
    both = [_queued("https://news.example/b"), _queued("https://news.example/a")]
    second = threading.Thread(target=enqueue, args=("second", second_db, both))
    second.start()
    deadline = time.monotonic() + 30
    while not _waiting_on_a_lock(watcher):  # the second crawler now waits on the first
        assert time.monotonic() < deadline, "the second crawler never waited on the first"
        time.sleep(0.02)
    go_on.set()
    first.join(60)
    second.join(60)

    assert outcomes == {"first": 2, "second": 0}
    rows = watcher.execute("SELECT url, queued FROM crawl_urls ORDER BY url").fetchall()
    assert [tuple(row) for row in rows] == [("https://news.example/a", 1), ("https://news.example/b", 1)]
    for db in (watcher, first_db, second_db):
        db.close()
