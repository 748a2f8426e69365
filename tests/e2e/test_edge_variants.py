"""The variant a query selects — ``product(variantEntityId:|optionValueIds:|sku:)`` — is what BigCommerce shows
on ``Product.prices`` and ``Product.inventory``: that variant's price and stock (the range stays the product's).
Through the edge both are the buyer's ERP values for that variant."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pricing_edge.sim.dataset import Dataset, Variant, build_dataset
from pricing_edge.sim.storefront.products import variant_values
from tests.e2e.catalyst import expected_prices
from tests.e2e.conftest import System, shared_redis_system

BUYER = "1"
SHOWCASE = 104  # a product with colour and size variants
SELECTED = """query Selected($id: Int, $variant: Int, $sku: String, $values: [OptionValueId!]) { site {
  product(entityId: $id, variantEntityId: $variant, sku: $sku, optionValueIds: $values) { entityId sku
    prices { price { value } priceRange { min { value } max { value } } }
    inventory { isInStock aggregated { availableToSell } } } } }"""


@pytest.fixture(scope="module")
def system(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    yield from shared_redis_system(redis_url, Path(tmp_path_factory.mktemp("variants")), "variants",
                                   erp_budget_ms=30_000.0)


@pytest.fixture(scope="module")
def dataset(system: System) -> Dataset:
    return build_dataset(system.settings.seed)


def _value(money: dict[str, Any]) -> Decimal:
    return Decimal(str(money["value"]))


def _selections(dataset: Dataset, variant: Variant) -> dict[str, dict[str, Any]]:
    product = dataset.product_by_id[SHOWCASE]
    values = variant_values(dataset.catalog_content.options[product.id], variant)
    return {
        "variantEntityId": {"variant": variant.id},
        "sku": {"sku": variant.sku},
        "optionValueIds": {"id": SHOWCASE, "values": [{"optionEntityId": o, "valueEntityId": v}
                                                      for o, v in values.items()]},
    }


@pytest.mark.parametrize("how", ["variantEntityId", "sku", "optionValueIds"])
def test_the_selected_variants_erp_price_and_stock_show_on_the_product(system: System, dataset: Dataset,
                                                                      how: str) -> None:
    product = dataset.product_by_id[SHOWCASE]
    variant = product.variants[2]  # not the default one
    price_list = system.buyer(BUYER)["price_list_id"]
    variables = _selections(dataset, variant)[how]
    edge = system.query(SELECTED, BUYER, variables)
    upstream = system.upstream(SELECTED, BUYER, variables)
    assert "errors" not in edge, edge
    shown, theirs = edge["data"]["site"]["product"], upstream["data"]["site"]["product"]
    assert shown["sku"] == theirs["sku"] == variant.sku  # BigCommerce's variant overlay, passed through
    record = dataset.prices.get(price_list, variant.sku, "USD")
    assert record is not None
    assert _value(shown["prices"]["price"]) == record.effective_price
    whole = expected_prices(dataset, product, price_list, "USD")["priceRange"]
    assert (_value(shown["prices"]["priceRange"]["min"]), _value(shown["prices"]["priceRange"]["max"])) == \
        (whole["min"], whole["max"])  # the range is still the whole product's
    available = sum(level.available_to_sell for level in dataset.stock_for(variant.sku))
    assert shown["inventory"]["aggregated"]["availableToSell"] == available
    default = dataset.prices.get(price_list, product.variants[0].sku, "USD")
    assert default is not None and default.effective_price != record.effective_price  # the test can tell them apart


def test_without_a_selection_the_product_shows_its_default_variant_and_all_its_stock(system: System,
                                                                                    dataset: Dataset) -> None:
    product = dataset.product_by_id[SHOWCASE]
    price_list = system.buyer(BUYER)["price_list_id"]
    shown = system.query(SELECTED, BUYER, {"id": SHOWCASE})["data"]["site"]["product"]
    assert shown["sku"] == product.sku
    assert _value(shown["prices"]["price"]) == expected_prices(dataset, product, price_list, "USD")["price"]
    total = sum(level.available_to_sell for v in product.variants for level in dataset.stock_for(v.sku))
    assert shown["inventory"]["aggregated"]["availableToSell"] == total


LARGE = """query Large($id: Int!) { site { product(entityId: $id) { entityId
  prices { price { value } priceRange { min { value } max { value } } }
  inventory { aggregated { availableToSell } } } } }"""


def test_a_product_with_120_variants_gets_the_range_and_stock_of_all_of_them(system: System, dataset: Dataset) -> None:
    product = dataset.products[-1]
    assert len(product.variants) == 120
    price_list = system.buyer(BUYER)["price_list_id"]
    whole = expected_prices(dataset, product, price_list, "USD")["priceRange"]
    first_page = [r.effective_price for v in product.variants[:50]
                  if (r := dataset.prices.get(price_list, v.sku, "USD")) is not None]
    assert whole["max"] > max(first_page)  # the dearest variants are past BigCommerce's first page
    for _ in range(2):  # computed, then again (from the cache, or from what the edge learned of the product)
        shown = system.query(LARGE, BUYER, {"id": product.id})["data"]["site"]["product"]
        assert (_value(shown["prices"]["priceRange"]["min"]), _value(shown["prices"]["priceRange"]["max"])) == \
            (whole["min"], whole["max"])
        stock = sum(level.available_to_sell for v in product.variants for level in dataset.stock_for(v.sku))
        assert shown["inventory"]["aggregated"]["availableToSell"] == stock


def test_a_variant_past_the_first_page_can_be_selected(system: System, dataset: Dataset) -> None:
    product = dataset.products[-1]
    variant = product.variants[100]
    price_list = system.buyer(BUYER)["price_list_id"]
    shown = system.query(SELECTED, BUYER, {"variant": variant.id})["data"]["site"]["product"]
    record = dataset.prices.get(price_list, variant.sku, "USD")
    assert record is not None and shown["sku"] == variant.sku
    assert _value(shown["prices"]["price"]) == record.effective_price
    assert shown["inventory"]["aggregated"]["availableToSell"] == \
        sum(level.available_to_sell for level in dataset.stock_for(variant.sku))
