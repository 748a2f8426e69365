"""Faults driven through /_sim/faults take effect on the live-read API (seen through the adapter) and clear."""
from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from pricing_edge.erp.errors import ErpUnavailable
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from tests.support.servers import ServerThread, serve


@pytest.fixture
def erp() -> Iterator[ServerThread]:
    with serve(create_app(build_dataset(7), latency_ms=0)) as server:
        yield server


async def test_down_then_cleared(erp: ServerThread) -> None:
    adapter = SimulatedErpAdapter(erp.base_url, timeout=10)
    try:
        assert await adapter.get_prices(1, "USD", ["PE-10000"])
        assert httpx.post(f"{erp.base_url}/_sim/faults", json={"down_seconds": 60}).json()["down_seconds"] > 50
        with pytest.raises(ErpUnavailable) as raised:
            await adapter.get_prices(1, "USD", ["PE-10000"])
        assert raised.value.status == 503 and raised.value.retryable
        with pytest.raises(ErpUnavailable):
            await adapter.get_credit(1)
        # The /_sim routes are never faulted: changes still work during the outage.
        change = httpx.post(f"{erp.base_url}/_sim/changes/stock", json={"sku": "PE-10000", "location_id": 1,
                                                                        "on_hand": 5})
        assert change.status_code == 200
        assert httpx.delete(f"{erp.base_url}/_sim/faults").json()["down_seconds"] == 0
        stock = await adapter.get_stock(["PE-10000"])
        assert [level.on_hand for level in stock["PE-10000"] if level.location_id == 1] == [5]
    finally:
        await adapter.aclose()


async def test_latency_delays_and_clears(erp: ServerThread) -> None:
    adapter = SimulatedErpAdapter(erp.base_url, timeout=10)
    try:
        httpx.post(f"{erp.base_url}/_sim/faults", json={"latency_ms": 400})
        started = time.monotonic()
        await adapter.get_customer(1)
        assert time.monotonic() - started >= 0.38  # at least the injected delay; no upper bound asserted
        httpx.delete(f"{erp.base_url}/_sim/faults")
        assert httpx.get(f"{erp.base_url}/_sim/faults").json()["latency_ms"] == 0
    finally:
        await adapter.aclose()


async def test_latency_beyond_the_timeout_is_unavailable(erp: ServerThread) -> None:
    adapter = SimulatedErpAdapter(erp.base_url, timeout=0.2)
    try:
        httpx.post(f"{erp.base_url}/_sim/faults", json={"latency_ms": 2000})
        with pytest.raises(ErpUnavailable, match="timed out"):
            await adapter.get_stock(["PE-10000"])
    finally:
        httpx.delete(f"{erp.base_url}/_sim/faults")
        await adapter.aclose()


async def test_error_rate_one_always_errors_then_clears(erp: ServerThread) -> None:
    adapter = SimulatedErpAdapter(erp.base_url, timeout=10)
    try:
        httpx.post(f"{erp.base_url}/_sim/faults", json={"error_rate": 1})
        for _ in range(5):
            with pytest.raises(ErpUnavailable) as raised:
                await adapter.get_prices(2, "EUR", ["PE-10001"])
            assert raised.value.status == 500
        with pytest.raises(ErpUnavailable):
            async for _batch in adapter.iter_stock():
                pass
        httpx.delete(f"{erp.base_url}/_sim/faults")
        assert "PE-10001" in await adapter.get_prices(2, "EUR", ["PE-10001"])
    finally:
        await adapter.aclose()


def test_bad_fault_specs_are_400(erp: ServerThread) -> None:
    for body in ({"error_rate": 2}, {"down": 5}, {"latency_ms": -1}):
        assert httpx.post(f"{erp.base_url}/_sim/faults", json=body).status_code == 400


def test_configured_latency_is_the_base(erp: ServerThread) -> None:
    with serve(create_app(build_dataset(7), latency_ms=300)) as slow:
        started = time.monotonic()
        assert httpx.get(f"{slow.base_url}/healthz").status_code == 200
        assert time.monotonic() - started >= 0.28
        assert httpx.get(f"{slow.base_url}/_sim/faults").json()["base_latency_ms"] == 300
