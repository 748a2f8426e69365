"""The simulator's adapter posting sales orders over real HTTP: one order per reference, ERP refusals as
``ErpRejected`` (duplicates as ``DuplicateReference``), outages as ``ErpUnavailable``, Decimal money
digit-exact, and the caller's trace carried on every call."""
from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from pricing_edge.domain.orders import ErpStatus, SalesOrder, SalesOrderLine, ShipTo, order_reference
from pricing_edge.erp import ErpAdapter, ErpBadResponse, ErpRejected, ErpUnavailable
from pricing_edge.erp.errors import DuplicateReference
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.ops import tracing
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from tests.support.redis_server import free_port
from tests.support.servers import ServerThread, serve


@pytest.fixture
def erp() -> Iterator[ServerThread]:
    with serve(create_app(build_dataset(7), latency_ms=0)) as server:
        yield server


@pytest.fixture
async def adapter(erp: ServerThread) -> AsyncIterator[SimulatedErpAdapter]:
    a = SimulatedErpAdapter(erp.base_url, timeout=10)
    yield a
    await a.aclose()


def sales_order(order_id: int = 101, **changes: Any) -> SalesOrder:
    order = SalesOrder(
        reference=order_reference("pe-demo", order_id), bc_order_id=order_id, customer_id=7, sold_to="company:1",
        currency="USD",
        lines=(SalesOrderLine("PE-10000", 3, Decimal("12.3400")), SalesOrderLine("PE-10001", 1, Decimal("0.10"))),
        ship_to=ShipTo("Avery Adams", "Acme Facilities", "1 Main St", "", "Austin", "TX", "78701", "US"),
        po_number="PO-77")
    return replace(order, **changes)


def erp_orders(erp: ServerThread) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = httpx.get(f"{erp.base_url}/_sim/sales-orders").json()["orders"]
    return orders


def test_it_is_still_an_erp_adapter(erp: ServerThread) -> None:
    assert isinstance(SimulatedErpAdapter(erp.base_url), ErpAdapter)


async def test_create_find_and_a_duplicate_is_refused(erp: ServerThread, adapter: SimulatedErpAdapter) -> None:
    order = sales_order()
    assert await adapter.find_sales_order(order.reference) is None

    created = await adapter.create_sales_order(order)
    assert created.number == "SO-100001" and created.reference == order.reference
    assert created.status is ErpStatus.OPEN and created.version > 0
    assert created.lines == order.lines
    assert [str(line.unit_price) for line in created.lines] == ["12.3400", "0.10"]  # the digits, as Decimals
    assert await adapter.find_sales_order(order.reference) == created

    with pytest.raises(DuplicateReference) as raised:
        await adapter.create_sales_order(replace(order, po_number="retry"))
    error = raised.value
    assert isinstance(error, ErpRejected) and not error.retryable
    assert (error.reference, error.status, error.erp) == (order.reference, 409, "simulated")
    assert "SO-100001" in str(error)
    assert [o["number"] for o in erp_orders(erp)] == ["SO-100001"]  # still one order
    assert await adapter.find_sales_order(order.reference) == created


async def test_an_unknown_item_is_rejected_naming_it(erp: ServerThread, adapter: SimulatedErpAdapter) -> None:
    order = sales_order(lines=(SalesOrderLine("PE-10000", 1, Decimal("1.00")),
                               SalesOrderLine("MAPPING-GAP-9", 2, Decimal("3.00"))))
    with pytest.raises(ErpRejected) as raised:
        await adapter.create_sales_order(order)
    assert not isinstance(raised.value, DuplicateReference)
    assert raised.value.status == 422 and not raised.value.retryable
    assert "unknown item 'MAPPING-GAP-9' on line 2" in str(raised.value)
    assert erp_orders(erp) == [] and await adapter.find_sales_order(order.reference) is None


async def test_an_unknown_account_is_rejected(erp: ServerThread, adapter: SimulatedErpAdapter) -> None:
    for sold_to in ("company:999", "customer:999"):
        with pytest.raises(ErpRejected, match="unknown account") as raised:
            await adapter.create_sales_order(sales_order(sold_to=sold_to))
        assert raised.value.status == 422
    assert erp_orders(erp) == []
    guest = await adapter.create_sales_order(sales_order(customer_id=0, sold_to="customer:0"))
    assert guest.status is ErpStatus.OPEN


async def test_update_while_open_and_cancel(adapter: SimulatedErpAdapter) -> None:
    order = sales_order()
    created = await adapter.create_sales_order(order)
    changed_lines = (SalesOrderLine("PE-10002", 5, Decimal("7.125")),)
    updated = await adapter.update_sales_order(created.number, replace(order, lines=changed_lines, ship_to=None))
    assert updated.lines == changed_lines and updated.status is ErpStatus.OPEN
    assert updated.version > created.version

    cancelled = await adapter.update_sales_order(created.number, replace(order, lines=changed_lines, cancelled=True))
    assert cancelled.status is ErpStatus.CANCELLED and cancelled.version > updated.version
    assert await adapter.find_sales_order(order.reference) == cancelled

    with pytest.raises(ErpRejected) as raised:  # a cancelled order stays cancelled
        await adapter.update_sales_order(created.number, order)
    assert raised.value.status == 409
    with pytest.raises(ErpRejected) as missing:
        await adapter.update_sales_order("SO-999999", order)
    assert missing.value.status == 404


async def test_update_after_shipping_is_rejected(erp: ServerThread, adapter: SimulatedErpAdapter) -> None:
    order = sales_order()
    created = await adapter.create_sales_order(order)
    shipped = httpx.post(f"{erp.base_url}/_sim/sales-orders/{created.number}/ship",
                         json={"carrier": "UPS", "tracking_number": "1Z1"})
    assert shipped.status_code == 200, shipped.text
    with pytest.raises(ErpRejected, match="shipped") as raised:
        await adapter.update_sales_order(created.number, replace(order, cancelled=True))
    assert raised.value.status == 409 and not isinstance(raised.value, DuplicateReference)
    found = await adapter.find_sales_order(order.reference)
    assert found is not None and found.status is ErpStatus.SHIPPED


async def test_a_new_item_makes_the_failed_order_go_through(erp: ServerThread, adapter: SimulatedErpAdapter) -> None:
    order = sales_order(lines=(SalesOrderLine("MAPPED-LATER", 4, Decimal("8.40")),))
    with pytest.raises(ErpRejected, match="MAPPED-LATER"):
        await adapter.create_sales_order(order)
    assert await adapter.get_prices(1, "USD", ["MAPPED-LATER"]) == {}

    added = httpx.post(f"{erp.base_url}/_sim/items", json={"sku": "MAPPED-LATER", "price": "8.40"})
    assert added.status_code == 201, added.text
    for price_list_id in (1, 2, 3):
        for currency in ("USD", "EUR"):
            prices = await adapter.get_prices(price_list_id, currency, ["MAPPED-LATER"])
            assert str(prices["MAPPED-LATER"].price) == "8.40"
    created = await adapter.create_sales_order(order)
    assert created.lines == order.lines


async def test_an_outage_is_unavailable_and_retryable(erp: ServerThread, adapter: SimulatedErpAdapter) -> None:
    order = sales_order()
    created = await adapter.create_sales_order(order)
    httpx.post(f"{erp.base_url}/_sim/faults", json={"down_seconds": 60})
    try:
        for call in (adapter.find_sales_order(order.reference), adapter.create_sales_order(sales_order(102)),
                     adapter.update_sales_order(created.number, replace(order, cancelled=True))):
            with pytest.raises(ErpUnavailable) as raised:
                await call
            assert raised.value.status == 503 and raised.value.retryable
    finally:
        httpx.delete(f"{erp.base_url}/_sim/faults")
    assert [o["status"] for o in erp_orders(erp)] == ["open"]  # nothing happened during the outage


async def test_nothing_listening_is_unavailable() -> None:
    adapter = SimulatedErpAdapter(f"http://127.0.0.1:{free_port()}", timeout=2)
    try:
        with pytest.raises(ErpUnavailable):
            await adapter.create_sales_order(sales_order())
        with pytest.raises(ErpUnavailable):
            await adapter.find_sales_order("BC-pe-demo-1")
    finally:
        await adapter.aclose()


# --- what reaches the ERP ------------------------------------------------------------------------

class Recorder:
    """A tiny ERP that records each request and answers with canned responses."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()

    def app(self) -> Starlette:
        async def record(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.requests.append((request.method, request.url.path, dict(request.headers), body))
            path = request.url.path
            if path == "/api/v1/sales-orders" and request.method == "GET":
                return JSONResponse({"items": []})
            if path == "/api/v1/sales-orders" and request.method == "POST":
                return JSONResponse({"error": "credit hold", "field": "sold_to"}, status_code=409)
            if path == "/api/v1/sales-orders/garbage":
                return PlainTextResponse("<html>proxy error</html>")
            if path == "/api/v1/sales-orders/wrong-shape":
                return JSONResponse({"number": "SO-1", "reference": "R", "status": "lost", "lines": [], "version": 1})
            if path == "/api/v1/sales-orders/float-money":
                return JSONResponse({"number": "SO-1", "reference": "R", "status": "open", "version": 1,
                                     "lines": [{"sku": "A", "quantity": 1, "unit_price": 1.5}]})
            return JSONResponse({"error": "throttled"}, status_code=429, headers={"retry-after": "3"})

        return Starlette(routes=[Route("/{path:path}", record, methods=["GET", "POST", "PATCH"])])

    def received(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        with self.lock:
            return list(self.requests)


async def test_every_call_carries_the_current_traceparent() -> None:
    recorder = Recorder()
    with serve(recorder.app()) as server:
        adapter = SimulatedErpAdapter(server.base_url, timeout=5)
        try:
            with tracing.span("order-flow") as traceparent:
                assert await adapter.find_sales_order("BC-pe-demo-1") is None
                with pytest.raises(ErpRejected):
                    await adapter.create_sales_order(sales_order())
            [(_, _, find_headers, _), (_, _, create_headers, _)] = recorder.received()
            for headers in (find_headers, create_headers):
                assert tracing.is_valid(headers.get("traceparent"))
                assert tracing.trace_id(headers["traceparent"]) == tracing.trace_id(traceparent)
        finally:
            await adapter.aclose()


async def test_the_body_sent_and_foreign_failures() -> None:
    recorder = Recorder()
    with serve(recorder.app()) as server:
        async with httpx.AsyncClient() as shared:
            adapter = SimulatedErpAdapter(server.base_url, timeout=5, client=shared)
            order = sales_order()
            # A 409 that is not about the reference is a plain rejection, not a duplicate.
            with pytest.raises(ErpRejected, match="credit hold") as raised:
                await adapter.create_sales_order(order)
            assert not isinstance(raised.value, DuplicateReference) and raised.value.status == 409
            method, path, headers, body = recorder.received()[-1]
            assert (method, path) == ("POST", "/api/v1/sales-orders")
            assert httpx.Response(200, content=body).json() == {
                "reference": "BC-pe-demo-101", "bc_order_id": 101, "customer_id": 7, "sold_to": "company:1",
                "currency": "USD", "document_type": "SO", "po_number": "PO-77",
                "ship_to": {"name": "Avery Adams", "company": "Acme Facilities", "street_1": "1 Main St",
                            "street_2": "", "city": "Austin", "state": "TX", "zip": "78701", "country_iso2": "US"},
                "cancelled": False,
                "lines": [{"sku": "PE-10000", "quantity": 3, "unit_price": "12.3400", "line_id": 0, "discount": "0",
                           "tax": "0", "options": [], "consignment": 0},
                          {"sku": "PE-10001", "quantity": 1, "unit_price": "0.10", "line_id": 0, "discount": "0",
                           "tax": "0", "options": [], "consignment": 0}],
                "consignments": [], "charges": [], "discount": "0", "coupons": [], "tax_inclusive": False}

            with pytest.raises(ErpBadResponse, match="non-JSON"):
                await adapter.update_sales_order("garbage", order)
            with pytest.raises(ErpBadResponse, match="status"):
                await adapter.update_sales_order("wrong-shape", order)
            with pytest.raises(ErpBadResponse, match="unit_price"):
                await adapter.update_sales_order("float-money", order)
            with pytest.raises(ErpUnavailable) as throttled:
                await adapter.update_sales_order("anything-else", order)
            assert throttled.value.status == 429 and throttled.value.retry_after == 3.0
            assert recorder.received()[-1][1] == "/api/v1/sales-orders/anything-else"
            with pytest.raises(ErpRejected, match="unit_price"):  # never sent: not an amount
                await adapter.create_sales_order(replace(order, lines=(SalesOrderLine("A", 1, Decimal("NaN")),)))
            await adapter.aclose()
            assert not shared.is_closed
