"""A queued message: what happened (two-stage sync: it names the change, the handler fetches the
state), where it came from, its correlation id, and how its attempts went."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import orjson


class MessageError(ValueError):
    """Bytes that are not a queued message (a dead letter of its own kind)."""


@dataclass(frozen=True)
class Message:
    id: str  # the delivery's idempotency key: BigCommerce webhook-id or CloudEvents id
    flow: str
    entity: str
    kind: str  # "store/order/updated", "com.pricingedge.shipment.created", ...
    source: str  # "bigcommerce" | "erp" | "replay"
    data: dict[str, Any]
    traceparent: str
    received_ms: int
    attempts: int = 0  # failures that count toward the poison limit (unexpected errors)
    retries: int = 0  # every retry, transient ones included (drives the backoff)
    first_failure_ms: int | None = None
    last_error: str = ""

    def encode(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def decode(cls, raw: bytes) -> Message:
        try:
            body = orjson.loads(raw)
            return cls(**body)
        except (orjson.JSONDecodeError, TypeError) as exc:
            raise MessageError(f"not a queued message: {exc}") from exc

    def failed(self, error: str, now_ms: int, *, counts: bool) -> Message:
        return replace(self, attempts=self.attempts + (1 if counts else 0), retries=self.retries + 1,
                       first_failure_ms=self.first_failure_ms or now_ms, last_error=error)

    def fresh(self) -> Message:
        """The same message with its failure history cleared (a replay)."""
        return replace(self, attempts=0, retries=0, first_failure_ms=None, last_error="")
