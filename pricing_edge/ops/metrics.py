"""Prometheus metrics, one registry per app instance (tests build many apps in one process)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class EdgeMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.request_seconds = Histogram("pricing_edge_request_seconds", "Edge request latency by route",
                                         ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.cache = Counter("pricing_edge_cache_lookups_total",
                             "Cache lookups by tier (l1, l2, response, skeleton) and result (hit, miss)",
                             ["tier", "kind", "result"], registry=r)
        self.erp_reads = Counter("pricing_edge_erp_reads_total", "Reads from the ERP adapter by kind and outcome",
                                 ["kind", "outcome"], registry=r)
        self.client_limited = Counter("pricing_edge_client_limited_total",
                                      "Requests refused with 429 by a per-client limit", ["limit"], registry=r)
        self.erp_keys = Counter("pricing_edge_erp_keys_read_total", "Record keys asked of the ERP", ["kind"],
                                registry=r)
        self.upstream_calls = Counter("pricing_edge_upstream_calls_total", "Calls to the BigCommerce upstream",
                                      ["purpose", "outcome"], registry=r)
        self.events = Counter("pricing_edge_events_total",
                              "ERP events by type and result (accepted, duplicate, rejected, applied, ignored)",
                              ["type", "result"], registry=r)
        self.webhooks = Counter("pricing_edge_bigcommerce_webhooks_total",
                                "BigCommerce webhooks by scope and outcome (accepted, duplicate, unauthorized, "
                                "rejected, unavailable)", ["scope", "outcome"], registry=r)
        self.invalidations = Counter("pricing_edge_invalidations_total", "L1 entries dropped by invalidation",
                                     ["cache"], registry=r)
        self.reprojections = Counter("pricing_edge_answer_reprojections_total",
                                     "Kept answers re-projected (their changed owned fields and flags anew, edge/holes.py) "
                                     "instead of recomputed, by outcome (kept, served: not kept)", ["outcome"], registry=r)
        self.reprojected_sites = Counter("pricing_edge_answer_reprojected_sites_total",
                                         "Owned fields projected again by re-projections: the dirty ones and those whose "
                                         "records now show another value (a renewal that finds none changed adds none)",
                                         registry=r)
        self.answers_computed = Counter("pricing_edge_answers_computed_total",
                                        "Shareable answers computed anew (skeleton, overlay, render), neither served "
                                        "kept nor re-projected", registry=r)
        self.answer_misses = Counter(
            "pricing_edge_answer_misses_total",
            "Answer-cache lookups with no answer to serve as kept, by why: first (none kept here lately), evicted "
            "(dropped for room), changed (an invalidation marked it), expired (its records past their TTL and "
            "stale window: re-projected), catalog (its catalog part ended: computed anew)", ["reason"], registry=r)
        self.synthesized = Counter("pricing_edge_synthesized_answers_total",
                                   "Prices-only documents answered from the catalog index without the upstream",
                                   registry=r)
        self.breaker = Gauge("pricing_edge_breaker_state", "Circuit breaker state per dependency (1 = current)",
                             ["dependency", "state"], registry=r)
        self.cart_repricing = Counter(
            "pricing_edge_cart_repricing_total",
            "Cart mutations whose lines were set to the buyer's ERP prices (ok) or could not be (failed: error answered)",
            ["outcome"], registry=r)
        self.cart_refusals = Counter(
            "pricing_edge_cart_refusals_total",
            "Cart mutations refused because stock could not be confirmed in time (never sold blind), by reason",
            ["reason"], registry=r)
        self.redis_down_carts = Counter(
            "pricing_edge_redis_down_cart_decisions_total",
            "Add-to-cart decided by the Redis-down rule (last known stock must cover the quantity by the factor)",
            ["outcome"], registry=r)
        self.l1_bytes = Gauge("pricing_edge_l1_bytes", "Estimated bytes the in-process cache (L1) holds, by kind",
                              ["kind"], registry=r)
        self.cache_bytes = Gauge("pricing_edge_cache_bytes",
                                 "Estimated bytes a memory-bounded in-process cache holds (answer, skeleton, "
                                 "catalog_index, listing_membership; the records' L1: pricing_edge_l1_bytes)", ["cache"], registry=r)
        self.cache_evictions = Counter("pricing_edge_cache_evictions_total",
                                       "Entries a memory-bounded in-process cache evicted to stay within its bound",
                                       ["cache"], registry=r)
        self.degraded = Gauge("pricing_edge_degraded", "1 while a dependency is degraded", ["dependency"],
                              registry=r)
        # Pre-bound children: the hit path pays for one increment, not a label lookup.
        self.response_hit = self.cache.labels("response", "graphql", "hit")
        self.response_miss = self.cache.labels("response", "graphql", "miss")
        self.graphql_seconds = self.request_seconds.labels("/graphql")

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """A sample's current value (0 when absent): for tests and the ops API."""
        found = self.registry.get_sample_value(name, labels or {})
        return found or 0.0
