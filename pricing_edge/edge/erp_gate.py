"""Every ERP read of the edge goes through one circuit breaker, whose state /readyz and the answers' flags
report (``ErpGate``)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState

from pricing_edge.call_health import CallHealth
from pricing_edge.ops.metrics import EdgeMetrics

V = TypeVar("V")
ERP = "erp"


class ErpGate:
    """Every ERP read goes through one circuit breaker (purgatory): after repeated failures it opens,
    calls fail fast, and after its TTL one probe (half-open) decides whether to close again."""

    def __init__(self, metrics: EdgeMetrics, threshold: int = 5, reset_seconds: float = 10.0,
                 budget: float = 0.15) -> None:
        self.factory = AsyncCircuitBreakerFactory(default_threshold=threshold, default_ttl=reset_seconds)
        self.metrics = metrics
        self.state = "closed"
        self.reset_seconds = reset_seconds
        self.health = CallHealth(slow_after=budget)  # a median read past the budget: slow (/readyz says so)
        self.on_closed: list[Callable[[], None]] = []  # told when a probe succeeds and the breaker closes

    async def call(self, kind: str, read: Callable[[], Awaitable[V]]) -> V:
        breaker = await self.factory.get_breaker(ERP)
        try:
            async with breaker, self.health.timed():
                result = await read()
        except OpenedState:
            self.metrics.erp_reads.labels(kind, "breaker_open").inc()
            raise
        finally:
            self._publish(breaker.context.state)
        self.metrics.erp_reads.labels(kind, "ok").inc()
        return result

    def _publish(self, state: str) -> None:
        recovered = state == "closed" and self.state != "closed"
        self.state = state
        if recovered:
            for listener in self.on_closed:
                listener()
        for name in ("closed", "half-opened", "opened"):
            self.metrics.breaker.labels(ERP, name).set(1 if name == state else 0)
