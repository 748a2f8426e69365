"""Event-to-visible latency: ERP price and stock changes at a steady rate (during ``plp`` load), each
timed from the moment the edge accepted its event (the 202 — the ERP simulator's outbox records when
its delivery got it: ``delivered_at``) to the first answer carrying the new value, at every edge process.

Each change is made through the ERP simulator (``POST /_sim/changes/price|stock?wait_ms=``), which
emits one signed event to the edge and answers once the edge has accepted it (held by an event, not
polled: one ERP request per change). Polling starts then — nothing is visible before the edge has the
event — over connections pinned to each edge process (``instances.pin``, one aiohttp socket
each, ``harness_http``), with a small product document (``scenarios.PROBE``) whose answer the edge
caches as bytes and invalidates by the same tags as the category pages. An event's latency is the
slowest process's; the per-process figures are reported too. Aggregated in HdrHistogram.

Each figure is the receipt of the first answer showing the value, so it can be late by the time since
the answer before (the poll interval plus a probe's round trip) or, when the very first probe already
shows it, by how late the harness learned of the 202. Both are reported: ``resolution_ms`` (per
process and event, the span the visibility is known to lie in) and ``notice_ms`` (the 202's
``delivered_at`` to the harness holding the answer), and ``shown_by_first_probe`` counts the latter case.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from loadtests.histogram import LatencyHistogram
from loadtests.harness_http import HttpError, Pool
from loadtests.instances import Pinned
from loadtests.scenarios import Buyer, Catalog, Request
from pricing_edge.sim.dataset import Product

POLL_INTERVAL = 0.005
VISIBLE_TIMEOUT = 10.0
WAIT_MS = int(VISIBLE_TIMEOUT * 1000)  # the ERP simulator holds a change's answer until delivered, this long at most


@dataclass
class EventStats:
    overall: LatencyHistogram = field(default_factory=LatencyHistogram)
    per_instance: dict[str, LatencyHistogram] = field(default_factory=lambda: defaultdict(LatencyHistogram))
    counts: Counter[str] = field(default_factory=Counter)
    resolution: LatencyHistogram = field(default_factory=LatencyHistogram)
    notice: LatencyHistogram = field(default_factory=LatencyHistogram)
    earliest_ms: float | None = None
    samples: list[str] = field(default_factory=list)

    def report(self, rate: float) -> dict[str, Any]:
        summary = self.overall.summary()
        return {
            "rate": rate, "events": self.counts["emitted"], "measured": summary["count"],
            "p50_ms": summary["p50_ms"], "p90_ms": summary["p90_ms"], "p99_ms": summary["p99_ms"],
            "p999_ms": summary["p999_ms"], "max_ms": summary["max_ms"], "curve": summary["curve"],
            "per_instance": {name: {k: v for k, v in h.summary().items() if k != "curve"}
                             for name, h in sorted(self.per_instance.items())},
            "by_kind": {k: self.counts[k] for k in ("price", "stock")},
            "not_visible_within_s": {"timeout_s": VISIBLE_TIMEOUT, "count": self.counts["not_visible"]},
            "not_accepted": self.counts["not_accepted"], "change_errors": self.counts["change_errors"],
            "earliest_ms": self.earliest_ms, "poll_interval_ms": POLL_INTERVAL * 1000,
            # how precise each figure is: the span its visibility is known to lie in, per process and event
            "resolution_ms": _brief(self.resolution), "notice_ms": _brief(self.notice),
            "shown_by_first_probe": self.counts["first_probe"],
            # the harness's own requests to the edge (probes) and to the ERP simulator (changes, outbox
            # status): load on the system beside the plp traffic, counted in the edge's CPU too
            "probe_requests": self.counts["polls"], "probe_errors": self.counts["poll_errors"],
            "erp_requests": self.counts["erp_requests"],
            "histogram": self.overall.kind, "samples": self.samples[:5],
        }


def _brief(histogram: LatencyHistogram) -> dict[str, Any]:
    summary = histogram.summary()
    return {k: summary[k] for k in ("count", "p50_ms", "p90_ms", "p99_ms", "max_ms")}


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class EventRun:
    """Emits changes at ``rate`` for ``duration`` seconds and times their visibility."""

    def __init__(self, catalog: Catalog, erp_url: str, pinned: Pinned, targets: list[Product]) -> None:
        self.catalog = catalog
        self.erp_url = erp_url
        self.pinned = pinned
        self.targets = [p for p in targets if not p.has_variants]
        if not self.targets:
            raise ValueError("no simple products on the category pages to change")
        self.stats = EventStats()
        # ERP stock per (sku, location) as available-to-sell, kept as the harness changes it
        self.available: dict[tuple[str, int], int] = {}
        # the values set per record key, oldest first: a newer change of the same record also "shows" an older one
        self.history: dict[tuple[Any, ...], list[Any]] = defaultdict(list)

    async def prime(self) -> None:
        """Every probe answer cached at every process first, as the category pages are under load."""
        probes = [self.catalog.probe(buyer, product) for product in self.targets for buyer in self.catalog.buyers]

        await asyncio.gather(*(self.pinned.ask(i, r.body, r.headers) for i in self.pinned.instances for r in probes))

    async def run(self, rate: float, duration: float) -> dict[str, Any]:
        erp = Pool(self.erp_url)
        try:
            tasks = []
            started = time.perf_counter()
            for index in range(max(1, round(rate * duration))):
                delay = started + index / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(self.one(erp, index)))
            await asyncio.gather(*tasks)
        finally:
            await erp.aclose()
        return self.stats.report(rate)

    def _change(self, index: int) -> tuple[str, dict[str, Any], tuple[Any, ...], Any, Buyer]:
        product = self.targets[(index // 2) % len(self.targets)]
        buyer = self.catalog.buyers[(index // 2) % len(self.catalog.buyers)]
        sku = product.default_variant.sku
        if index % 2 == 0:
            price = Decimal(700 + index // 100) + Decimal(index % 100) / 100
            key: tuple[Any, ...] = ("price", buyer.price_list_id, sku)
            self.catalog.truth.changed_prices.setdefault((buyer.price_list_id, sku), set()).add(price)
            return "price", {"price_list_id": buyer.price_list_id, "sku": sku, "currency": "USD",
                             "price": str(price), "sale_price": None}, key, price, buyer
        levels = {level.location_id: level for level in self.catalog.dataset.stock_for(sku)}
        for location_id, level in levels.items():
            self.available.setdefault((sku, location_id), level.available_to_sell)
        main = levels[1]
        on_hand = main.allocated + main.safety_stock + 5000 + index
        self.available[(sku, 1)] = on_hand - main.allocated - main.safety_stock
        total = sum(self.available[(sku, location_id)] for location_id in levels)
        self.catalog.truth.changed_stock.setdefault(sku, set()).add(total)
        return "stock", {"sku": sku, "location_id": 1, "on_hand": on_hand}, ("stock", sku), total, buyer

    def _shows(self, answer: Any, kind: str, key: tuple[Any, ...], position: int) -> bool:
        node = (((answer or {}).get("data") or {}).get("site") or {}).get("product") or {}
        wanted = self.history[key][position:]
        if kind == "price":
            value = ((node.get("prices") or {}).get("price") or {}).get("value")
            return value is not None and Decimal(str(value)) in wanted
        return ((node.get("inventory") or {}).get("aggregated") or {}).get("availableToSell") in wanted

    async def one(self, erp: Pool, index: int) -> None:
        kind, change, key, value, buyer = self._change(index)
        product = self.targets[(index // 2) % len(self.targets)]
        self.history[key].append(value)
        position = len(self.history[key]) - 1
        probe = self.catalog.probe(buyer, product)
        self.stats.counts["emitted"] += 1
        self.stats.counts[kind] += 1
        accepted = await self._accepted(erp, kind, change)
        if accepted is None:
            self.stats.counts["not_accepted"] += 1
            return
        self.stats.notice.record_ms(max(0.0, (time.time() - accepted) * 1000))
        instances = self.pinned.instances
        found = await asyncio.gather(*(self._first_seen(i, probe, kind, key, position, accepted) for i in instances))
        seen = dict(zip(instances, found, strict=True))
        if any(t is None for t in seen.values()):
            self.stats.counts["not_visible"] += 1
            self.stats.samples.append(f"{kind} {change} not visible at {[i for i, t in seen.items() if t is None]}")
            return
        latencies = {instance: (t - accepted) * 1000 for instance, t in seen.items() if t is not None}
        for instance, latency in latencies.items():
            self.stats.per_instance[instance].record_ms(max(0.0, latency))
        worst = max(latencies.values())
        self.stats.earliest_ms = worst if self.stats.earliest_ms is None else min(self.stats.earliest_ms, worst)
        self.stats.overall.record_ms(max(0.0, worst))

    async def _accepted(self, erp: Pool, kind: str, change: dict[str, Any]) -> float | None:
        """When the edge answered 202 to the event (the outbox's ``delivered_at``): the simulator answers
        the change once the event is delivered, through its retries (``wait_ms``)."""
        try:
            answer = await erp.post_json(f"/_sim/changes/{kind}?wait_ms={WAIT_MS}", change)
        except HttpError as exc:  # the ERP simulator did not answer the harness (a starved machine)
            self.stats.counts["change_errors"] += 1
            self.stats.samples.append(f"change {change}: {exc}")
            return None
        self.stats.counts["erp_requests"] += 1
        if answer.status_code != 200:
            self.stats.counts["change_errors"] += 1
            self.stats.samples.append(f"change {change}: {answer.status_code} {answer.text[:200]}")
            return None
        entry = answer.json()["event"]
        if entry["status"] != "delivered" or not entry.get("delivered_at"):
            self.stats.samples.append(f"event {entry['id']}: {entry['status']} {entry.get('last_error')}")
            return None
        return _epoch(entry["delivered_at"])

    async def _first_seen(self, instance: str, probe: Request, kind: str, key: tuple[Any, ...],
                          position: int, accepted: float) -> float | None:
        """When an answer from ``instance`` first showed the value (its receipt), polling from now — the
        harness has just learnt of the 202 — every ``POLL_INTERVAL``. Records the figure's resolution: from
        the sending of the last probe that did not show it (or the 202, if the first did) to that receipt."""
        not_before, first = accepted, True
        try:
            async with asyncio.timeout(VISIBLE_TIMEOUT):
                while True:
                    try:
                        answer = await self.pinned.ask(instance, probe.body, probe.headers)
                    except HttpError:  # the edge did not answer this probe (reset, timeout): the next one may
                        self.stats.counts["poll_errors"] += 1
                    else:
                        now = time.time()
                        self.stats.counts["polls"] += 1
                        if answer.status_code == 200:
                            if self._shows(orjson.loads(answer.content), kind, key, position):
                                self.stats.resolution.record_ms(max(0.0, (now - not_before) * 1000))
                                self.stats.counts["first_probe"] += first
                                return now
                            not_before, first = answer.sent_at, False  # not visible when the edge read it
                    await asyncio.sleep(POLL_INTERVAL)
        except TimeoutError:
            return None
