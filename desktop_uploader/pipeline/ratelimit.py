"""A bandwidth limit shared by every upload thread, and the parsing of rates like ``20M``."""

from __future__ import annotations

import threading
import time

MiB = 1024 * 1024


class RateLimiter:
    """A token bucket shared by every upload thread: ``rate`` bytes per second overall."""

    def __init__(self, rate: float) -> None:
        self.rate = float(rate)
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def take(self, n: int) -> None:
        """Wait until ``n`` more bytes may be sent."""
        with self._lock:
            now = time.monotonic()
            start = max(self._next, now)
            self._next = start + n / self.rate
        delay = start - now
        if delay > 0:
            time.sleep(delay)


def parse_rate(text: str) -> float:
    """``20M`` → 20,000,000 bytes/s; k, M, G are decimal, Ki, Mi, Gi binary."""
    t = text.strip().rstrip("Bb/s").strip()
    units = {"k": 1e3, "m": 1e6, "g": 1e9, "ki": 1024, "mi": MiB, "gi": 1024 * MiB}
    for suffix in sorted(units, key=len, reverse=True):
        if t.lower().endswith(suffix):
            return float(t[: -len(suffix)]) * units[suffix]
    return float(t)
