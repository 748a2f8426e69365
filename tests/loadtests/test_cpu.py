"""Where a run's CPU went, by part of the system: the figure the events scenario is explained by."""
from __future__ import annotations

import asyncio
import os

import pytest

from loadtests import cpu


def test_cpu_by_process_is_each_groups_spending_per_unit_of_work() -> None:
    before = {"edge": {10: 1.0, 11: 2.0}, "redis": {20: 5.0}}
    after = {"edge": {10: 3.0, 11: 2.5, 12: 0.5}, "redis": {20: 5.4}}  # 12: a worker started meanwhile
    found = cpu.by_process(before, after, wall_s=2.0, per={"request": 1000, "event": 100})
    assert found["edge"]["cpu_s"] == 3.0 and found["edge"]["cores"] == 1.5
    assert found["edge"]["per_process"] == {"10": 2.0, "11": 0.5, "12": 0.5}
    assert found["edge"]["ms_per_request"] == 3.0 and found["edge"]["ms_per_event"] == 30.0
    assert found["redis"]["cpu_s"] == 0.4 and found["redis"]["ms_per_event"] == 4.0


def test_this_process_is_sampled_from_proc() -> None:
    sampled = cpu.sample({"me": [os.getpid()]})
    assert os.getpid() in sampled["me"] and sampled["me"][os.getpid()] > 0


def test_the_report_says_where_the_events_runs_cpu_went() -> None:
    from loadtests.report import cpu_lines

    live = {"cpu_by_process": {"edge": {"cpu_s": 12.0, "cores": 1.0, "ms_per_event": 24.0},
                               "redis": {"cpu_s": 1.2, "cores": 0.1, "ms_per_event": 2.4},
                               "generator": {"cpu_s": 2.0}, "harness": {"cpu_s": 3.0}, "wall_s": 12.0}}
    line = cpu_lines(live)[-1]
    assert "edge 1.00 cores (24.00 ms per event)" in line and "redis 0.10 cores" in line
    assert "generator 2.00 CPU-s" in line and "harness 3.00 CPU-s" in line
    assert cpu_lines({}) == [] and cpu_lines(None) == []


def test_the_per_event_cpu_figures_are_measured() -> None:
    from loadtests.event_cpu import measure

    figures = measure(rounds=3)
    assert set(figures) == {"intake_one_event_us", "invalidation_apply_price_us", "store_read_price_us",
                            "store_read_stock_level_us"}
    assert all(value > 0 for value in figures.values())


@pytest.mark.bench  # the demo's simulators and an edge in process for ~half a minute: `make bench` runs it
def test_the_cpu_an_event_costs_the_kept_answers_is_measured() -> None:
    from loadtests.answers_event_cpu import measure
    from loadtests.hit_cpu import simulators

    with simulators() as layout:
        found = asyncio.run(measure(layout, 4))
    assert set(found) == {"cpu_us", "reprojected", "computed", "sites", "asked", "hit_cpu_us"}
    assert found["reprojected"] > 0 and found["asked"] > 0  # each event touched kept answers
