"""The BigCommerce sync flow's handling of ERP events, against the REST Admin simulator over real HTTP and a real
Redis: a burst of price events costs one upsert, each record is written once, an event overtaken by a newer
write writes nothing, a bad event is refused by name, and a record BigCommerce refuses fails its own event only."""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx
import pytest

from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.bigcommerce.errors import BigCommerceRejected
from pricing_edge.config import Settings
from pricing_edge.domain import events
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.sim.dataset import Dataset, build_dataset
from pricing_edge.sim.erp.app import create_app as create_erp_app
from pricing_edge.store import open_store
from pricing_edge.store.base import Store
from pricing_edge.store.embedded import EmbeddedStore
from pricing_edge.store.bc_mirror import mirror_state
from pricing_edge.worker.app import build_worker
from pricing_edge.worker.errors import PermanentError
from pricing_edge.worker.flows.bc_sync import FLOW, BigCommerceSyncFlow, entity, sync_message
from pricing_edge.worker.messages import Message
from tests.sim.admin.support import ADMIN_TOKEN, STORE_HASH, make_app
from tests.support.servers import ServerThread, serve


@pytest.fixture
def dataset() -> Dataset:
    return build_dataset(product_count=40)


@pytest.fixture
def bigcommerce(dataset: Dataset) -> Iterator[ServerThread]:
    with serve(make_app(dataset)) as server:
        yield server


@pytest.fixture
async def store(redis_url: str, redis_prefix: str) -> AsyncIterator[Store]:
    opened = open_store(replace(Settings.from_env({}), redis_url=redis_url, redis_prefix=redis_prefix))
    yield opened
    await opened.aclose()


@pytest.fixture
async def flow(store: Store, bigcommerce: ServerThread) -> AsyncIterator[BigCommerceSyncFlow]:
    admin = BigCommerceAdmin(bigcommerce.base_url, store_hash=STORE_HASH, access_token=ADMIN_TOKEN,
                             quota=store.rest_quota(STORE_HASH))
    erp = SimulatedErpAdapter("http://127.0.0.1:9")  # events carry their records: the ERP is never asked
    yield BigCommerceSyncFlow(admin, erp, store, mirror_state(store, STORE_HASH), store_hash=STORE_HASH,
                              currencies=("USD", "EUR"), queue=store.work_queue())
    await admin.aclose()
    await erp.aclose()


def price_event(record: PriceRecord, n: int) -> Message:
    return Message(f"evt-{n}", FLOW, entity("prices", STORE_HASH), events.PRICE_CHANGED, "erp",
                   events.price_to_data(record), "", 0)


async def drain(flow: BigCommerceSyncFlow, store: Store) -> None:
    """Handle the entity's messages one after the other, as the engine does."""
    queue = store.work_queue()
    while (taken := await queue.take(FLOW, "test", 30_000)) is not None:
        await flow.handle(Message.decode(taken.body), taken.token)
        assert await queue.complete(taken)


def requests_made(bigcommerce: ServerThread) -> int:
    return int(httpx.get(bigcommerce.base_url + "/_sim/rate-limit", timeout=30).json()["allowed"])


def writes(bigcommerce: ServerThread) -> dict[str, Any]:
    return dict(httpx.get(bigcommerce.base_url + "/_sim/writes", timeout=30).json())


async def test_a_burst_of_price_events_is_one_upsert_and_each_record_is_written_once(
        flow: BigCommerceSyncFlow, store: Store, bigcommerce: ServerThread, dataset: Dataset) -> None:
    skus = [v.sku for p in dataset.products[:30] for v in p.variants][:30]
    changed = [PriceRecord(2, sku, "USD", Decimal("3.10") + n, version=10_000_000 + n) for n, sku in enumerate(skus)]
    for n, record in enumerate(changed):
        await store.work_queue().enqueue(FLOW, entity("prices", STORE_HASH), price_event(record, n).encode())
    before = requests_made(bigcommerce)
    await drain(flow, store)
    assert requests_made(bigcommerce) - before == 2  # BigCommerce's records read back once, one upsert
    assert writes(bigcommerce)["price_records"] == {f"2:USD:{sku}": 1 for sku in skus}
    held = [dataset.bc_prices.get(2, r.sku, "USD") for r in changed]  # the simulator's own copy
    assert [h.price if h else None for h in held] == [r.price for r in changed]

    overtaken = replace(changed[0], price=Decimal("99"), version=changed[0].version - 1)
    await store.work_queue().enqueue(FLOW, entity("prices", STORE_HASH), price_event(overtaken, 99).encode())
    await drain(flow, store)
    assert writes(bigcommerce)["price_records"][f"2:USD:{skus[0]}"] == 1  # older than what was written


async def test_a_stock_event_sets_the_level_and_settings_at_its_location(
        flow: BigCommerceSyncFlow, store: Store, bigcommerce: ServerThread, dataset: Dataset) -> None:
    sku = dataset.products[0].default_variant.sku
    level = events.stock_to_data(dataset.stock[(sku, 3)]) | {"on_hand": 9, "allocated": 2, "safety_stock": 1,
                                                             "backorder": False, "version": 10_000_000}
    message = Message("evt-s", FLOW, entity("inventory", STORE_HASH), events.STOCK_CHANGED, "erp", level, "", 0)
    await flow.handle(message, "token")
    bc = dataset.bc_stock[(sku, 3)]  # the simulator's own copy
    assert (bc.on_hand - bc.allocated, bc.safety_stock, bc.backorder) == (7, 1, False)
    assert writes(bigcommerce)["inventory_levels"] == {f"3:{sku}": 1}


async def test_a_bad_event_is_refused_by_name(flow: BigCommerceSyncFlow) -> None:
    message = Message("evt-bad", FLOW, entity("prices", STORE_HASH), events.PRICE_CHANGED, "erp",
                      {"price_list_id": 1, "sku": "X", "currency": "USD", "price": 3.5, "version": 1}, "", 0)
    with pytest.raises(PermanentError, match="price"):
        await flow.handle(message, "token")


async def test_a_record_bigcommerce_refuses_fails_its_own_event_not_those_queued_with_it(
        flow: BigCommerceSyncFlow, store: Store, bigcommerce: ServerThread, dataset: Dataset) -> None:
    good = [PriceRecord(1, p.default_variant.sku, "USD", Decimal("4.40"), version=20_000_000 + n)
            for n, p in enumerate(dataset.products[:2])]
    ghost = PriceRecord(1, "GHOST-1", "USD", Decimal("1.00"), version=20_000_005)  # unknown to BigCommerce
    queue = store.work_queue()
    for n, record in enumerate([good[0], ghost, good[1]]):
        await queue.enqueue(FLOW, entity("prices", STORE_HASH), price_event(record, n).encode())
    outcomes = []
    while (taken := await queue.take(FLOW, "test", 30_000)) is not None:
        try:
            await flow.handle(Message.decode(taken.body), taken.token)
            outcomes.append("ok")
        except BigCommerceRejected as exc:
            outcomes.append("refused")
            assert "GHOST-1" in str(exc)
        assert await queue.complete(taken)
    assert outcomes == ["ok", "refused", "ok"]
    assert writes(bigcommerce)["price_records"] == {f"1:USD:{r.sku}": 1 for r in good}


@pytest.mark.parametrize("on", [True, False])
async def test_the_push_runs_only_when_it_is_on(on: bool) -> None:
    """PRICING_EDGE_BC_SYNC=0 (another tool owns BigCommerce's price lists): the worker has no such flow."""
    settings = Settings.from_env({"PRICING_EDGE_BC_SYNC": "1" if on else "0"})
    store = EmbeddedStore(announce=False)
    admin = BigCommerceAdmin("http://127.0.0.1:9", store_hash=STORE_HASH, access_token=ADMIN_TOKEN)
    erp = SimulatedErpAdapter("http://127.0.0.1:9")
    try:
        worker = build_worker(settings, store, erp, admin)
        assert (FLOW in {flow.name for flow in worker.flows}) is on
        assert "orders" in {flow.name for flow in worker.flows}
    finally:
        await admin.aclose()
        await erp.aclose()


async def test_a_sync_run_pushes_a_currency_bigcommerce_enabled_only_on_channel_2(
        store: Store, dataset: Dataset) -> None:
    """PRICING_EDGE_CURRENCIES says USD; BigCommerce sells in EUR too (channel 2 only): EUR is pushed."""
    bc_app = make_app(dataset)
    bc_app.state.admin.channels.channels[1].currencies = ("USD",)
    sku = dataset.products[0].default_variant.sku
    with serve(bc_app) as bigcommerce, serve(create_erp_app(dataset, latency_ms=0)) as erp_sim:
        for currency in ("USD", "EUR"):  # the ERP changes a price in each currency
            changed = httpx.post(erp_sim.base_url + "/_sim/changes/price", timeout=30, json={
                "price_list_id": 2, "sku": sku, "currency": currency, "price": "7.25", "sale_price": None})
            assert changed.status_code == 200, changed.text
        admin = BigCommerceAdmin(bigcommerce.base_url, store_hash=STORE_HASH, access_token=ADMIN_TOKEN,
                                 quota=store.rest_quota(STORE_HASH))
        erp = SimulatedErpAdapter(erp_sim.base_url)
        flow = BigCommerceSyncFlow(admin, erp, store, mirror_state(store, STORE_HASH), store_hash=STORE_HASH,
                                   currencies=("USD",), queue=store.work_queue())
        try:
            message = sync_message("prices", STORE_HASH, full=False)
            await store.work_queue().enqueue(FLOW, message.entity, message.encode())
            await drain(flow, store)
        finally:
            await admin.aclose()
            await erp.aclose()
        written = writes(bigcommerce)["price_records"]
    assert written.get(f"2:EUR:{sku}") == 1 and written.get(f"2:USD:{sku}") == 1
    held = dataset.bc_prices.get(2, sku, "EUR")
    assert held is not None and held.price == Decimal("7.25")
