"""Everything the REST Admin side of the simulator keeps (``app.state.admin``): the store's identity and
credentials, orders, hooks, the webhook emitter, the rate limiter, channels and price-list assignments."""
from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pricing_edge.sim.admin.channels import ChannelBook
from pricing_edge.sim.admin.hooks import HookRegistry
from pricing_edge.sim.admin.orders import Event, OrderBook
from pricing_edge.sim.admin.rate_limit import FixedWindow
from pricing_edge.sim.admin.webhooks import Delivery, WebhookEmitter
from pricing_edge.sim.dataset import Dataset
from pricing_edge.sim.delivery import DeliveryPolicy

DEFAULT_CLIENT_ID = "demo-client-id"


def store_id_for(store_hash: str) -> str:
    """A stable numeric store id for a hash (BigCommerce's ``store_id`` is a numeric string)."""
    return str(1_000_000 + zlib.crc32(store_hash.encode()) % 9_000_000)


@dataclass
class AdminState:
    store_hash: str
    admin_token: str
    client_id: str
    store_id: str
    orders: OrderBook
    hooks: HookRegistry
    webhooks: WebhookEmitter
    limiter: FixedWindow
    channels: ChannelBook  # channels, their currencies, price-list assignments (the storefront prices by them)
    # every event caused, hooks or not (newest last, bounded): what a test can assert on without a receiver
    emitted: deque[tuple[str, dict[str, Any]]] = field(default_factory=lambda: deque(maxlen=10_000))

    @classmethod
    def build(cls, dataset: Dataset, *, store_hash: str, admin_token: str, client_secret: str,
              client_id: str = DEFAULT_CLIENT_ID, store_id: str | None = None, tax_rate: Decimal = Decimal("0.10"),
              rate_limit: tuple[int, float] = (150, 30.0),
              webhook_retry: DeliveryPolicy | None = None, channels: ChannelBook | None = None) -> AdminState:
        if not admin_token:
            raise ValueError("the REST Admin API needs an access token (admin_token)")
        store_id = store_id or store_id_for(store_hash)
        quota, window = rate_limit
        channels = channels or ChannelBook(dataset, store_hash)
        state = cls(store_hash=store_hash, admin_token=admin_token, client_id=client_id, store_id=store_id,
                   orders=OrderBook(dataset, channels, tax_rate=tax_rate),
                   hooks=HookRegistry(store_hash=store_hash, client_id=client_id),
                   webhooks=WebhookEmitter(store_hash=store_hash, store_id=store_id, client_secret=client_secret,
                                           policy=webhook_retry),
                   limiter=FixedWindow(quota, float(window)),
                   channels=channels)
        state.webhooks.on_failed = state.deactivate_hook
        return state

    def deactivate_hook(self, delivery: Delivery) -> None:
        """A delivery failed every retry: BigCommerce deactivates the hook and sends nothing more to it."""
        hook = self.hooks.hooks.get(delivery.hook_id)
        if hook is not None and hook.is_active:
            hook.is_active = False

    def emit(self, events: list[Event]) -> list[Delivery]:
        """Send each event to the active hooks its scope matches (none registered: nothing is sent)."""
        deliveries: list[Delivery] = []
        for scope, data in events:
            self.emitted.append((scope, data))
            deliveries.extend(self.webhooks.emit(scope, data, self.hooks.matching(scope)))
        return deliveries

    async def aclose(self) -> None:
        await self.webhooks.aclose()
