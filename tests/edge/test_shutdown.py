"""The edge's background work ends when the edge stops: the cache updater and the invalidation listener
when cancelled, and ERP reads still running for requests already answered (stuck in a slow ERP call)."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import httpx

from pricing_edge.config import Settings
from pricing_edge.demo import bigcommerce_sim_app, demo_settings, edge_app
from pricing_edge.edge.cache_updater import CacheUpdater, listen_for_invalidations
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.fixtures import DemoLayout
from pricing_edge.store.base import Store
from tests.support.redis_server import free_port
from tests.support.servers import ServerThread, serve
from tests.support.stuck import STOPS_WITHIN, cancel_once

PRICE = "query($id: Int!) { site { product(entityId: $id) { prices { price { value } } } } }"


async def test_the_cache_updater_waiting_on_its_stream_stops_when_cancelled(store: Store) -> None:
    updater = asyncio.create_task(CacheUpdater(store, EdgeMetrics(), "edge-1", block_ms=60_000).run())
    await asyncio.sleep(0.1)  # blocked reading the intake stream: nothing to poll for
    assert not updater.done()
    await cancel_once(updater)


async def test_the_invalidation_listener_stops_when_cancelled(store: Store) -> None:
    listener = asyncio.create_task(listen_for_invalidations(store, lambda change: None))
    await asyncio.sleep(0.1)  # subscribed and waiting: nothing to poll for
    assert not listener.done()
    await cancel_once(listener)


def test_an_edge_stops_with_erp_reads_stuck_in_a_slow_erp_and_cancels_them(
        redis_url: str, redis_prefix: str, stuck_erp_server: ServerThread, tmp_path: Path) -> None:
    port = free_port()
    settings = replace(demo_settings(Settings.from_env({}), DemoLayout(port)), bc_latency_ms=0,
                       redis_url=redis_url, redis_prefix=redis_prefix, erp_url=stuck_erp_server.base_url,
                       erp_timeout=300, schema_cache=str(tmp_path / "schema.json"), warm_at_start=1)
    with serve(bigcommerce_sim_app(settings)) as bigcommerce:
        settings = replace(settings, upstream_url=bigcommerce.base_url + "/graphql")
        app = edge_app(settings)
        edge = ServerThread(app, port)
        edge.start()
        try:
            answer = httpx.post(edge.base_url + "/graphql", json={"query": PRICE, "variables": {
                "id": build_dataset(settings.seed).products[0].id}},
                headers={"Authorization": f"Bearer {settings.storefront_token}"}, timeout=30).json()
            assert answer["extensions"]["pricingEdge"]["degraded"] == ["erp"]  # answered; its ERP read goes on
            reads = app.state.parts.records.background()
            assert reads and not any(read.done() for read in reads)
        finally:
            edge.stop()
        assert not edge.thread.is_alive(), f"the edge did not stop within {STOPS_WITHIN}s"
        assert all(read.cancelled() for read in reads)
