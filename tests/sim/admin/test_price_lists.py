"""The REST Admin simulator's price lists and inventory: every request and answer validated against the vendor's
``price_lists.v3.yml``, ``inventory.v3.yml`` and ``locations.v3.yml`` (openapi-core); what is written is what
the simulated storefront then shows; every write counted; a bad batch refused whole."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from pricing_edge.config import DEMO_STOREFRONT_TOKEN
from pricing_edge.jsonio import dumps
from pricing_edge.sim.dataset import Dataset, build_dataset
from tests.sim.admin.support import Sim, check, make_app, simple_product
from tests.support.servers import serve

PRICE_LISTS = "bigcommerce/rest/price_lists.v3.yml"
INVENTORY = "bigcommerce/rest/inventory.v3.yml"
LOCATIONS = "bigcommerce/rest/locations.v3.yml"


@pytest.fixture
def dataset() -> Dataset:
    """Each test writes into BigCommerce's copy: a dataset of its own."""
    return build_dataset(product_count=40)


@pytest.fixture
def sim(dataset: Dataset) -> Iterator[Sim]:
    app = make_app(dataset)
    with serve(app) as server:
        yield Sim(server, app)


def send(client: httpx.Client, method: str, path: str, body: Any = None) -> httpx.Response:
    return client.request(method, path, content=dumps(body) if body is not None else None)


def checked(rest: httpx.Client, spec: str, method: str, path: str, body: Any = None,
            status: int = 200) -> httpx.Response:
    """One exchange, its status and its conformance to the vendor's OpenAPI file checked."""
    response = send(rest, method, path, body)
    assert response.status_code == status, response.text
    check(spec, response)
    return response


def writes(sim: Sim) -> dict[str, Any]:
    return dict(httpx.get(sim.server.base_url + "/_sim/writes", timeout=30).json())


def storefront_price(sim: Sim, product_id: int) -> Decimal:
    """The guest's price (price list 1) as the simulated storefront's GraphQL answers it."""
    query = "query($id: Int!) { site { product(entityId: $id) { prices { price { value } } } } }"
    response = httpx.post(sim.server.base_url + "/graphql", json={"query": query, "variables": {"id": product_id}},
                          headers={"Authorization": f"Bearer {DEMO_STOREFRONT_TOKEN}"}, timeout=30)
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["data"]["site"]["product"]["prices"]["price"]["value"]))


def test_price_lists_and_records_match_the_spec_and_an_upsert_is_what_the_storefront_shows(sim: Sim,
                                                                                            dataset: Dataset) -> None:
    product = simple_product(dataset)
    sku = product.default_variant.sku
    with sim.rest() as rest:
        lists = checked(rest, PRICE_LISTS, "GET", "/v3/pricelists")
        assert [p["id"] for p in lists.json()["data"]] == [p.id for p in dataset.price_lists]

        tiers = [{"quantity_min": 10, "quantity_max": 49, "type": "fixed", "amount": Decimal("7.25")},
                 {"quantity_min": 50, "type": "percent", "amount": 10}]
        upsert = send(rest, "PUT", "/v3/pricelists/1/records", [
            {"sku": sku, "currency": "usd", "price": Decimal("8.40"), "retail_price": Decimal("12"),
             "bulk_pricing_tiers": tiers},
            {"sku": sku, "currency": "eur", "price": Decimal("7.70"), "sale_price": Decimal("7.10")}])
        assert upsert.status_code == 200, upsert.text
        check(PRICE_LISTS, upsert)

        records = checked(rest, PRICE_LISTS, "GET", f"/v3/pricelists/1/records?sku:in={sku}&include=bulk_pricing_tiers,sku")
        by_currency = {r["currency"]: r for r in records.json()["data"]}
        assert by_currency["usd"]["price"] == 8.4 and by_currency["usd"]["sku"] == sku
        assert by_currency["usd"]["bulk_pricing_tiers"][1] == {"quantity_min": 50, "quantity_max": 2147483647,
                                                               "type": "percent", "amount": 10}
        assert by_currency["eur"]["sale_price"] == 7.1 and by_currency["eur"]["calculated_price"] == 7.1
        page = send(rest, "GET", "/v3/pricelists/2/records?limit=5&page=2&currency=usd")
        check(PRICE_LISTS, page)
        assert page.json()["meta"]["pagination"]["current_page"] == 2 and len(page.json()["data"]) == 5
    assert storefront_price(sim, product.id) == Decimal("8.40")
    assert writes(sim)["price_records"] == {f"1:USD:{sku}": 1, f"1:EUR:{sku}": 1}


def test_an_upsert_with_one_bad_record_is_refused_whole_and_writes_nothing(sim: Sim, dataset: Dataset) -> None:
    product = simple_product(dataset)
    before = dataset.bc_prices.get(1, product.default_variant.sku, "USD")
    with sim.rest() as rest:
        refused = send(rest, "PUT", "/v3/pricelists/1/records", [
            {"sku": product.default_variant.sku, "currency": "usd", "price": Decimal("1.00")},
            {"sku": "NO-SUCH-SKU", "currency": "usd", "price": Decimal("1.00")},
            {"sku": product.default_variant.sku, "currency": "gbp"}])
        assert refused.status_code == 422
        check(PRICE_LISTS, refused)
        errors = refused.json()["batch_errors"]
        assert [sorted(e["field_errors"]) for e in errors] == [["sku"], ["currency", "price"]]
        assert send(rest, "PUT", "/v3/pricelists/999/records", []).status_code == 404
    assert dataset.bc_prices.get(1, product.default_variant.sku, "USD") == before
    assert writes(sim)["price_records"] == {}


def test_inventory_matches_the_spec_and_absolute_levels_and_settings_are_what_the_storefront_counts(
        sim: Sim, dataset: Dataset) -> None:
    product = simple_product(dataset)
    sku = product.default_variant.sku
    with sim.rest() as rest:
        locations = checked(rest, LOCATIONS, "GET", "/v3/inventory/locations")
        assert [loc["code"] for loc in locations.json()["data"]] == ["MAIN-DC", "EAST-WH", "WEST-WH"]

        adjusted = send(rest, "PUT", "/v3/inventory/adjustments/absolute", {
            "reason": "ERP stock", "items": [{"location_id": 1, "sku": sku, "quantity": 40},
                                             {"location_id": 2, "sku": sku, "quantity": 0},
                                             {"location_id": 3, "sku": sku, "quantity": 5}]})
        assert adjusted.status_code == 200, adjusted.text
        check(INVENTORY, adjusted)
        settings = send(rest, "PUT", "/v3/inventory/locations/1/items",
                        {"settings": [{"identity": {"sku": sku}, "safety_stock": 4, "is_in_stock": True}]})
        assert settings.status_code == 200, settings.text
        check(INVENTORY, settings)

        items = checked(rest, INVENTORY, "GET", f"/v3/inventory/items?sku:in={sku}")
        (item,) = items.json()["data"]
        first = item["locations"][0]
        assert (first["total_inventory_onhand"], first["available_to_sell"], first["settings"]["safety_stock"],
                first["settings"]["is_in_stock"]) == (40, 36, 4, True)

        bad = send(rest, "PUT", "/v3/inventory/adjustments/absolute",
                   {"items": [{"location_id": 1, "sku": sku, "quantity": 1},
                              {"location_id": 99, "sku": sku, "quantity": 1}]})
        assert bad.status_code == 422
        empty = send(rest, "PUT", "/v3/inventory/locations/1/items", {"settings": [{"identity": {"sku": sku}}]})
        assert empty.status_code == 422 and "At least one setting" in empty.text
    catalog_levels = dataset.stock_for(sku, bigcommerce=True)
    assert sum(level.available_to_sell for level in catalog_levels) == 36 + 0 + 5 - catalog_levels[2].safety_stock
    counted = writes(sim)
    assert counted["inventory_levels"] == {f"1:{sku}": 1, f"2:{sku}": 1, f"3:{sku}": 1}
    assert counted["inventory_settings"] == {f"1:{sku}": 1}
