"""The time freshness is judged by: wall-clock milliseconds (records carry when they were learned) and a
monotonic clock (how long a negative answer is kept). Injectable, so a test decides when a record with a
one-second TTL goes stale instead of racing the machine's load; waits and retry spacing stay on real time."""
from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def wall_ms(self) -> int: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def wall_ms(self) -> int:
        return int(time.time() * 1000)

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK = SystemClock()
