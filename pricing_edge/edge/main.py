"""Building an edge from the environment: what ``pricing-edge serve`` (and each uvicorn worker) runs."""
from __future__ import annotations

from starlette.applications import Starlette
from starlette.types import ASGIApp

from pricing_edge.config import Settings
from pricing_edge.edge.app import create_edge_app
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.ops.tracing import configure_tracing
from pricing_edge.runtime import ExitDeadlineOnShutdown, Grace
from pricing_edge.store import open_store


def open_erp(settings: Settings) -> ErpAdapter:
    """The configured connector's adapter (``PRICING_EDGE_ERP``), its mapping validated."""
    from pricing_edge.erp.registry import open_erp as open_connector

    return open_connector(settings)


def app_from_env() -> Starlette:
    settings = Settings.from_env()
    configure_tracing("pricing-edge-edge")  # in each uvicorn worker process: after the fork
    if not settings.redis_url:
        raise SystemExit("pricing-edge serve needs PRICING_EDGE_REDIS_URL: the embedded store lives in one process "
                         "and is for the one-process demo and tests (`pricing-edge demo`)")
    if not settings.event_secret:
        raise SystemExit("PRICING_EDGE_EVENT_SECRET is not set: the edge needs the whsec_ secret ERP events are signed with")
    return create_edge_app(settings, open_store(settings), open_erp(settings))


def supervised_app() -> ASGIApp:
    """What each child of ``serve --workers N`` runs: the edge, its exit deadline armed when its shutdown
    begins (uvicorn's supervisor, not ours, receives the signal)."""
    return ExitDeadlineOnShutdown(app_from_env(), Grace(Settings.from_env().shutdown_grace))
