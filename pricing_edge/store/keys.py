"""Every key, stream and channel name in one place, under one prefix (``pe:`` by default)."""
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

    def stream(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def dedup(self, stream: str, dedup_key: str) -> str:
        return f"{self.prefix}dedup:{stream}:{dedup_key}"

    def channel(self, name: str) -> str:
        return f"{self.prefix}{name}"
