"""Registering the BigCommerce webhooks the worker's flows need (``bigcommerce register-webhooks``,
and the demo at start). Idempotent: the admin client creates only what is missing."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from pricing_edge.backoff import Backoff
from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.bigcommerce.errors import BigCommerceError
from pricing_edge.config import Settings
from pricing_edge.intake.bigcommerce_webhooks import ASSIGNMENT_SCOPE, header_values
from pricing_edge.worker.flows.orders import ORDER_SCOPES
from pricing_edge.worker.metrics import WorkerMetrics

log = logging.getLogger(__name__)
# The edge's listings by price refresh their products on catalog changes (intake.bigcommerce_webhooks).
CATALOG_HOOKS = ("store/product/created", "store/product/updated", "store/product/deleted", "store/category/*",
                 "store/brand/*")
# The edge reads BigCommerce's price-list assignments again when one changes (edge.assignments).
SCOPES: tuple[str, ...] = (*sorted(ORDER_SCOPES), *CATALOG_HOOKS, ASSIGNMENT_SCOPE)


def hook_headers(settings: Settings) -> dict[str, str]:
    """The custom header BigCommerce sends back on every delivery, when one is configured (during a rotation,
    the first value: registering it moves every hook to the new value while the intake still takes the old)."""
    if not settings.webhook_header:
        return {}
    name, values = header_values(settings.webhook_header)
    return {name: values[0]}


async def register(admin: BigCommerceAdmin, destination: str, settings: Settings,
                   scopes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    try:
        return await admin.register_webhooks(destination, list(scopes or SCOPES), hook_headers(settings))
    finally:
        await admin.aclose()


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()


async def _register_at_start(admin: BigCommerceAdmin, destination: str, settings: Settings,
                             stop: asyncio.Event) -> None:
    """Keep trying until BigCommerce answers (or the worker stops)."""
    backoff = Backoff(first=0.5, cap=30.0)
    while not stop.is_set():
        try:
            changes = await admin.register_webhooks(destination, list(SCOPES), hook_headers(settings))
        except BigCommerceError as exc:
            delay = backoff.next_delay()
            log.log(logging.INFO if backoff.attempt <= 3 else logging.WARNING,
                    "cannot register webhooks to %s yet (%s); retrying in %.1fs", destination, exc, delay)
            await _pause(stop, delay)
            continue
        log.info("webhooks to %s: %s", destination, ", ".join(f"{c['scope']} {c['action']}" for c in changes))
        return


async def keep_hooks_active(admin: BigCommerceAdmin, destination: str, settings: Settings, metrics: WorkerMetrics,
                            interval: float, stop: asyncio.Event) -> None:
    """At worker start (``PRICING_EDGE_WEBHOOK_DESTINATION``), register our hooks; then every ``interval``
    seconds: BigCommerce deactivates a hook whose deliveries keep failing (and stops sending); re-activate
    ours, count each one in ``pricing_edge_webhooks_reactivated_total`` (alert on any increase: deliveries were
    failing), and re-create any that was deleted. The poller covers the gap. One task does both, one after the
    other: two registrations at once could both create a missing hook."""
    await _register_at_start(admin, destination, settings, stop)
    while not stop.is_set():
        await _pause(stop, interval)
        if stop.is_set():
            return
        try:
            changes = await admin.register_webhooks(destination, list(SCOPES), hook_headers(settings))
        except BigCommerceError as exc:
            log.warning("cannot check the webhooks to %s: %s", destination, exc)
        else:
            revived = [c for c in changes if c["action"] == "reactivated"]
            metrics.hooks_inactive.set(len(revived))
            for change in revived:
                metrics.hooks_reactivated.labels(change["scope"]).inc()
                log.error("ALERT: BigCommerce had deactivated the %s webhook %s to %s (its deliveries kept failing); "
                          "re-activated it — check the edge's webhook intake", change["scope"], change["id"],
                          destination)
