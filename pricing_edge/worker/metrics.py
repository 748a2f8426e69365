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
        self.total_mismatches = Counter("pricing_edge_order_total_mismatches_total",
                                        "Orders whose ERP total (computed from what it received) differs from "
                                        "BigCommerce's to the cent", registry=r)
        self.orders_polled = Counter("pricing_edge_orders_polled_total",
                                     "Orders the order poller found, by what it did (queued: no webhook had synced "
                                     "that version; skipped; duplicate)", ["result"], registry=r)
        self.order_polls = Counter("pricing_edge_order_polls_total", "Order polls, by outcome (ok, failed, crashed)",
                                   ["outcome"], registry=r)
        self.hooks_reactivated = Counter("pricing_edge_webhooks_reactivated_total",
                                         "ALERT: webhooks BigCommerce had deactivated (deliveries kept failing) "
                                         "that the worker re-activated, by scope", ["scope"], registry=r)
        self.hooks_inactive = Gauge("pricing_edge_webhooks_inactive",
                                    "Our webhooks found deactivated at the last check (before re-activating)",
                                    registry=r)
        gauge = {
            "depth": "Messages queued (in flight included)",
            "lag_seconds": "Age of the oldest queued message",
            "in_flight": "Entities being handled right now",
            "retries_waiting": "Entities waiting for a retry",
            "dead_letters": "Messages in the dead-letter stream",
            "held": "Entries held rather than synced (orders: on a credit hold until the ERP's credit allows them)",
            "last_success_timestamp_seconds": "When a message last succeeded (Unix time)",
        }
        self.queue = {name: Gauge(f"pricing_edge_worker_{name}", text, ["flow"], registry=r)
                      for name, text in gauge.items()}

    def render(self) -> bytes:
        return generate_latest(self.registry)
