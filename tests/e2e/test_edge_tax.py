"""Tax-inclusive prices are the buyer's ERP prices with the buyer's tax: the edge asks BigCommerce for its
exclusive and inclusive values of the same product, recovers the rate of the buyer's tax zone, applies it
to the ERP price and rounds as BigCommerce does. Two colleagues on one price list but in two tax zones
(pricing_edge.sim.fixtures.DEMO_TAX_ZONES) each get their own zone's prices, however the cache is warmed."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pricing_edge.domain.pricing import view_of, with_ranges
from pricing_edge.sim.dataset import Dataset, build_dataset
from pricing_edge.sim.fixtures import DEMO_TAX_ZONES
from tests.e2e.conftest import System, shared_redis_system

STORE_RATE = Decimal("0.10")  # the simulator's default zone
TAXED = """query Taxed($id: Int!, $currency: currencyCode) { site { product(entityId: $id) { entityId
  gross: prices(includeTax: true, currencyCode: $currency) { price { value currencyCode } basePrice { value }
    priceRange { min { value } max { value } } }
  net: prices(includeTax: false, currencyCode: $currency) { price { value } }
  variants(first: 5) { edges { node { sku prices(includeTax: true, currencyCode: $currency) { price { value } } } } }
} } }"""


@pytest.fixture(scope="module")
def system(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    yield from shared_redis_system(redis_url, Path(tmp_path_factory.mktemp("tax")), "tax", erp_budget_ms=30_000.0)


@pytest.fixture(scope="module")
def dataset(system: System) -> Dataset:
    return build_dataset(system.settings.seed)


def _value(money: dict[str, Any]) -> Decimal:
    return Decimal(str(money["value"]))


def expected(system: System, dataset: Dataset, buyer: str, product_id: int, currency: str,
             include_tax: bool) -> dict[str, Any]:
    """The buyer's ERP prices of a product (default variant; range over all), taxed at the buyer's zone rate."""
    product = dataset.product_by_id[product_id]
    price_list = system.buyer(buyer)["price_list_id"]
    rate = DEMO_TAX_ZONES.get(int(buyer), STORE_RATE) if include_tax else None
    records = [dataset.prices.get(price_list, v.sku, currency) for v in product.variants]
    views = [view_of(r, tax_rate=rate) for r in records if r is not None]
    assert len(views) == len(product.variants)
    view = with_ranges(views[0], views)
    return {"price": view.price, "basePrice": view.base_price, "range": view.range,
            "variants": {v.sku: one.price for v, one in zip(product.variants, views, strict=True)}}


def _check(system: System, dataset: Dataset, buyer: str, product_id: int, currency: str) -> None:
    answer = system.query(TAXED, buyer, {"id": product_id, "currency": currency})
    assert "errors" not in answer, answer
    shown = answer["data"]["site"]["product"]
    gross = expected(system, dataset, buyer, product_id, currency, True)
    net = expected(system, dataset, buyer, product_id, currency, False)
    assert _value(shown["gross"]["price"]) == gross["price"], (buyer, currency)
    assert shown["gross"]["price"]["currencyCode"] == currency
    assert _value(shown["gross"]["basePrice"]) == gross["basePrice"]
    assert (_value(shown["gross"]["priceRange"]["min"]), _value(shown["gross"]["priceRange"]["max"])) == gross["range"]
    assert _value(shown["net"]["price"]) == net["price"]
    for edge in shown["variants"]["edges"]:
        assert _value(edge["node"]["prices"]["price"]) == gross["variants"][edge["node"]["sku"]]


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_tax_inclusive_prices_are_the_buyers_erp_prices_with_the_buyers_tax(system: System, dataset: Dataset,
                                                                            currency: str) -> None:
    product_id = 104  # variants with prices of their own
    # buyer 1 and 13: one price list, two tax zones; buyer 2: another price list. Each twice (the second
    # from the cache), in an order where a zone-blind cache would hand one colleague the other's answer.
    for buyer in ("1", "13", "2", "13", "1", "2"):
        _check(system, dataset, buyer, product_id, currency)
    one, colleague = (expected(system, dataset, b, product_id, currency, True)["price"] for b in ("1", "13"))
    other_list = expected(system, dataset, "2", product_id, currency, True)["price"]
    assert len({one, colleague, other_list}) == 3  # the test can tell all three apart


def test_bigcommerces_own_tax_inclusive_price_lags_and_the_edges_does_not(system: System, dataset: Dataset) -> None:
    product = next(p for p in dataset.products if not p.has_variants and dataset.visible_to(p, 1)
                   and dataset.bc_prices.get(system.buyer("1")["price_list_id"], p.sku, "USD")
                   != dataset.prices.get(system.buyer("1")["price_list_id"], p.sku, "USD"))
    variables = {"id": product.id, "currency": "USD"}
    edge = system.query(TAXED, "1", variables)["data"]["site"]["product"]
    upstream = system.upstream(TAXED, "1", variables)["data"]["site"]["product"]
    assert _value(edge["gross"]["price"]) == expected(system, dataset, "1", product.id, "USD", True)["price"]
    assert edge["gross"]["price"] != upstream["gross"]["price"]
