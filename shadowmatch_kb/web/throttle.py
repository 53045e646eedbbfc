"""Wrong analyst tokens, counted per client address and for the server as a whole, to slow guessing.

After ``per_address`` wrong tokens from one address in a minute, that address is answered 429 until the
oldest of them is a minute old; after ``in_all`` from every address together, everyone is. The second
limit is there because an address can be forged (a client on loopback may send X-Forwarded-For, which
uvicorn trusts from 127.0.0.1), so no number of forged addresses guesses faster than ``in_all`` a minute.
Attempts made while held back are refused before they are checked, so they reveal nothing and count
for nothing. All of it lives in memory and is bounded.
"""

from __future__ import annotations

from collections import deque

__all__ = ["FAILURES_IN_ALL", "FAILURES_PER_ADDRESS", "WINDOW_S", "Throttle"]

FAILURES_PER_ADDRESS = 5
FAILURES_IN_ALL = 50
WINDOW_S = 60.0
MAX_ADDRESSES = 10_000  # remembered at once; the least recent are forgotten first


class Throttle:
    """Wrong attempts in the last ``window`` seconds, per address and in all."""

    def __init__(
        self, per_address: int = FAILURES_PER_ADDRESS, in_all: int = FAILURES_IN_ALL, window: float = WINDOW_S
    ) -> None:
        self.per_address = per_address
        self.in_all = in_all
        self.window = window
        self._by_address: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def wait(self, address: str, now: float) -> float:
        """Seconds ``address`` must wait before its next attempt is heard; 0 when it may try now."""
        self._expire(self._all, now)
        mine = self._by_address.get(address)
        if mine is not None:
            self._expire(mine, now)
            if not mine:
                del self._by_address[address]
        waits = [0.0]
        if mine and len(mine) >= self.per_address:
            waits.append(mine[0] + self.window - now)
        if len(self._all) >= self.in_all:
            waits.append(self._all[0] + self.window - now)
        return max(waits)

    def failed(self, address: str, now: float) -> None:
        """Count a wrong token from ``address``."""
        # Moved to the end, so the dictionary's order is the order of the latest failures.
        times = self._by_address.pop(address, deque())
        times.append(now)
        self._by_address[address] = times
        self._all.append(now)
        if len(self._by_address) > MAX_ADDRESSES:
            for stale in [a for a, times in self._by_address.items() if times[-1] <= now - self.window]:
                del self._by_address[stale]
            while len(self._by_address) > MAX_ADDRESSES:
                del self._by_address[next(iter(self._by_address))]

    def _expire(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - self.window:
            times.popleft()
