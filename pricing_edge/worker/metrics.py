"""The worker's Prometheus metrics: what it did (counters) and how its queues stand (gauges,
refreshed from the queue by the ops snapshot, the same figures ``pricing-edge ops status`` prints)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from pricing_edge.ops.metrics import LATENCY_BUCKETS


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.routed = Counter("pricing_edge_worker_routed_total", "Intake entries routed, by source, flow and result",
                              ["source", "flow", "result"], registry=r)
        self.processed = Counter("pricing_edge_worker_messages_total",
                                 "Messages handled, by flow and outcome (ok, retry, dead_letter, needs_attention)",
                                 ["flow", "outcome"], registry=r)
        self.handle_seconds = Histogram("pricing_edge_worker_handle_seconds", "Time to handle one message",
                                        ["flow"], buckets=LATENCY_BUCKETS, registry=r)
        self.price_mismatches = Counter("pricing_edge_order_price_mismatches_total",
                                        "Order lines whose unit price differed from the ERP's for that buyer",
                                        registry=r)
        self.orders_posted = Counter("pricing_edge_orders_posted_total",
                                     "Orders by what posting them did (created, found, updated, skipped)",
                                     ["result"], registry=r)
        gauge = {
            "depth": "Messages queued (in flight included)",
            "lag_seconds": "Age of the oldest queued message",
            "in_flight": "Entities being handled right now",
            "retries_waiting": "Entities waiting for a retry",
            "dead_letters": "Messages in the dead-letter stream",
            "last_success_timestamp_seconds": "When a message last succeeded (Unix time)",
        }
        self.queue = {name: Gauge(f"pricing_edge_worker_{name}", text, ["flow"], registry=r)
                      for name, text in gauge.items()}

    def render(self) -> bytes:
        return generate_latest(self.registry)
