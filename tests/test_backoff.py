"""One backoff for every loop that retries: exponential, capped, never immediate, and jittered so that
processes that lost Redis together do not come back together."""
from __future__ import annotations

import random

from pricing_edge.backoff import Backoff, exponential


def test_each_delay_is_a_random_half_of_a_doubling_step_up_to_the_cap() -> None:
    backoff = Backoff(first=0.1, cap=1.0, rng=lambda: 0.0)
    assert [round(backoff.next_delay(), 3) for _ in range(6)] == [0.05, 0.1, 0.2, 0.4, 0.5, 0.5]
    backoff = Backoff(first=0.1, cap=1.0, rng=lambda: 1.0)
    assert [round(backoff.next_delay(), 3) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_a_success_starts_the_steps_again() -> None:
    backoff = Backoff(first=0.5, cap=30.0, rng=lambda: 1.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_edge_processes_that_lost_redis_together_reconnect_at_different_moments() -> None:
    processes = [Backoff(first=0.1, cap=5.0, rng=random.Random(seed).random) for seed in range(20)]
    for attempt in range(5):
        delays = [p.next_delay() for p in processes]
        step = min(5.0, 0.1 * 2 ** attempt)
        assert all(step / 2 <= d <= step for d in delays)
        assert len({round(d, 6) for d in delays}) == len(delays)  # nobody at the same moment


def test_the_worker_retry_policy_uses_the_same_formula() -> None:
    assert exponential(0, 1.0, 60.0, lambda: 0.0) == 0.5
    assert exponential(10, 1.0, 60.0, lambda: 1.0) == 60.0
