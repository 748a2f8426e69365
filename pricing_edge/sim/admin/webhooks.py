"""BigCommerce's webhook callbacks, emitted by the simulator to every active hook whose scope matches.

Payload as BigCommerce sends it: ``{scope, store_id, data, hash, created_at, producer}``, where ``hash`` is
the SHA-1 of ``data``'s JSON (so two updates of one order with the same data have the same hash: never a
dedup key). Signed per Standard Webhooks with ``base64(client secret)`` as the secret, like the ERP
simulator's events (``pricing_edge.intake.envelope.sign``); ``webhook-id`` is one per event, the same on
every retry and every hook, re-signed with a fresh ``webhook-timestamp`` on each attempt; the hook's
``headers`` go along. Any non-2xx or transport error is retried with the ERP outbox's ``DeliveryPolicy``
backoff, up to its ``max_attempts``; a delivery that fails them all deactivates its hook, as BigCommerce
deactivates a hook whose deliveries keep failing (it stays so until re-activated with ``PUT /v3/hooks``). Each delivery runs in a ``bigcommerce.webhook`` span and its POSTs
carry that span's ``traceparent``. Deliveries are listed by ``GET /_sim/webhooks``.
"""
from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from pricing_edge.intake import envelope
from pricing_edge.intake.bigcommerce_webhooks import signing_secret  # the key both sides derive
from pricing_edge.ops import tracing
from pricing_edge.sim.admin.hooks import Hook
from pricing_edge.sim.delivery import DELIVERED, FAILED, PENDING, RETRYING, BackgroundSender, DeliveryPolicy

CONTENT_TYPE = "application/json"
_RESERVED = frozenset({"content-type", "content-length", "host", "webhook-id", "webhook-timestamp",
                       "webhook-signature", tracing.TRACEPARENT})
DEFAULT_POLICY = DeliveryPolicy(max_attempts=10, first_backoff=0.5, max_backoff=60.0, timeout=10.0)


def payload(scope: str, data: dict[str, Any], *, store_id: str, store_hash: str,
            created_at: int | None = None) -> dict[str, Any]:
    return {"scope": scope, "store_id": store_id, "data": data,
            "hash": hashlib.sha1(orjson.dumps(data)).hexdigest(),
            "created_at": int(time.time()) if created_at is None else created_at,
            "producer": f"stores/{store_hash}"}


@dataclass
class Delivery:
    seq: int
    webhook_id: str
    hook_id: int
    destination: str
    scope: str
    body: bytes
    hook_headers: dict[str, str]
    status: str = PENDING
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    traceparent: str | None = None
    created_at: float = field(default_factory=time.time)
    delivered_at: float | None = None

    def describe(self) -> dict[str, Any]:
        return {"seq": self.seq, "webhook_id": self.webhook_id, "hook_id": self.hook_id,
                "destination": self.destination, "scope": self.scope, "status": self.status,
                "attempts": self.attempts, "last_status": self.last_status, "last_error": self.last_error,
                "traceparent": self.traceparent, "created_at": self.created_at, "delivered_at": self.delivered_at,
                "payload": orjson.loads(self.body)}


class WebhookEmitter(BackgroundSender):
    def __init__(self, *, store_hash: str, store_id: str, client_secret: str, policy: DeliveryPolicy | None = None,
                 capacity: int = 10_000) -> None:
        if not client_secret:
            raise ValueError("the simulator signs webhooks with the app's client secret: it cannot be empty")
        self.store_hash = store_hash
        self.store_id = store_id
        self.secret = signing_secret(client_secret)
        super().__init__(policy or DEFAULT_POLICY)
        self.capacity = capacity
        self.deliveries: OrderedDict[int, Delivery] = OrderedDict()
        # Called when a delivery has failed every attempt (the state deactivates its hook, as BigCommerce does).
        self.on_failed: Callable[[Delivery], None] | None = None
        # False: deliveries carry only the hook's own headers, no Standard Webhooks headers (no webhook-id):
        # what a receiver gets from a hook that authenticates with its custom header alone (``/_sim/store``).
        self.sign = True
        self._seq = itertools.count(1)

    def emit(self, scope: str, data: dict[str, Any], hooks: list[Hook]) -> list[Delivery]:
        """One event to each hook given (the caller picks the active matching ones); needs a running loop."""
        if not hooks:
            return []
        body = orjson.dumps(payload(scope, data, store_id=self.store_id, store_hash=self.store_hash))
        webhook_id = f"bc_{uuid.uuid4().hex}"
        created = []
        for hook in hooks:
            headers = {k: v for k, v in (hook.headers or {}).items() if k.lower() not in _RESERVED}
            delivery = Delivery(next(self._seq), webhook_id, hook.id, hook.destination, scope, body, headers)
            self.deliveries[delivery.seq] = delivery
            created.append(delivery)
            self._spawn(delivery)
        while len(self.deliveries) > self.capacity:
            self.deliveries.popitem(last=False)
        return created

    def redeliver(self, seq: int) -> Delivery | None:
        """Send a finished delivery again, same ``webhook-id``: how a receiver's dedup is exercised."""
        delivery = self.deliveries.get(seq)
        if delivery is not None and delivery.status not in (PENDING, RETRYING):
            delivery.status, delivery.attempts = PENDING, 0
            self._spawn(delivery)
        return delivery

    def list(self, *, scope: str | None = None, status: str | None = None, after: int = 0) -> list[Delivery]:
        return [d for d in self.deliveries.values()
                if d.seq > after and (scope is None or d.scope == scope) and (status is None or d.status == status)]

    def _spawn(self, delivery: Delivery) -> None:
        self.spawn(self._deliver(delivery), f"bc-webhook-{delivery.seq}")

    async def _deliver(self, delivery: Delivery) -> None:
        policy = self.policy
        with tracing.span("bigcommerce.webhook") as traceparent:
            delivery.traceparent = traceparent
            while delivery.attempts < policy.max_attempts:
                signed = (envelope.sign(delivery.body, delivery.webhook_id, self.secret)  # fresh timestamp, same id
                          if self.sign else {})
                headers = {**delivery.hook_headers, **signed, "content-type": CONTENT_TYPE}
                outcome = await self.post(delivery.destination, delivery.body, headers)
                delivery.attempts += 1
                delivery.last_status, delivery.last_error = outcome
                if outcome[0] is not None and 200 <= outcome[0] < 300:
                    delivery.status, delivery.delivered_at = DELIVERED, time.time()
                    return
                delivery.status = RETRYING
                if delivery.attempts < policy.max_attempts:
                    await asyncio.sleep(policy.backoff(delivery.attempts))
            delivery.status = FAILED
            if self.on_failed is not None:
                self.on_failed(delivery)
