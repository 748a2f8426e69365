"""``pricing-edge demo``: every part of the system in one process on the embedded store."""
from __future__ import annotations

import shlex
import sys
from typing import Any

from starlette.applications import Starlette

from pricing_edge.config import Settings
from pricing_edge.runtime import Served, run
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.fixtures import DEMO_CUSTOMER_TOKEN_SECRET, DEMO_EVENT_SECRET, DemoLayout, demo_fixtures


def bigcommerce_sim_app(settings: Settings, latency_ms: float | None = None) -> Starlette:
    from pricing_edge.sim.bigcommerce import create_app

    return create_app(
        build_dataset(settings.seed),
        storefront_token=settings.storefront_token,
        impersonation_token=settings.impersonation_token,
        latency_ms=settings.bc_latency_ms if latency_ms is None else latency_ms,
        customer_token_secret=DEMO_CUSTOMER_TOKEN_SECRET,
    )


def erp_sim_app(settings: Settings, events_url: str | None = None, ticker_rate: float | None = None,
                latency_ms: float | None = None) -> Starlette:
    from pricing_edge.sim.erp import create_app

    return create_app(
        build_dataset(settings.seed),
        events_url=events_url or settings.events_url,
        event_secret=settings.event_secret or DEMO_EVENT_SECRET,
        latency_ms=settings.erp_latency_ms if latency_ms is None else latency_ms,
        ticker_rate=settings.erp_ticker_rate if ticker_rate is None else ticker_rate,
    )


def banner(fixtures: dict[str, Any], layout: DemoLayout) -> str:
    """What a person needs to try it: the URLs, the buyers and one curl to paste."""
    lines = [
        "pricing-edge demo — the embedded store (keeps nothing: in-process store, seeded data)",
        f"  BigCommerce simulator  {fixtures['upstream_url']}",
        f"  ERP simulator          {fixtures['erp_url']}",
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
        "  try (BigCommerce's own, lagging answer):",
        f"    curl -s {fixtures['upstream_url']} -H 'Content-Type: application/json' {headers} -d {body}",
        f"  the ERP expects {product['expected_price'][str(buyer['customer_id'])]} for {buyer['name']}",
        f"  all URLs and data: pricing-edge fixtures --port {layout.port}",
        "  Ctrl+C stops everything.",
    ]
    return "\n".join(lines)


def run_demo(layout: DemoLayout, settings: Settings) -> None:
    settings = Settings(**{**settings.__dict__, "upstream_url": layout.upstream_url, "erp_url": layout.erp_url,
                           "worker_url": layout.worker_url})
    apps = [
        Served("bigcommerce-sim", bigcommerce_sim_app(settings), layout.port + 1, layout.host),
        Served("erp-sim", erp_sim_app(settings), layout.port + 2, layout.host),
    ]
    print(banner(demo_fixtures(build_dataset(settings.seed), layout, settings), layout), flush=True)
    sys.stdout.flush()
    run(apps)
