"""The ERP's truth pushed into BigCommerce, end to end over real HTTP and a real Redis: ERP price and stock
events and `pricing-edge sync prices|inventory` runs, handled by a real worker process, under the store's REST
quota with another app spending it (429 storms), an ERP outage and a worker killed (SIGKILL) between a batch
reaching BigCommerce and its reply. BigCommerce (the simulator) ends equal to the ERP (the simulator), and the
simulator's write counter shows no record written twice."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from pricing_edge.config import Settings
from pricing_edge.domain import bc_mirror
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.jsonio import loads_exact
from pricing_edge.sim.dataset import CURRENCIES
from tests.e2e.orders_system import OrderSystem, order_system, worker_env, worker_process
from tests.support.polling import wait_until

FLOW = "bigcommerce-sync"


@pytest.fixture
def settings(redis_url: str, redis_prefix: str) -> Settings:
    return replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix, bc_rate_limit="100000/30")


def env(system: OrderSystem, batch: int) -> dict[str, str]:
    return worker_env(system.settings) | {"PRICING_EDGE_BC_SYNC_BATCH": str(batch)}


@contextmanager
def sync(system: OrderSystem, kind: str, *extra: str) -> Iterator[subprocess.Popen[str]]:
    """``pricing-edge sync`` running; killed if the test ends before it does."""
    with subprocess.Popen([sys.executable, "-m", "pricing_edge.cli", "sync", kind, "--timeout", "240", *extra],
                          env=env(system, 200), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as run:
        try:
            yield run
        finally:
            if run.poll() is None:
                run.kill()


def bc_sim(system: OrderSystem, method: str, path: str, body: Any = None) -> dict[str, Any]:
    response = system.http.request(method, f"{system.bigcommerce.base_url}/_sim{path}", json=body)
    assert response.status_code < 300, response.text
    return dict(response.json())


def flow_status(system: OrderSystem) -> dict[str, Any]:
    return dict(system.ops("GET", "/ops/status").json()["flows"][FLOW])


@contextmanager
def storm(system: OrderSystem) -> Iterator[list[int]]:
    """Another of the merchant's apps spending the store's REST quota as fast as it can (it meets 429s and
    so, between its calls, does the worker)."""
    stop, statuses = threading.Event(), []
    url = f"{system.bigcommerce.base_url}/stores/{system.settings.store_hash}/v2/order_statuses"

    def spend() -> None:
        with httpx.Client(headers={"X-Auth-Token": system.settings.admin_token}, timeout=10) as client:
            while not stop.is_set():
                statuses.append(client.get(url).status_code)
                stop.wait(0.01)

    thread = threading.Thread(target=spend, daemon=True)
    thread.start()
    try:
        yield statuses
    finally:
        stop.set()
        thread.join(timeout=15)


def bc_records(system: OrderSystem) -> dict[str, dict[str, Any]]:
    """Every price-list record BigCommerce holds, in the mirror's form, by key."""
    found: dict[str, dict[str, Any]] = {}
    for price_list in system.admin("GET", "/v3/pricelists").json()["data"]:
        page = 1
        while True:
            response = system.admin("GET", f"/v3/pricelists/{price_list['id']}/records?include=bulk_pricing_tiers,sku"
                                           f"&limit=250&page={page}")
            body = loads_exact(response.content)
            for item in body["data"]:
                key, payload = bc_mirror.price_from_bigcommerce(item)
                found[key] = payload
            if page >= body["meta"]["pagination"]["total_pages"]:
                break
            page += 1
    return found


def erp_records(system: OrderSystem) -> dict[str, dict[str, Any]]:
    async def read() -> dict[str, dict[str, Any]]:
        erp = SimulatedErpAdapter(system.settings.erp_url)
        found = {}
        try:
            for price_list in system.dataset.price_lists:
                for currency in CURRENCIES:
                    async for chunk in erp.iter_price_list(price_list.id, currency):
                        found.update({bc_mirror.price_key(r.price_list_id, r.currency, r.sku): bc_mirror.price_payload(r)
                                      for r in chunk})
        finally:
            await erp.aclose()
        return found

    return asyncio.run(read())


def differing(system: OrderSystem) -> list[str]:
    bc, erp = bc_records(system), erp_records(system)
    assert set(erp) <= set(bc)
    return [key for key, payload in erp.items() if bc_mirror.fingerprint(payload) != bc_mirror.fingerprint(bc[key])]


def test_prices_end_equal_to_the_erp_through_429s_an_erp_outage_and_a_worker_killed_mid_batch(
        settings: Settings, tmp_path: Path) -> None:
    with order_system(settings, tmp_path, worker="none", register_hooks=False) as system, ExitStack() as stack:
        assert len(differing(system)) > 500  # BigCommerce's copy lags the ERP (the dataset's stale records)
        bc_sim(system, "POST", "/price-records/hold-replies", {"seconds": 120})
        with worker_process(system.settings, tmp_path / "worker-1.log", env=env(system, 200)) as first:
            run = stack.enter_context(sync(system, "prices", "--no-progress"))
            wait_until(lambda: sum(bc_sim(system, "GET", "/writes")["price_records"].values()) >= 100, timeout=240,
                       what="a batch of records stored by BigCommerce, its reply held")
            os.kill(first.pid, signal.SIGKILL)  # it wrote, and will never hear back
            first.wait(timeout=10)
        skus = system.skus(3, offset=5)
        for n, sku in enumerate(skus):  # ERP events: the worker writes each changed record on its own
            system.erp_sim("/changes/price", {"price_list_id": 2, "sku": sku, "currency": "USD",
                                              "price": f"{3 + n}.25", "sale_price": None})
        system.erp_sim("/faults", {"down_seconds": 600})
        bc_sim(system, "POST", "/price-records/hold-replies", {"seconds": 0})
        bc_sim(system, "POST", "/rate-limit", {"quota": 40, "window_ms": 1000})
        with storm(system) as statuses, worker_process(system.settings, tmp_path / "worker-2.log",
                                                       env=env(system, 200)):
            wait_until(lambda: flow_status(system)["retries_waiting"] >= 1, timeout=240,
                       what="the sync run waiting out the ERP outage")
            system.http.delete(f"{system.erp.base_url}/_sim/faults")
            out, err = run.communicate(timeout=240)
            assert run.returncode == 0, (out, err)
            wait_until(lambda: flow_status(system)["depth"] == 0, timeout=60, what="every price event handled")
            assert flow_status(system)["dead_letters"] == 0
        assert 429 in statuses and bc_sim(system, "GET", "/rate-limit")["rejected"] > 0
        report = orjson.loads(out)
        assert report["phase"] == "done" and report["report"]["written"] > 0
        assert differing(system) == []
        writes = bc_sim(system, "GET", "/writes")
        assert max(writes["price_records"].values()) == 1, "a record was written twice"
        assert writes["max_concurrent_upserts"] == 1
        for sku in skus:
            assert writes["price_records"][f"2:USD:{sku}"] == 1


def bc_levels(system: OrderSystem, skus: list[str]) -> dict[str, dict[str, Any]]:
    found = {}
    for start in range(0, len(skus), 50):
        chunk = ",".join(skus[start:start + 50])
        for item in system.admin("GET", f"/v3/inventory/items?sku:in={chunk}&limit=250").json()["data"]:
            for level in item["locations"]:
                found[bc_mirror.stock_key(item["identity"]["sku"], level["location_id"])] = {
                    "sku": item["identity"]["sku"], "location_id": level["location_id"],
                    "quantity": level["total_inventory_onhand"], "safety_stock": level["settings"]["safety_stock"],
                    "is_in_stock": level["settings"]["is_in_stock"]}
    return found


def erp_levels(system: OrderSystem) -> dict[str, dict[str, Any]]:
    async def read() -> dict[str, dict[str, Any]]:
        erp = SimulatedErpAdapter(system.settings.erp_url)
        try:
            return {bc_mirror.stock_key(level.sku, level.location_id): bc_mirror.stock_payload(level, level.location_id)
                    async for chunk in erp.iter_stock() for level in chunk}
        finally:
            await erp.aclose()

    return asyncio.run(read())


def test_inventory_follows_the_erp_by_location_with_safety_stock_and_backorder(settings: Settings,
                                                                                tmp_path: Path) -> None:
    with order_system(settings, tmp_path, worker="none", register_hooks=False) as system, ExitStack() as stack:
        (sku,) = system.skus(1, offset=11)
        with worker_process(system.settings, tmp_path / "worker.log", env=env(system, 500)):
            system.erp_sim("/changes/stock", {"sku": sku, "location_id": 2, "on_hand": 17, "allocated": 5,
                                              "safety_stock": 3, "backorder": True})
            key = bc_mirror.stock_key(sku, 2)
            wait_until(lambda: bc_levels(system, [sku])[key]["quantity"] == 12, timeout=60,
                       what="the stock event written to BigCommerce")
            assert bc_levels(system, [sku])[key] == {"sku": sku, "location_id": 2, "quantity": 12, "safety_stock": 3,
                                                     "is_in_stock": True}
            system.erp_sim("/faults", {"down_seconds": 600})
            run = stack.enter_context(sync(system, "inventory"))
            wait_until(lambda: flow_status(system)["retries_waiting"] >= 1, timeout=240,
                       what="the inventory sync waiting out the ERP outage")
            system.http.delete(f"{system.erp.base_url}/_sim/faults")
            out, err = run.communicate(timeout=240)
            assert run.returncode == 0, (out, err)
            assert "sync inventory" in err  # the progress bar
            erp = erp_levels(system)
            bc = bc_levels(system, sorted({k.split(":", 1)[1] for k in erp}))
            assert {k: v for k, v in erp.items() if bc.get(k) != v} == {}
            writes = bc_sim(system, "GET", "/writes")
            assert writes["inventory_levels"][key] == 1
            assert max(writes["inventory_levels"].values()) == 1, "a level was written twice"
            again = stack.enter_context(sync(system, "inventory", "--full", "--no-progress"))  # BigCommerce re-read whole
            out, err = again.communicate(timeout=240)
            assert again.returncode == 0, (out, err)
            report = orjson.loads(out)["report"]
            assert report["written"] == 0 and report["re_read"] == report["compared"] > 0  # nothing differs now
            assert bc_sim(system, "GET", "/writes")["inventory_levels"] == writes["inventory_levels"]
