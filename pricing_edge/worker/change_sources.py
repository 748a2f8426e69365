"""Where the worker runs the configured ERP connector's change source: built here, polled in the
worker's task group under a lease (one poller across every worker process), its vendor events
handled by the signal flow, its metrics on the worker's ``/metrics``."""
from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from pricing_edge.config import Settings
from pricing_edge.erp.change_source import ChangeMetrics, ChangeSource, Emitter
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.erp.registry import connector
from pricing_edge.store.base import Store

MIN_LEASE_SECONDS = 30.0


class ChangeSourceSettingsError(ValueError):
    """The connector has a change source but nowhere to send its events."""


@dataclass
class RunningSource:
    source: ChangeSource
    emitter: Emitter
    prefix: str | None
    interval: float
    lease_ms: int
    metrics: ChangeMetrics


def open_change_source(settings: Settings, store: Store, erp: ErpAdapter,
                       registry: CollectorRegistry | None = None) -> RunningSource | None:
    """The configured connector's change source, or None when its ERP pushes our events itself."""
    chosen = connector(settings.erp)
    if chosen.open_change_source is None:
        return None
    if not settings.events_url or not settings.event_secret:
        raise ChangeSourceSettingsError(
            f"PRICING_EDGE_ERP={chosen.name}: its change source posts events to the edge: set PRICING_EDGE_EVENTS_URL "
            "(the edge's /events/erp) and PRICING_EDGE_EVENT_SECRET")
    metrics = ChangeMetrics(registry)
    emitter = Emitter(settings.events_url, settings.event_secret, source=f"urn:pricing-edge:erp:{chosen.name}",
                      metrics=metrics, connector=chosen.name)
    source = chosen.open_change_source(settings, erp, emitter, store)
    lease = max(MIN_LEASE_SECONDS, 3 * settings.erp_poll_interval)
    return RunningSource(source, emitter, chosen.signal_prefix, settings.erp_poll_interval, int(lease * 1000), metrics)
