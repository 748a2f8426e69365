"""The ERP simulator's live-read API: deterministic for a seed, ERP-like answers, 400s that name the problem."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from pricing_edge.domain import events
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from tests.support.servers import serve


def snapshot(base_url: str) -> dict[str, Any]:
    """Everything the ERP states, read over HTTP: every price list in both currencies, all stock, all credit."""
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        lists = client.get("/api/v1/price-lists").json()["items"]
        for price_list in lists:
            for currency in price_list["currencies"]:
                out[f"prices:{price_list['id']}:{currency}"] = _export(
                    client, f"/api/v1/price-lists/{price_list['id']}/prices/export", {"currency": currency})
        out["stock"] = _export(client, "/api/v1/stock/export", {})
        company_id = 1
        while (response := client.get(f"/api/v1/companies/{company_id}/credit")).status_code == 200:
            out[f"credit:{company_id}"] = response.json()
            company_id += 1
        out["customers"] = [client.get(f"/api/v1/customers/{i}").json() for i in range(1, 41)]
    return out


def _export(client: httpx.Client, path: str, params: dict[str, Any]) -> list[Any]:
    items: list[Any] = []
    offset: int | None = 0
    while offset is not None:
        body = client.get(path, params={**params, "offset": offset, "limit": 1000}).json()
        items.extend(body["items"])
        offset = body["next_offset"]
    return items


@pytest.fixture(scope="module")
def seed7() -> Iterator[str]:
    with serve(create_app(build_dataset(7), latency_ms=0)) as server:
        yield server.base_url


def test_same_seed_same_erp_over_http(seed7: str) -> None:
    with serve(create_app(build_dataset(7), latency_ms=0)) as other:
        first, second = snapshot(seed7), snapshot(other.base_url)
    assert first == second
    assert len(first["prices:1:USD"]) > 1000 and len(first["stock"]) > 3000 and "credit:4" in first
    assert first["credit:4"]["status"] == "hold"


def test_another_seed_differs(seed7: str) -> None:
    with serve(create_app(build_dataset(8), latency_ms=0)) as other:
        first, second = snapshot(seed7), snapshot(other.base_url)
    assert first["prices:1:USD"] != second["prices:1:USD"]
    assert first["stock"] != second["stock"]


def test_prices_for_skus_report_unknown_ones_missing(seed7: str) -> None:
    dataset = build_dataset(7)
    known = list(dataset.iter_skus())[:3]
    body = httpx.get(f"{seed7}/api/v1/price-lists/3/prices",
                     params=[("currency", "EUR"), ("sku", f"{known[0]},{known[1]}"), ("sku", "NOPE-1"),
                             ("sku", known[2])]).json()
    assert [item["sku"] for item in body["items"]] == known
    assert body["missing"] == ["NOPE-1"]
    for item in body["items"]:
        record = events.price_from_data(item)
        assert record == dataset.prices.get(3, record.sku, "EUR")
        assert isinstance(item["price"], str)


def test_a_currency_the_list_does_not_price_is_all_missing(seed7: str) -> None:
    body = httpx.get(f"{seed7}/api/v1/price-lists/2/prices", params={"currency": "GBP", "sku": "PE-10000"}).json()
    assert body["items"] == [] and body["missing"] == ["PE-10000"]


def test_stock_per_warehouse(seed7: str) -> None:
    dataset = build_dataset(7)
    body = httpx.get(f"{seed7}/api/v1/stock", params={"sku": "PE-10002,NOPE"}).json()
    levels = [events.stock_from_data(item) for item in body["items"]]
    assert levels == dataset.stock_for("PE-10002") and len(levels) == 3
    assert sum(level.available_to_sell for level in levels) == 10
    assert body["missing"] == ["NOPE"]
    one = httpx.get(f"{seed7}/api/v1/stock", params={"sku": "PE-10002", "location_id": 2}).json()
    assert [item["location_id"] for item in one["items"]] == [2]


def test_credit_and_customer(seed7: str) -> None:
    credit = events.credit_from_data(httpx.get(f"{seed7}/api/v1/companies/4/credit").json())
    assert credit.status == "hold" and credit.credit_limit > 0 and isinstance(credit.balance, Decimal)
    customer = events.customer_from_data(httpx.get(f"{seed7}/api/v1/customers/1").json())
    assert customer.customer_id == 1 and customer.company_id == 1
    assert httpx.get(f"{seed7}/api/v1/companies/999/credit").status_code == 404
    assert httpx.get(f"{seed7}/api/v1/customers/999").status_code == 404
    assert httpx.get(f"{seed7}/healthz").json()["status"] == "ok"


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/v1/price-lists/1/prices", {"sku": "PE-10000"}, "currency"),
    ("/api/v1/price-lists/1/prices", {"currency": "usd", "sku": "PE-10000"}, "currency"),
    ("/api/v1/price-lists/1/prices", {"currency": "USD"}, "sku"),
    ("/api/v1/price-lists/1/prices", {"currency": "USD", "sku": ",".join(f"S{i}" for i in range(501))}, "sku"),
    ("/api/v1/price-lists/1/prices/export", {"currency": "USD", "limit": "0"}, "limit"),
    ("/api/v1/price-lists/1/prices/export", {"currency": "USD", "offset": "x"}, "offset"),
    ("/api/v1/stock", {"sku": "PE-10000", "location_id": "99"}, "location_id"),
    ("/api/v1/stock/export", {"limit": "5000"}, "limit"),
])
def test_bad_params_are_400_naming_the_problem(seed7: str, path: str, params: dict[str, str], field: str) -> None:
    response = httpx.get(seed7 + path, params=params)
    assert response.status_code == 400
    assert response.json()["field"] == field and response.json()["error"].startswith(f"{field}:")


def test_unknown_price_list_is_404(seed7: str) -> None:
    response = httpx.get(f"{seed7}/api/v1/price-lists/99/prices", params={"currency": "USD", "sku": "PE-10000"})
    assert response.status_code == 404 and "99" in response.json()["error"]


def test_export_pages_whole_skus(seed7: str) -> None:
    first = httpx.get(f"{seed7}/api/v1/stock/export", params={"limit": 7}).json()
    assert first["next_offset"] == 7
    skus = {item["sku"] for item in first["items"]}
    assert len(skus) == 7 and len(first["items"]) == 7 * 3


def test_live_reads_are_counted_per_key_and_the_count_can_be_reset() -> None:
    with serve(create_app(build_dataset(7), latency_ms=0)) as erp, httpx.Client(base_url=erp.base_url) as client:
        sku = build_dataset(7).products[0].variants[0].sku
        for _ in range(3):
            assert client.get("/api/v1/price-lists/2/prices", params={"currency": "USD", "sku": sku}).status_code == 200
        assert client.get("/api/v1/stock", params={"sku": sku}).status_code == 200
        counted = client.get("/_sim/reads", params={"reset": "1"}).json()
        assert counted["reads"] == {f"price:2:USD:{sku}": 3, f"stock:{sku}": 1} and counted["total"] == 4
        assert client.get("/_sim/reads").json() == {"total": 0, "keys": 0, "reads": {}}
