"""One backoff-with-jitter for every loop that sleeps and tries again: Redis reconnects, the cache
updater, the router and flow runners after a store error, webhook registration, the worker's retries.

Exponential steps with *equal jitter*: half the step fixed, half random. The fixed half means a retry is
never immediate; the random half means a fleet of processes that lost Redis at the same moment does not
come back at the same moment, and keeps drifting apart on every further attempt.
"""
from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field

Random = Callable[[], float]


def exponential(attempt: int, first: float, cap: float, rng: Random = random.random) -> float:
    """The delay before try ``attempt + 1`` (``attempt`` = 0 for the first retry): ``first·2^attempt``
    capped at ``cap``, of which a random half."""
    step = min(cap, first * 2 ** max(0, attempt))
    return step / 2 + rng() * step / 2


@dataclass
class Backoff:
    """The state of one retry loop: ``await backoff.sleep()`` after a failure, ``reset()`` after a success."""

    first: float = 0.1
    cap: float = 5.0
    rng: Random = field(default=random.random, repr=False)
    attempt: int = 0

    def next_delay(self) -> float:
        delay = exponential(self.attempt, self.first, self.cap, self.rng)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0

    async def sleep(self) -> float:
        """Sleep the next delay; returns it (for the log line the caller writes)."""
        delay = self.next_delay()
        await asyncio.sleep(delay)
        return delay
