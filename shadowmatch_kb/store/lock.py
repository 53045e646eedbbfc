"""One writer at a time: an advisory file lock held for the whole of a write command (``SharedStoreLock``: its
counterpart for a knowledge base in Postgres, where writers of items go on at once)."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from shadowmatch_kb.errors import LockTimeoutError

__all__ = ["SharedStoreLock", "WriteLock"]


class WriteLock:
    """An exclusive ``flock`` on a file; the kernel frees it when the process dies, even on a kill."""

    def __init__(self, path: Path, *, timeout: float = 600.0, poll: float = 0.1) -> None:
        self.path = path
        self.timeout = timeout
        self.poll = poll
        self._fd: int | None = None
        self.waited = 0.0

    def acquire(self) -> None:
        """Wait for the lock up to ``timeout`` seconds, then raise LockTimeoutError."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        start = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - start > self.timeout:
                    os.close(fd)
                    raise LockTimeoutError(
                        f"another smkb command has been writing to {self.path.parent.parent} for over "
                        f"{self.timeout:.0f} s; try again when it has finished"
                    ) from None
                time.sleep(self.poll)
        self.waited = time.monotonic() - start
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Give the lock back."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class SharedStoreLock:
    """The write lock of a knowledge base in Postgres: an advisory lock of the database, so it holds across
    machines, and the server frees it when a process dies (its session ends), as the kernel frees a file lock.

    Writers of items share it: Postgres keeps their transactions apart, so writers on several machines go on at
    once. What rebuilds shared state (a reindex, an import of occupation datasets, a copy into the knowledge
    base) holds it ``exclusive``: it waits for the writers at work, and new ones wait for it.
    """

    # Any number will do as long as no other part of the project takes the same advisory lock.
    KEY = 0x736D6B77  # "smkw"

    def __init__(self, db: Any, where: str, *, exclusive: bool = False, timeout: float = 600.0, poll: float = 0.1):
        """``db`` is the store's connection (the lock lasts as long as its session); ``where`` names the knowledge
        base in the message of a wait that times out."""
        self.db = db
        self.where = where
        self.exclusive = exclusive
        self.timeout = timeout
        self.poll = poll
        self.waited = 0.0
        self._held = False

    def acquire(self) -> None:
        """Wait for the lock up to ``timeout`` seconds, then raise LockTimeoutError."""
        suffix = "" if self.exclusive else "_shared"
        start = time.monotonic()
        while not self.db.execute(f"SELECT pg_try_advisory_lock{suffix}(?)", (self.KEY,)).fetchone()[0]:
            if time.monotonic() - start > self.timeout:
                raise LockTimeoutError(
                    f"another smkb command has been {'writing to' if self.exclusive else 'rebuilding'} {self.where}"
                    f" for over {self.timeout:.0f} s; try again when it has finished"
                )
            time.sleep(self.poll)
        self.waited = time.monotonic() - start
        self._held = True

    def release(self) -> None:
        """Give the lock back."""
        if self._held:
            suffix = "" if self.exclusive else "_shared"
            self.db.execute(f"SELECT pg_advisory_unlock{suffix}(?)", (self.KEY,))
            self._held = False

    def __enter__(self) -> SharedStoreLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
