"""Building a worker from the environment: what ``pricing-edge worker`` runs."""
from __future__ import annotations

from starlette.applications import Starlette

from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.config import Settings
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.ops.access import OpsTokenError, parse_tokens
from pricing_edge.ops.tracing import configure_tracing
from pricing_edge.runtime import Grace
from pricing_edge.store import open_store
from pricing_edge.store.base import Store
from pricing_edge.worker.app import build_worker, create_worker_app


def open_admin(settings: Settings, store: Store | None = None) -> BigCommerceAdmin:
    """The REST Admin client; with ``store``, its rate-limit window is the store-wide bucket every process shares."""
    return BigCommerceAdmin(settings.admin_url, store_hash=settings.store_hash, access_token=settings.admin_token,
                            quota=store.rest_quota(settings.store_hash) if store is not None else None)


def worker_app(settings: Settings, store: Store | None = None, erp: ErpAdapter | None = None) -> Starlette:
    """A worker over ``store`` (default: from the settings) that owns and closes what it opens."""
    from pricing_edge.edge.main import open_erp

    owned: list[object] = []
    if store is None:
        store = open_store(settings)
        owned.append(store)
    if erp is None:
        erp = open_erp(settings)
        owned.append(erp)
    admin = open_admin(settings, store)
    worker = build_worker(settings, store, erp, admin)
    try:
        tokens = parse_tokens(settings.ops_tokens)
    except OpsTokenError as exc:
        raise SystemExit(str(exc)) from None
    return create_worker_app(worker, close=[admin, *owned], require_durable=bool(settings.require_durable),
                             ops_tokens=tokens, ops_session_ttl=settings.ops_session_ttl,
                             grace=Grace(settings.shutdown_grace))


def app_from_env() -> Starlette:
    settings = Settings.from_env()
    configure_tracing("pricing-edge-worker")
    if not settings.redis_url:
        raise SystemExit("pricing-edge worker needs PRICING_EDGE_REDIS_URL: its queue must outlive the process "
                         "(the embedded store runs only inside `pricing-edge demo`)")
    return worker_app(settings)
