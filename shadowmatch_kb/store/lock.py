"""One writer at a time: an advisory file lock held for the whole of a write command."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from shadowmatch_kb.errors import LockTimeoutError

__all__ = ["WriteLock"]


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
