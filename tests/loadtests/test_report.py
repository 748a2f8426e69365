"""The report names every target as met or not, issue #20's events targets included."""
from __future__ import annotations

from typing import Any

from loadtests.report import targets


def report(p99: float, visible_p99: float, edge: int, limit: int, rate: float = 1000.0) -> dict[str, Any]:
    return {"settings": {"event_rate": 50.0},
            "scenarios": {"events": {"rate": rate, "p99_ms": p99, "errors": 0}},
            "event_to_visible": {"p50_ms": 10.0, "p99_ms": visible_p99, "not_visible_within_s": {"count": 0}},
            "max_rate": {"edge": {"max_rate": edge}, "limit": {"max_rate": limit}, "edge_share_of_limit": edge / limit}}


def met(checks: list[dict[str, Any]]) -> dict[str, bool | None]:
    return {check["target"]: check["met"] for check in checks}


def test_the_events_targets_are_met_within_their_bounds() -> None:
    found = met(targets(report(p99=4.9, visible_p99=99.0, edge=9_000, limit=10_000)))
    assert found["plp p99 at 1,000/s under 50 ERP events/s"] is True
    assert found["event-to-visible p99 (slowest process), #20"] is True
    assert found["max plp rate with p99 ≤ 25 ms vs the limit's, #20"] is True


def test_the_events_targets_are_missed_past_their_bounds_or_at_another_rate() -> None:
    found = met(targets(report(p99=5.1, visible_p99=101.0, edge=8_900, limit=10_000)))
    assert found["plp p99 at 1,000/s under 50 ERP events/s"] is False
    assert found["event-to-visible p99 (slowest process), #20"] is False
    assert found["max plp rate with p99 ≤ 25 ms vs the limit's, #20"] is False
    assert met(targets(report(p99=1.0, visible_p99=1.0, edge=1, limit=1, rate=500.0)))[
        "plp p99 at 1,000/s under 50 ERP events/s"] is False
