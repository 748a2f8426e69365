"""The maximum-rate search: a rate fails only when two steps at it failed, and every step is in the report."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from loadtests.max_rate import search
from loadtests.report import search_line


def driven(capacity: float, noisy: Iterable[int] = ()) -> tuple[Callable[[float], Any], list[float]]:
    """A fake step: passes up to ``capacity``; the steps numbered in ``noisy`` (from 0) fail whatever the rate."""
    asked: list[float] = []
    noisy = set(noisy)

    async def step(rate: float) -> dict[str, Any]:
        failing = len(asked) in noisy or rate > capacity
        asked.append(rate)
        return {"rate": rate, "achieved_rate": rate, "p50_ms": 0.5, "p99_ms": 600.0 if failing else 2.0,
                "errors": 0, "cpu": {"generator_cores": 0.1}, "slow_windows": [[4.1, 50, 600.0]] if failing else [],
                "cpu_by_process": {"edge": {"ms_per_request": 0.2}}}

    return step, asked


def run(step: Callable[[float], Any]) -> dict[str, Any]:
    return asyncio.run(search(step, start=1000, log=lambda line: None))


def test_one_noisy_step_is_tried_again_and_does_not_decide_the_search() -> None:
    step, asked = driven(capacity=5000, noisy=[0])
    found = run(step)
    assert asked[:3] == [1000, 1000, 1500]
    first, second = found["steps"][:2]
    assert (first["rate"], first["attempt"], first["ok"]) == (1000, 1, False)
    assert first["slow_windows"] == [[4.1, 50, 600.0]]
    assert (second["rate"], second["attempt"], second["ok"]) == (1000, 2, True)
    assert found["max_rate"] >= 3375


def test_a_rate_fails_when_both_of_its_steps_fail() -> None:
    step, asked = driven(capacity=2000)
    found = run(step)
    assert asked[:4] == [1000, 1500, 2250, 2250]  # grown past the capacity: that rate is tried twice
    assert [s["attempt"] for s in found["steps"] if s["rate"] == 2250] == [1, 2]
    assert found["first_failing_rate"] is not None and found["max_rate"] <= 2000
    assert found["max_rate"] >= 1500


def test_every_attempt_of_the_search_is_reported_with_its_cpu() -> None:
    step, asked = driven(capacity=2000, noisy=[0])
    found = run(step)
    assert len(found["steps"]) == len(asked)
    assert all(s["cpu_by_process"] == {"edge": {"ms_per_request": 0.2}} for s in found["steps"])
    assert all("slow_windows" not in s for s in found["steps"] if s["ok"])


def test_the_report_names_the_rates_tried_twice_and_the_cpu_at_the_highest_passing_rate() -> None:
    step, _ = driven(capacity=2000, noisy=[0])
    found = run(step)
    for s in found["steps"]:
        s["cpu_by_process"] = {"edge": {"ms_per_request": 0.2, "cores": 1.1, "per_process": {"1": 5.0, "2": 6.0}}}
    line = search_line(found, "edge")
    assert line.startswith("rates tried twice: 1,000/s, 2,062/s, 2,250/s;")  # the bisection: 1,875 ok, 2,062 not
    assert "at 1,875/s 0.2 ms of CPU a request, 1.1 cores (by process: 6 s, 5 s)" in line
