"""What each edge process tells the ops dashboard: its hit ratios, ERP reads and breaker states.

Every edge process publishes a small snapshot on the store's ``ops:edges`` channel every few seconds (its
Prometheus counters, read in place, and ratios over the last minute); each worker keeps the latest one per
process (:class:`EdgeBoard`) and serves them at ``GET /ops/edges``. A process that stops publishing is shown
as silent, then forgotten. Nothing here is on a request's path.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson

from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import Store, StoreError

log = logging.getLogger(__name__)
CHANNEL = "ops:edges"
INTERVAL_SECONDS = 5.0
WINDOW_SECONDS = 60.0
SILENT_AFTER = 3 * INTERVAL_SECONDS
FORGET_AFTER = 120.0
Counters = dict[str, float]


def counters(metrics: EdgeMetrics) -> Counters:
    """The figures the dashboard shows, summed over the labels it does not."""
    wanted = {"pricing_edge_cache_lookups_total": ("tier", "kind", "result"),
              "pricing_edge_erp_reads_total": ("outcome",), "pricing_edge_erp_keys_read_total": (),
              "pricing_edge_upstream_calls_total": ("outcome",), "pricing_edge_events_total": ("result",)}
    out: Counters = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == "pricing_edge_request_seconds_count" and sample.labels.get("route") == "/graphql":
                out["requests"] = sample.value
            labels = wanted.get(sample.name)
            if labels is None:
                continue
            key = ":".join([sample.name.removeprefix("pricing_edge_").removesuffix("_total"),
                            *(sample.labels.get(label, "") for label in labels)])
            out[key] = out.get(key, 0.0) + sample.value
    return out


def _ratio(hits: float, misses: float) -> float | None:
    return round(hits / (hits + misses), 4) if hits + misses else None


def figures(now: Counters, before: Counters) -> dict[str, Any]:
    """Hit ratios and ERP reads over the window between two readings."""
    def d(key: str) -> float:
        return now.get(key, 0.0) - before.get(key, 0.0)

    def lookups(tier: str, kind: str) -> dict[str, Any]:
        return {"hits": d(f"cache_lookups:{tier}:{kind}:hit"), "misses": d(f"cache_lookups:{tier}:{kind}:miss"),
                "ratio": _ratio(d(f"cache_lookups:{tier}:{kind}:hit"), d(f"cache_lookups:{tier}:{kind}:miss"))}

    return {"requests": d("requests"),
            "answers": lookups("response", "graphql"),
            "prices_l1": lookups("l1", "price"), "prices_l2": lookups("l2", "price"),
            "stock_l1": lookups("l1", "stock"), "stock_l2": lookups("l2", "stock"),
            "erp_reads": {outcome: d(f"erp_reads:{outcome}") for outcome in
                          ("ok", "error", "breaker_open", "over_budget")},
            "erp_keys_read": d("erp_keys_read:"),
            "upstream_calls": {k.split(":", 1)[1]: d(k) for k in now if k.startswith("upstream_calls:")},
            "events_applied": d("events:applied")}


class SnapshotPublisher:
    """One per edge process; ``breakers()`` gives the current (erp, upstream) states."""

    def __init__(self, store: Store, metrics: EdgeMetrics, instance: str, breakers: Callable[[], dict[str, str]],
                 interval: float = INTERVAL_SECONDS) -> None:
        self.store = store
        self.metrics = metrics
        self.instance = instance
        self.breakers = breakers
        self.interval = interval
        self.started = time.time()
        self.readings: deque[tuple[float, Counters]] = deque()

    def snapshot(self) -> dict[str, Any]:
        now, current = time.monotonic(), counters(self.metrics)
        self.readings.append((now, current))
        while len(self.readings) > 1 and self.readings[0][0] < now - WINDOW_SECONDS:
            self.readings.popleft()
        window = now - self.readings[0][0]
        return {"instance": self.instance, "at": time.time(), "up_seconds": round(time.time() - self.started),
                "store": self.store.kind, "breakers": self.breakers(), "window_seconds": round(window, 1),
                "window": figures(current, self.readings[0][1]), "total": figures(current, {})}

    async def run(self) -> None:
        while True:
            try:
                await self.store.publish(CHANNEL, orjson.dumps(self.snapshot()))
            except StoreError as exc:
                log.debug("ops snapshot not published: %s", exc)
            await asyncio.sleep(self.interval)


class EdgeBoard:
    """The worker's view: the latest snapshot of every edge process that spoke recently."""

    def __init__(self) -> None:
        self.latest: dict[str, dict[str, Any]] = {}

    def take(self, raw: bytes) -> None:
        try:
            snapshot = orjson.loads(raw)
            self.latest[str(snapshot["instance"])] = snapshot
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("ops: an unreadable edge snapshot was ignored")

    def edges(self, now: float | None = None) -> list[dict[str, Any]]:
        now = time.time() if now is None else now
        for instance in [i for i, s in self.latest.items() if now - float(s.get("at", 0)) > FORGET_AFTER]:
            del self.latest[instance]
        return [{**snapshot, "age_seconds": round(now - float(snapshot.get("at", 0)), 1),
                 "silent": now - float(snapshot.get("at", 0)) > SILENT_AFTER}
                for _, snapshot in sorted(self.latest.items())]

    async def run(self, store: Store) -> None:
        delay = 0.5
        while True:
            try:
                async for raw in store.subscribe(CHANNEL):
                    delay = 0.5
                    self.take(raw)
            except StoreError as exc:
                log.warning("ops: edge snapshots unavailable (%s); resubscribing in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
