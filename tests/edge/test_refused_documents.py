"""The penalty for a client whose documents the budget keeps refusing: it starts past the allowance, is the
client's alone, and ends with its window."""
from __future__ import annotations

from pricing_edge.edge.clients import RefusedDocuments


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_penalty_starts_past_the_allowance_and_ends_with_the_window() -> None:
    clock = Clock()
    refusals = RefusedDocuments(allowed=3, window=60, clock=clock)
    for _ in range(3):
        refusals.refused("203.0.113.9")
    assert refusals.penalized("203.0.113.9") is None  # three refusals are allowed
    refusals.refused("203.0.113.9")
    penalty = refusals.penalized("203.0.113.9")
    assert penalty is not None and penalty.headers()["X-Rate-Limit-Requests-Left"] == "0"
    assert refusals.penalized("203.0.113.10") is None  # a neighbour is not touched
    clock.now += 59
    assert refusals.penalized("203.0.113.9") is not None
    clock.now += 1
    assert refusals.penalized("203.0.113.9") is None  # a new window: heard again


def test_refusals_in_an_old_window_do_not_count_toward_a_new_one() -> None:
    clock = Clock()
    refusals = RefusedDocuments(allowed=2, window=60, clock=clock)
    refusals.refused("a")
    refusals.refused("a")
    clock.now += 61
    refusals.refused("a")
    assert refusals.penalized("a") is None
