"""Latencies in an HdrHistogram (the ``hdrhistogram`` package, from ``make bench``'s ``bench`` extra).

Values are recorded in microseconds and reported in milliseconds. Without the package (``make test``
installs only the test extra) an exact list-based fallback with the same interface stands in: the
smoke test records a few dozen values, where exact percentiles are as good.
"""
from __future__ import annotations

import math
from typing import Any

# The percentile set of the curves (and of autocannon's own summary), as fractions of 100.
CURVE_PERCENTILES = (0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 97.5, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999, 100.0)
HIGHEST_US = 120_000_000  # two minutes


class LatencyHistogram:
    def __init__(self) -> None:
        self._hdr: Any = None
        self._values: list[int] = []
        try:
            from hdrh.histogram import HdrHistogram
        except ImportError:
            return
        self._hdr = HdrHistogram(1, HIGHEST_US, 3)

    @property
    def kind(self) -> str:
        return "hdrhistogram" if self._hdr is not None else "exact (hdrhistogram not installed)"

    def record_us(self, value_us: float) -> None:
        value = max(1, min(HIGHEST_US, int(round(value_us))))
        if self._hdr is not None:
            self._hdr.record_value(value)
        else:
            self._values.append(value)

    def record_ms(self, value_ms: float) -> None:
        self.record_us(value_ms * 1000)

    @property
    def count(self) -> int:
        return int(self._hdr.get_total_count()) if self._hdr is not None else len(self._values)

    def percentile_ms(self, percentile: float) -> float | None:
        if self.count == 0:
            return None
        if self._hdr is not None:
            value = self._hdr.get_max_value() if percentile >= 100 else self._hdr.get_value_at_percentile(percentile)
            return float(value) / 1000
        ordered = sorted(self._values)
        rank = max(1, math.ceil(percentile / 100 * len(ordered)))  # nearest rank, as HdrHistogram does
        return ordered[min(rank, len(ordered)) - 1] / 1000

    def summary(self) -> dict[str, Any]:
        """p50/p90/p99/p99.9/max in ms and the curve ``[[percentile, ms], ...]``."""
        return summary_from(self.percentile_ms, self.count)


def summary_from(percentile_ms: Any, count: int) -> dict[str, Any]:
    def at(p: float) -> float | None:
        value = percentile_ms(p)
        return None if value is None else round(value, 3)

    return {"count": count, "p50_ms": at(50), "p90_ms": at(90), "p99_ms": at(99), "p999_ms": at(99.9),
            "max_ms": at(100), "curve": [[p, at(p)] for p in CURVE_PERCENTILES] if count else []}
