"""Every key, stream and channel name in one place, under one prefix (``pe:`` by default).

Redis Cluster runs a script or a multi-key command only when every key it touches hashes to one
slot, and only the part of a name between the first ``{`` and the next ``}`` (the *hash tag*) is
hashed when there is one. So every group of keys one operation touches together carries one tag:

| what | tag (one slot per) | keys under it |
|---|---|---|
| an intake stream | ``{intake:erp}`` | the stream, its delivery dedup keys |
| a flow's work queue | ``{wq:orders}`` | ready index, owners, retrying, lag index, depth, stats, dead letters, every entity's queue, routing dedup keys |
| a flow's ledger | ``{ledger:orders}`` | every entry (BigCommerce side) and its ERP-side pointer, so ``link`` checks both ways at once |
| one SKU's reservations | ``{resv:<sku>}`` | holder → quantity, holder → expiry |
| one store's REST quota | ``{quota:<store_hash>}`` | requests left, window reset, quota, window length |

Everything else is one key per operation (records, values, locks, leases, a holder's SKU set) and
needs no tag: it spreads over the whole cluster. The prefix stays outside the tags (``pe:{wq:orders}:ready``)
so one prefix's keys are still found with ``SCAN MATCH pe:*``; a prefix may not contain braces,
which would turn it into a tag of its own and put every key in one slot.
"""
from __future__ import annotations

from dataclasses import dataclass

ERP_INTAKE = "intake:erp"
BIGCOMMERCE_INTAKE = "intake:bigcommerce"
ERP_SIGNALS = "intake:erp-signals"  # an ERP's own events, for its change source (``intake.erp_signals``)
INVALIDATION = "invalidate"
CACHE_UPDATER_GROUP = "edge-cache-updater"
WORKER_GROUP = "worker"


@dataclass(frozen=True)
class Keys:
    prefix: str = "pe:"

    def __post_init__(self) -> None:
        if "{" in self.prefix or "}" in self.prefix:
            raise ValueError(f"PRICING_EDGE_REDIS_PREFIX may not contain '{{' or '}}' (a Redis Cluster hash tag "
                             f"would put every key in one slot): {self.prefix!r}")

    # -- records and small values: one key per operation ----------------------------------------
    def price(self, price_list_id: int, currency: str, sku: str) -> str:
        return f"{self.prefix}price:{price_list_id}:{currency}:{sku}"

    def stock(self, sku: str) -> str:
        return f"{self.prefix}stock:{sku}"

    def credit(self, company_id: int) -> str:
        return f"{self.prefix}credit:{company_id}"

    def customer(self, customer_id: int) -> str:
        return f"{self.prefix}customer:{customer_id}"

    def value(self, key: str) -> str:
        return f"{self.prefix}v:{key}"

    def rest_quota(self, store_hash: str) -> str:
        """One store's REST API quota window, shared by every REST caller (``store/rest_quota.py``)."""
        return f"{self.prefix}{{quota:{store_hash}}}"

    def lock(self, name: str) -> str:
        return self.value(f"lock:{name}")

    def lease(self, name: str) -> str:
        return f"{self.prefix}lease:{name}"

    def channel(self, name: str) -> str:
        return f"{self.prefix}{name}"

    # -- streams: the stream and its dedup keys share the stream's tag ---------------------------
    def stream(self, name: str) -> str:
        return f"{self.prefix}{{{name}}}"

    def dedup(self, stream: str, dedup_key: str) -> str:
        return f"{self.stream(stream)}:dedup:{dedup_key}"

    # -- a flow's work queue: one tag per flow ---------------------------------------------------
    def queue(self, flow: str, part: str) -> str:
        """``part``: ready, owners, retrying, since, depth, stats or dlq."""
        return f"{self.prefix}{{wq:{flow}}}:{part}"

    def entity_queue(self, flow: str, entity: str) -> str:
        return self.queue(flow, f"q:{entity}")

    def routed(self, flow: str, dedup_key: str) -> str:
        """Marks an intake entry routed into ``flow`` (so a re-routed entry is not queued twice)."""
        return self.queue(flow, f"routed:{dedup_key}")

    # -- a flow's ledger: one tag per flow -------------------------------------------------------
    def ledger_bc(self, flow: str, bc_id: str) -> str:
        return f"{self.prefix}{{ledger:{flow}}}:bc:{bc_id}"

    def ledger_erp(self, flow: str, erp_id: str) -> str:
        return f"{self.prefix}{{ledger:{flow}}}:erp:{erp_id}"

    def ledger_status(self, flow: str, status: str) -> str:
        """The BigCommerce ids of a flow's entries in one of the ledger's indexed statuses (``held``)."""
        return f"{self.prefix}{{ledger:{flow}}}:status:{status}"

    # -- reservations: one tag per SKU; a holder's SKU set is a key of its own -------------------
    def held(self, sku: str) -> str:
        """HASH holder → quantity."""
        return f"{self.prefix}{{resv:{sku}}}:q"

    def expiries(self, sku: str) -> str:
        """ZSET holder → expiry (ms)."""
        return f"{self.prefix}{{resv:{sku}}}:e"

    def holder(self, holder: str) -> str:
        """SET of the SKUs ``holder`` holds (or held)."""
        return f"{self.prefix}resv:h:{holder}"
