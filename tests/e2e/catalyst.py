"""Catalyst 1.3.1's own documents (test data in ../shared/clients, never copied) as Catalyst sends them:
its headers, ``?operation=<Name>&type=<query|mutation>``, its variables with the store's ids put in for
the placeholders — and what to check of each answer: its shape against the simulator's, and every
``prices``/``inventory`` value against the buyer's ERP truth."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from graphql import OperationDefinitionNode, parse

from pricing_edge.domain.pricing import view_of, with_ranges
from pricing_edge.jsonio import loads_exact
from pricing_edge.sim.dataset import Dataset, Product
from tests.support.specs import require_client

CATALYST = "catalyst-1.3.1"
# Catalyst's page flow: browse (layout, home, search, listing, compare, product page), then the cart.
SEQUENCE = (
    "02-store-status", "01-route-lookup", "03-root-layout-metadata", "04-layout-header-footer",
    "05-navigation-links-and-sections", "07-home-page", "08-header-quick-search", "09-category-page",
    "10-category-products", "11-brand-page", "12-brand-products", "13-search-page", "14-search-products-sorted",
    "15-compare-drawer-products", "16-compare-page", "17-pdp-metadata", "18-pdp-product",
    "19-pdp-streamable-product", "20-pdp-pricing-and-related", "21-pdp-inventory-settings", "22-pdp-reviews",
    "23-pdp-wishlist-button", "mutations/01-create-cart", "06-header-cart-count", "mutations/02-add-cart-line-items",
    "24-cart-page", "25-cart-shipping-destinations", "mutations/03-update-cart-line-item", "26-validate-cart",
    "mutations/04-update-cart-currency",
)


@dataclass(frozen=True)
class Document:
    name: str
    text: str
    operation: str
    kind: str  # "query" or "mutation"
    variables: dict[str, Any]  # with placeholders


def documents() -> list[Document]:
    """Every document of the folder, in SEQUENCE order (a document the sequence does not name fails the run)."""
    folder = require_client(CATALYST)
    found = {str(p.relative_to(folder).with_suffix("")): p for p in folder.rglob("*.graphql")}
    assert set(found) == set(SEQUENCE), f"documents and the sequence differ: {set(found) ^ set(SEQUENCE)}"
    out = []
    for name in SEQUENCE:
        path = found[name]
        operation = next(d for d in parse(path.read_text()).definitions if isinstance(d, OperationDefinitionNode))
        assert operation.name is not None
        variables = json.loads(Path(str(path).removesuffix(".graphql") + ".vars.json").read_text())
        out.append(Document(name, path.read_text(), operation.name.value, operation.operation.value, variables))
    return out


def substitute(value: Any, ids: dict[str, Any]) -> Any:
    """Every JSON value that is exactly a placeholder (``"$PRODUCT_ID"``) replaced, as SOURCES.md says."""
    if isinstance(value, dict):
        return {k: substitute(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, ids) for v in value]
    if isinstance(value, str) and value.startswith("$"):
        assert value in ids, f"no value for placeholder {value}"
        return ids[value]
    return value


def send(url: str, document: Document, variables: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    """POST as Catalyst does."""
    return httpx.post(url, params={"operation": document.operation, "type": document.kind},
                      json={"query": document.text, "variables": variables}, headers=headers, timeout=60)


def body_of(response: httpx.Response) -> dict[str, Any]:
    """The body parsed with every digit kept."""
    body: dict[str, Any] = loads_exact(response.content)
    return body


OWNED = ("prices", "inventory")


def shape(value: Any) -> Any:
    """Keys in order, list lengths and JSON kinds; not the values."""
    if isinstance(value, dict):
        return [(k, shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [shape(v) for v in value]
    if value is None:
        return None
    return "number" if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else type(value).__name__


def without_owned(value: Any) -> Any:
    """The answer with every Product's and Variant's ``prices`` and ``inventory`` left out (the edge replaces them)."""
    if isinstance(value, dict):
        owned = _is_owned_site(value)
        return {k: (None if owned and k in OWNED else without_owned(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [without_owned(v) for v in value]
    return value


PRODUCT_INVENTORY_FIELDS = frozenset({"isInStock", "hasVariantInventory", "aggregated", "byLocation"})


def _is_owned_site(value: dict[str, Any]) -> bool:
    """A Product or Variant: it has ``prices``, or an ``inventory`` of stock (not ``settings.inventory``)."""
    inventory = value.get("inventory")
    return "prices" in value or (isinstance(inventory, dict) and bool(PRODUCT_INVENTORY_FIELDS & set(inventory)))


def owned_sites(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every Product or Variant in the answer that shows ``prices`` or ``inventory``, with its path."""
    if isinstance(value, dict):
        if _is_owned_site(value):
            yield path, value
        for k, v in value.items():
            yield from owned_sites(v, (*path, k))
    elif isinstance(value, list):
        for item in value:
            yield from owned_sites(item, path)


def expected_prices(dataset: Dataset, product: Product, price_list: int, currency: str,
                    shown: str | None = None) -> dict[str, Any]:
    """The ERP's ``Prices`` of a product for a price list: its default variant's (or the selected one's, by
    SKU: BigCommerce's variant overlay), ranges over all variants."""
    variants = sorted(product.variants, key=lambda v: v.sku != shown) if shown else list(product.variants)
    records = [dataset.prices.get(price_list, v.sku, currency) for v in variants]
    assert all(records), product.sku
    view = with_ranges(view_of(records[0]), [view_of(r) for r in records if r])  # type: ignore[arg-type]
    low, high = view.range
    return {"price": view.price, "basePrice": view.base_price, "salePrice": view.sale_price,
            "retailPrice": view.retail_price, "priceRange": {"min": low, "max": high}}


def expected_inventory(dataset: Dataset, product: Product, shown: str | None = None) -> tuple[bool, int]:
    """(isInStock, aggregated.availableToSell) of a product by the ERP's stock (of the selected variant alone
    when the query selected one)."""
    levels = [level for v in product.variants if shown in (None, v.sku) for level in dataset.stock_for(v.sku)]
    available = sum(level.available_to_sell for level in levels)
    return available > 0 or any(level.backorder for level in levels), available


def check_owned(site: dict[str, Any], product: Product, dataset: Dataset, price_list: int, currency: str) -> int:
    """Every prices/inventory value of one product in an answer equals the ERP's; how many values were checked."""
    checked = 0
    shown = site.get("sku") if product.has_variants and site.get("sku") != product.sku else None
    prices = site.get("prices")
    if prices is not None:
        expected = expected_prices(dataset, product, price_list, currency, shown)
        for name in ("price", "basePrice", "salePrice", "retailPrice"):
            if name in prices:
                value = prices[name]
                assert (value and value["value"]) == expected[name], (product.sku, name, value, expected[name])
                assert value is None or value["currencyCode"] == currency
                checked += 1
        if "priceRange" in prices:
            for bound in ("min", "max"):
                assert prices["priceRange"][bound]["value"] == expected["priceRange"][bound], (product.sku, bound)
                checked += 1
    inventory = site.get("inventory")
    if inventory is not None:
        in_stock, available = expected_inventory(dataset, product, shown)
        if "isInStock" in inventory:
            assert inventory["isInStock"] == in_stock, (product.sku, "isInStock")
            checked += 1
        if (inventory.get("aggregated") or {}).get("availableToSell") is not None:
            assert inventory["aggregated"]["availableToSell"] == available, (product.sku, "availableToSell")
            checked += 1
    return checked
