"""The simulator's adapter over real HTTP: Decimal money digit-exact, missing SKUs absent, whole exports."""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from pricing_edge.erp import ErpAdapter, ErpBadResponse, ErpRejected, ErpUnavailable
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.sim.dataset import Dataset, build_dataset
from pricing_edge.sim.erp import create_app
from tests.support.redis_server import free_port
from tests.support.servers import ServerThread, serve


@pytest.fixture
def dataset() -> Dataset:
    return build_dataset(7)


@pytest.fixture
def erp(dataset: Dataset) -> Iterator[ServerThread]:
    # The sim mutates the dataset it is given, so tests compare against a second, pristine copy.
    with serve(create_app(build_dataset(7), latency_ms=0)) as server:
        yield server


@pytest.fixture
async def adapter(erp: ServerThread) -> AsyncIterator[SimulatedErpAdapter]:
    a = SimulatedErpAdapter(erp.base_url, timeout=10, batch_size=97, page_size=211)
    yield a
    await a.aclose()


def test_it_is_an_erp_adapter(erp: ServerThread) -> None:
    assert isinstance(SimulatedErpAdapter(erp.base_url), ErpAdapter)


async def test_prices_round_trip_and_missing_skus_absent(adapter: SimulatedErpAdapter, dataset: Dataset) -> None:
    skus = list(dataset.iter_skus())[:300]  # more than one batch
    got = await adapter.get_prices(3, "EUR", skus + ["NOPE-1", "NOPE-2"])
    assert set(got) == set(skus)
    for sku in skus:
        expected = dataset.prices.get(3, sku, "EUR")
        assert got[sku] == expected
        assert str(got[sku].price) == str(expected.price) and isinstance(got[sku].price, Decimal)  # digits too
    assert any(r.bulk_tiers for r in got.values()) and any(r.sale_price for r in got.values())
    assert await adapter.get_prices(3, "EUR", []) == {}


async def test_money_is_digit_exact(erp: ServerThread, adapter: SimulatedErpAdapter) -> None:
    changed = httpx.post(f"{erp.base_url}/_sim/changes/price",
                         json={"price_list_id": 2, "sku": "PE-10000", "currency": "USD", "price": "1234567890.1230",
                     "sale_price": "0.10", "bulk_pricing": [{"min_quantity": 3, "price": "0.0001"}]})
    assert changed.status_code == 200, changed.text
    httpx.post(f"{erp.base_url}/_sim/changes/credit", json={"company_id": 3, "balance": "-0.50",
                                                            "credit_limit": "100000.00"})
    record = (await adapter.get_prices(2, "USD", ["PE-10000"]))["PE-10000"]
    assert str(record.price) == "1234567890.1230" and str(record.sale_price) == "0.10"
    assert str(record.bulk_tiers[0].amount) == "0.0001" and record.bulk_tiers[0].max_quantity is None
    credit = await adapter.get_credit(3)
    assert credit is not None and str(credit.balance) == "-0.50" and str(credit.credit_limit) == "100000.00"
    assert credit.available_credit == Decimal("100000.50")


async def test_stock_round_trip(adapter: SimulatedErpAdapter, dataset: Dataset) -> None:
    skus = list(dataset.iter_skus())[:150]
    got = await adapter.get_stock(skus + ["NOPE"])
    assert set(got) == set(skus)
    for sku in skus:
        assert got[sku] == dataset.stock_for(sku)
    assert sum(level.available_to_sell for level in got["PE-10002"]) == 10


async def test_credit_and_customer_round_trip(adapter: SimulatedErpAdapter, dataset: Dataset) -> None:
    for company in dataset.companies:
        credit = await adapter.get_credit(company.id)
        assert credit is not None
        assert (credit.credit_limit, credit.balance, credit.status, credit.version) == (
            company.credit_limit, company.balance, company.status, company.version)
    assert (await adapter.get_credit(4)).on_hold  # type: ignore[union-attr]
    assert await adapter.get_credit(999) is None
    customer = await adapter.get_customer(7)
    source = dataset.customer(7)
    assert customer is not None and source is not None
    assert (customer.customer_group_id, customer.company_id) == (source.customer_group_id, source.company_id)
    guestlike = await adapter.get_customer(40)  # one of the buyers without a company
    assert guestlike is not None and guestlike.company_id is None
    assert await adapter.get_customer(999) is None


async def test_customer_change_is_read_back(erp: ServerThread, adapter: SimulatedErpAdapter) -> None:
    before = await adapter.get_customer(5)
    httpx.post(f"{erp.base_url}/_sim/changes/customer", json={"customer_id": 5, "customer_group_id": 1,
                                                               "company_id": None})
    after = await adapter.get_customer(5)
    assert before is not None and after is not None
    assert (after.customer_group_id, after.company_id) == (1, None) and after.version > before.version


async def test_bulk_iteration_covers_a_whole_price_list(adapter: SimulatedErpAdapter, dataset: Dataset) -> None:
    seen: list[str] = []
    batches = 0
    async for batch in adapter.iter_price_list(5, "USD"):
        batches += 1
        for record in batch:
            assert record == dataset.prices.get(5, record.sku, "USD")
            seen.append(record.sku)
    assert seen == list(dataset.iter_skus())  # all of it, in order, no duplicates
    assert batches == -(-len(seen) // 211)


async def test_bulk_stock_iteration_covers_everything_in_whole_skus(adapter: SimulatedErpAdapter,
                                                                    dataset: Dataset) -> None:
    seen: dict[tuple[str, int], object] = {}
    async for batch in adapter.iter_stock():
        skus = {level.sku for level in batch}
        assert len(batch) == 3 * len(skus)  # a SKU's warehouses never straddle two batches
        for level in batch:
            assert (level.sku, level.location_id) not in seen
            seen[(level.sku, level.location_id)] = level
    assert seen == dataset.stock


async def test_unknown_price_list_and_bad_currency_are_rejected(adapter: SimulatedErpAdapter) -> None:
    with pytest.raises(ErpRejected) as raised:
        await adapter.get_prices(99, "USD", ["PE-10000"])
    assert raised.value.status == 404 and not raised.value.retryable
    with pytest.raises(ErpRejected, match="currency"):
        await adapter.get_prices(1, "usd", ["PE-10000"])
    with pytest.raises(ErpRejected):
        async for _ in adapter.iter_price_list(99, "USD"):
            pass


async def test_nothing_listening_is_unavailable() -> None:
    adapter = SimulatedErpAdapter(f"http://127.0.0.1:{free_port()}", timeout=2)
    try:
        with pytest.raises(ErpUnavailable):
            await adapter.get_credit(1)
    finally:
        await adapter.aclose()


def misbehaving_erp() -> Starlette:
    async def throttled(request: Request) -> Response:
        return JSONResponse({"error": "slow down"}, status_code=429, headers={"retry-after": "7"})

    async def garbage(request: Request) -> Response:
        return PlainTextResponse("<html>bad gateway</html>")

    async def wrong_shape(request: Request) -> Response:
        return JSONResponse({"company_id": 1, "credit_limit": 5.5, "balance": "1", "status": "ok", "version": 1})

    return Starlette(routes=[
        Route("/api/v1/price-lists/1/prices", throttled),
        Route("/api/v1/stock", garbage),
        Route("/api/v1/companies/1/credit", wrong_shape),
    ])


async def test_foreign_failures_map_to_erp_errors() -> None:
    with serve(misbehaving_erp()) as server:
        async with httpx.AsyncClient() as shared:
            adapter = SimulatedErpAdapter(server.base_url, timeout=5, client=shared)
            with pytest.raises(ErpUnavailable) as raised:
                await adapter.get_prices(1, "USD", ["A"])
            assert raised.value.status == 429 and raised.value.retry_after == 7.0
            assert "slow down" in str(raised.value)
            with pytest.raises(ErpBadResponse, match="non-JSON"):
                await adapter.get_stock(["A"])
            with pytest.raises(ErpBadResponse, match="credit_limit"):
                await adapter.get_credit(1)
            await adapter.aclose()
            assert not shared.is_closed  # a shared client belongs to its owner
