"""A clock that moves only when the test says: freshness without racing a loaded machine."""
from __future__ import annotations

import threading
import time


class ManualClock:
    """Starts at the real now and stands still until :meth:`advance` (thread-safe: servers run in threads)."""

    def __init__(self, wall_behind: float = 0.0) -> None:
        """``wall_behind``: seconds its wall time starts behind the real now (for a test that moves it far ahead
        while parts it does not control stamp the real time)."""
        self._lock = threading.Lock()
        self._wall_ms = int((time.time() - wall_behind) * 1000)
        self._monotonic = time.monotonic()

    def wall_ms(self) -> int:
        with self._lock:
            return self._wall_ms

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._wall_ms += int(seconds * 1000)
            self._monotonic += seconds
