"""`pricing-edge warm` loads every currency the store sells in, as BigCommerce says (its channel currency
assignments), not only the configured ones: run as a user runs it, against the simulators over real HTTP and a
real Redis."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator

import orjson
import pytest

from pricing_edge.config import DEMO_ADMIN_TOKEN
from pricing_edge.sim.dataset import Dataset, build_dataset
from pricing_edge.sim.erp.app import create_app as create_erp_app
from pricing_edge.store.keys import Keys
from pricing_edge.store.redis_store import RedisStore
from tests.sim.admin.support import STORE_HASH, make_app
from tests.support.servers import ServerThread, serve


@pytest.fixture
def dataset() -> Dataset:
    return build_dataset(product_count=20)


@pytest.fixture
def sims(dataset: Dataset) -> Iterator[tuple[ServerThread, ServerThread]]:
    bc_app = make_app(dataset, admin_token=DEMO_ADMIN_TOKEN)
    bc_app.state.admin.channels.channels[1].currencies = ("USD",)  # EUR is enabled on channel 2 only
    with serve(bc_app) as bigcommerce, serve(create_erp_app(dataset, latency_ms=0)) as erp:
        yield bigcommerce, erp


def test_warm_loads_a_currency_enabled_only_on_channel_2(sims: tuple[ServerThread, ServerThread], dataset: Dataset,
                                                         redis_url: str, redis_prefix: str) -> None:
    bigcommerce, erp = sims
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_")} | {
        "PRICING_EDGE_REDIS_URL": redis_url, "PRICING_EDGE_REDIS_PREFIX": redis_prefix,
        "PRICING_EDGE_ADMIN_URL": bigcommerce.base_url, "PRICING_EDGE_ADMIN_TOKEN": DEMO_ADMIN_TOKEN,
        "PRICING_EDGE_STORE_HASH": STORE_HASH, "PRICING_EDGE_ERP_URL": erp.base_url,
        "PRICING_EDGE_CURRENCIES": "USD"}
    result = subprocess.run([sys.executable, "-m", "pricing_edge.cli", "warm"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["prices"] > 0
    sku = dataset.products[0].default_variant.sku

    async def stored(currency: str) -> bool:
        store = RedisStore(redis_url, Keys(redis_prefix), socket_timeout=10.0)
        try:
            return bool(await store.get_prices(2, currency, [sku]))
        finally:
            await store.aclose()

    assert asyncio.run(stored("EUR")) and asyncio.run(stored("USD"))
