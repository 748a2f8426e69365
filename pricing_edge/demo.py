"""``pricing-edge demo``: every part of the system in one process on the embedded store."""
from __future__ import annotations

import functools
import shlex
import sys
from dataclasses import replace
from typing import Any

import orjson
from starlette.applications import Starlette

from pricing_edge.clock import SYSTEM_CLOCK, Clock
from pricing_edge.store.base import Store

from pricing_edge.config import DEMO_CLIENT_SECRET, DEMO_OPS_TOKEN, Settings, listed
from pricing_edge.runtime import Grace, Served, check_ports, run
from pricing_edge.sim.dataset import Dataset, build_dataset
from pricing_edge.sim.fixtures import (
    DEMO_CUSTOMER_TOKEN_SECRET,
    DEMO_EVENT_SECRET,
    DEMO_TAX_ZONES,
    DemoLayout,
    demo_fixtures,
)


@functools.lru_cache(maxsize=4)
def pristine_dataset(seed: int, skus: int = 0) -> Dataset:
    """The seeded store as it starts, built once per process, to READ (layouts, fixtures, expectations).
    The simulators each get a ``fresh_dataset``: they change theirs, it is their truth."""
    return fresh_dataset(seed, skus)


def fresh_dataset(seed: int, skus: int = 0) -> Dataset:
    """The demo store, or with ``skus`` (``PRICING_EDGE_SIM_SKUS``) a real catalog's size (``sim.scale``)."""
    if skus:
        from pricing_edge.sim.scale import build_scale_dataset

        return build_scale_dataset(seed, skus)
    return build_dataset(seed)


def bigcommerce_sim_app(settings: Settings, latency_ms: float | None = None) -> Starlette:
    from pricing_edge.sim.storefront import create_app

    return create_app(
        fresh_dataset(settings.seed, settings.sim_skus),
        storefront_token=settings.storefront_token,
        impersonation_token=settings.impersonation_token,
        latency_ms=settings.bc_latency_ms if latency_ms is None else latency_ms,
        customer_token_secret=DEMO_CUSTOMER_TOKEN_SECRET,
        admin_token=settings.admin_token,
        store_hash=settings.store_hash,
        client_secret=first(settings.client_secret) or DEMO_CLIENT_SECRET,
        rate_limit=settings.bc_rate_limit,
        tax_zones=DEMO_TAX_ZONES,
    )


def first(value: str | None) -> str | None:
    """The current one of a rotated secret or token: what the simulated BigCommerce signs or hands out with."""
    return next(iter(listed(value)), None)


def erp_sim_app(settings: Settings, events_url: str | None = None, ticker_rate: float | None = None,
                latency_ms: float | None = None) -> Starlette:
    """The simulated ERP through the configured connector's face; a vendor face sends its own events
    to the signal intake beside the events URL (``<events URL>/signals``)."""
    from pricing_edge.sim.erp import create_app
    from pricing_edge.sim.erp.demo_connector import face_of

    face = face_of(settings)
    url = events_url or settings.events_url
    if url and face != "sim" and not url.endswith("/signals"):
        url = url.rstrip("/") + "/signals"
    return create_app(
        fresh_dataset(settings.seed, settings.sim_skus),
        face=face,
        events_url=url,
        event_secret=settings.event_secret or DEMO_EVENT_SECRET,
        latency_ms=settings.erp_latency_ms if latency_ms is None else latency_ms,
        ticker_rate=settings.erp_ticker_rate if ticker_rate is None else ticker_rate,
    )


def edge_app(settings: Settings, store: Store | None = None, clock: Clock = SYSTEM_CLOCK) -> Starlette:
    from pricing_edge.edge.app import create_edge_app
    from pricing_edge.edge.main import open_erp
    from pricing_edge.store import open_store

    return create_edge_app(settings, store or open_store(settings), open_erp(settings), clock=clock)


def edge_and_worker(settings: Settings) -> tuple[Starlette, Starlette]:
    """An edge and a worker over one store: with the embedded store they must share the process."""
    from pricing_edge.store import open_store
    from pricing_edge.worker.main import worker_app

    store = open_store(settings)
    return edge_app(settings, store), worker_app(settings, store=store)


def demo_settings(settings: Settings, layout: DemoLayout) -> Settings:
    """The environment's settings, pointed at the demo's layout and its store's price-list assignments."""
    from pricing_edge.sim.erp.demo_connector import demo_connector_settings

    dataset = pristine_dataset(settings.seed, settings.sim_skus)
    assignments = {g.id: g.price_list_id for g in dataset.customer_groups}
    settings = replace(settings, upstream_url=layout.upstream_url, erp_url=layout.erp_url, worker_url=layout.worker_url,
                       events_url=layout.edge_url + "/events/erp", event_secret=settings.event_secret or DEMO_EVENT_SECRET,
                       price_lists=assignments, default_price_list=dataset.default_price_list_id,
                       admin_url=layout.url(1), client_secret=settings.client_secret or DEMO_CLIENT_SECRET,
                       webhook_destination=layout.url(0) + "/webhooks/bigcommerce",
                       ops_tokens=settings.ops_tokens or f"demo:{DEMO_OPS_TOKEN}")
    return demo_connector_settings(settings, layout.edge_url)


def demo_order(fixtures: dict[str, Any]) -> dict[str, Any]:
    """A small order for the first demo buyer, as ``POST /v2/orders`` takes it."""
    address = {"first_name": "Demo", "last_name": "Buyer", "street_1": "1 Main St", "city": "Austin",
               "state": "Texas", "zip": "78701", "country": "United States", "country_iso2": "US",
               "email": "buyer@example.com"}
    product = fixtures["products"][0]
    return {"customer_id": fixtures["buyers"][0]["customer_id"], "status_id": 11, "billing_address": address,
            "shipping_addresses": [address], "products": [{"product_id": product["entity_id"], "quantity": 2}]}


def banner(fixtures: dict[str, Any], layout: DemoLayout) -> str:
    """What a person needs to try it: the URLs, the buyers and one curl to paste."""
    lines = [
        "pricing-edge demo — the embedded store (keeps nothing: in-process store, seeded data)",
        f"  edge (GraphQL)         {fixtures['edge_url']}",
        f"  ERP events             {fixtures['events_url']}",
        f"  BigCommerce simulator  {fixtures['upstream_url']}",
        f"  ERP simulator          {fixtures['erp_url']}  ({fixtures.get('erp', 'sim')} face)",
        f"  ops dashboard          {fixtures['worker_url']}/ops/   (demo token: {DEMO_OPS_TOKEN})",
        f"  BigCommerce webhooks   {fixtures['webhooks_url']}",
        "  demo buyers:",
    ]
    for buyer in fixtures["buyers"]:
        lines.append(f"    {buyer['name']:<40} price list {buyer['price_list_id']}  headers {buyer['headers']}")
    product = fixtures["products"][0]
    query = "query { site { product(entityId: %d) { name prices { price { value formattedV2 } } " \
            "inventory { aggregated { availableToSell } } } } }" % product["entity_id"]
    buyer = fixtures["buyers"][0]
    headers = " ".join(f"-H {shlex.quote(f'{k}: {v}')}" for k, v in buyer["headers"].items())
    body = shlex.quote('{"query": "%s"}' % query)
    lines += [
        "  try it — the edge answers with the ERP's price for this buyer:",
        f"    curl -s {fixtures['edge_url']} -H 'Content-Type: application/json' {headers} -d {body}",
        f"  (the ERP's price: {product['expected_price'][str(buyer['customer_id'])]}; BigCommerce's own, "
        f"lagging answer: the same curl against {fixtures['upstream_url']})",
        "  place an order in BigCommerce; the worker posts it to the ERP once and writes the number back:",
        f"    curl -s {fixtures['admin_url']}/v2/orders -H 'X-Auth-Token: {fixtures['admin_token']}' "
        f"-H 'Content-Type: application/json' -d {shlex.quote(orjson.dumps(demo_order(fixtures)).decode())}",
        f"    curl -s {fixtures['erp_url']}/_sim/sales-orders      # the ERP's sales orders",
        f"    pricing-edge ops status --port {layout.port}   # queues, lag, dead letters",
        f"  all URLs and data: pricing-edge fixtures --port {layout.port}",
        "  Ctrl+C stops everything.",
    ]
    return "\n".join(lines)


def run_demo(layout: DemoLayout, settings: Settings) -> None:
    from pricing_edge.ops.tracing import configure_tracing

    configure_tracing("pricing-edge-demo")
    settings = demo_settings(settings, layout)
    edge, worker = edge_and_worker(settings)
    apps = [
        Served("bigcommerce-sim", bigcommerce_sim_app(settings), layout.port + 1, layout.host),
        Served("erp-sim", erp_sim_app(settings), layout.port + 2, layout.host),
        Served("edge", edge, layout.port, layout.host),
        Served("worker", worker, layout.port + 3, layout.host),
    ]
    check_ports([(served.name, served.host, served.port) for served in apps])  # one line, before the banner
    fixtures = demo_fixtures(pristine_dataset(settings.seed, settings.sim_skus), layout, settings) | {"erp": settings.erp}
    print(banner(fixtures, layout), flush=True)
    sys.stdout.flush()
    run(apps, grace=Grace(settings.shutdown_grace))
