"""What the last calls to a dependency say about it — whether the last one failed, and whether they are
slow — so ``/readyz`` can report a dependency as down or slow without calling it on every probe."""
from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

WINDOW = 20  # the calls judged
MIN_SAMPLES = 3


class CallHealth:
    def __init__(self, slow_after: float) -> None:
        self.slow_after = slow_after  # seconds: a median call at least this long is slow
        self._durations: deque[float] = deque(maxlen=WINDOW)
        self.last_ok: bool | None = None  # None: never called

    def record(self, seconds: float, ok: bool) -> None:
        self._durations.append(seconds)
        self.last_ok = ok

    @asynccontextmanager
    async def timed(self) -> AsyncIterator[None]:
        """Record the call made inside: failed if it raises."""
        started, ok = time.monotonic(), False
        try:
            yield
            ok = True
        finally:
            self.record(time.monotonic() - started, ok)

    @property
    def failing(self) -> bool:
        return self.last_ok is False

    @property
    def slow(self) -> bool:
        return len(self._durations) >= MIN_SAMPLES and statistics.median(self._durations) >= self.slow_after

    @property
    def median_ms(self) -> float | None:
        return round(statistics.median(self._durations) * 1000, 1) if self._durations else None
