"""The scenarios: GraphQL documents as storefronts send them, the buyer mix, and what each answer must
say according to the ERP's truth (the seeded demo dataset), for the smoke checks.

Every scenario cycles the three demo buyers (three price lists) and guest traffic. The product sets of
the scenarios are disjoint where one scenario changes what another reads: cart reservations only touch
the cart products, ERP events only the category-page products, the cold product of the coalescing
check is in none of them.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from pricing_edge.config import Settings
from pricing_edge.domain.inventory import total_available
from pricing_edge.sim.dataset import DEFAULT_CURRENCY, Dataset, Product, build_dataset
from pricing_edge.sim.fixtures import DEMO_BUYERS, buyer_headers, buyer_key

SCENARIOS = ("plp", "pdp", "mixed", "cart", "events", "sorted", "sorted_events", "abuse")
SORTED_SCENARIOS = ("sorted", "sorted_events")
SORTED_CATEGORIES = (19, 20, 21)
SORTED_BUYERS = ("1", "2")  # two price lists
SORTED_RATE = 200.0
PLP_CATEGORIES = (1, 2, 3, 4)
MIXED_CATEGORIES = (5, 6, 7, 8, 9)
CART_CATEGORIES = tuple(range(10, 19))
PAGE_SIZE = 24
MIXED_PRODUCTS = 96
CART_PRODUCTS = 48
PDP_PRODUCTS = 4
MIN_CART_STOCK = 150

MONEY = "fragment Money on Money { currencyCode value formattedV2 }"
TIERS = """fragment Tiers on BulkPricingTier { __typename minimumQuantity maximumQuantity
  ... on BulkPricingFixedPriceDiscount { price } ... on BulkPricingPercentageDiscount { percentOff }
  ... on BulkPricingRelativePriceDiscount { priceAdjustment } }"""

PLP = """query CategoryPage($categoryId: Int!) { site { category(entityId: $categoryId) { entityId name path
  products(first: 24) { pageInfo { hasNextPage endCursor } collectionInfo { totalItems } edges { node {
    entityId name path sku brand { name } defaultImage { url(width: 500) altText }
    prices { price { ...Money } basePrice { ...Money } salePrice { ...Money } retailPrice { ...Money }
      priceRange { min { ...Money } max { ...Money } } bulkPricing { ...Tiers } }
    inventory { isInStock aggregated { availableToSell warningLevel } } } } } } } }
""" + MONEY + TIERS

PDP = """query ProductPage($entityId: Int!) { site { product(entityId: $entityId) { entityId name sku path
  prices { price { ...Money } priceRange { min { ...Money } max { ...Money } } bulkPricing { ...Tiers } }
  inventory { isInStock hasVariantInventory aggregated { availableToSell warningLevel } }
  variants(first: 12) { edges { node { entityId sku
    options(first: 2) { edges { node { displayName values(first: 5) { edges { node { label } } } } } }
    prices { price { ...Money } basePrice { ...Money } salePrice { ...Money } bulkPricing { ...Tiers } }
    inventory { isInStock aggregated { availableToSell warningLevel }
      byLocation(first: 3) { edges { node { locationEntityId locationEntityCode availableToSell isInStock } } } } } } } } } }
""" + MONEY + TIERS

MIXED = """query ProductCard($entityId: Int!) { site { product(entityId: $entityId) { entityId name sku path
  plainTextDescription(characterLimit: 120) brand { name path } defaultImage { url(width: 640) altText }
  customFields { edges { node { name value } } } categories { edges { node { entityId name path } } }
  prices { price { ...Money } basePrice { ...Money } retailPrice { ...Money } }
  inventory { isInStock aggregated { availableToSell } } } } }
""" + MONEY

SORTED = """query SortedListing($filters: SearchProductsFiltersInput!) { site { search {
  searchProducts(filters: $filters, sort: LOWEST_PRICE) { products(first: 24) {
    pageInfo { hasNextPage endCursor } collectionInfo { totalItems } edges { cursor node {
      entityId name path brand { name } defaultImage { url(width: 500) altText }
      prices { price { ...Money } basePrice { ...Money } priceRange { min { ...Money } max { ...Money } } } } } } } } } }
""" + MONEY

CART_CREATE = """mutation CreateCart($productId: Int!) { cart { createCart(input: {lineItems: [
  {productEntityId: $productId, quantity: 1}]}) { cart { entityId } } } }"""

CART_ADD = """mutation AddToCart($cartId: String!, $productId: Int!) { cart { addCartLineItems(input: {
  cartEntityId: $cartId, data: {lineItems: [{productEntityId: $productId, quantity: 1}]}}) {
  cart { entityId lineItems { totalQuantity physicalItems { productEntityId quantity } } } } } }"""

PROBE = """query Probe($entityId: Int!) { site { product(entityId: $entityId) { entityId
  prices { price { value } } inventory { aggregated { availableToSell } } } } }"""

Checker = Callable[[Any], list[str]]


@dataclass(frozen=True)
class Buyer:
    key: str  # "1", "2", "5" or "guest"
    customer_id: int | None
    group_id: int | None
    price_list_id: int
    headers: dict[str, str]


@dataclass(frozen=True)
class Request:
    """One request of a scenario's cycle: who sends what, and how to check the answer."""

    buyer: Buyer
    body: bytes
    check: Checker = field(compare=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"content-type": "application/json", **self.buyer.headers}

    def key(self) -> tuple[str, bytes]:
        """What the limit app looks an answer up by."""
        return self.buyer.headers.get("X-Bc-Customer-Id", ""), self.body


@dataclass
class Scenario:
    name: str
    description: str
    requests: list[Request]
    rate: float  # requests/s the scenario runs at (the edge)
    bigcommerce_rate: float  # the same requests straight at BigCommerce: what it can sustain
    edge_only: bool = False  # no baselines of its own (events: plp's baselines apply)


def body(query: str, variables: dict[str, Any]) -> bytes:
    return orjson.dumps({"query": query, "variables": variables})


class Truth:
    """What the ERP says: prices per price list and stock per warehouse, from the seeded dataset, plus
    every value the harness itself set through ERP changes (accepted from then on: an answer may
    legitimately show the value before or after a change while it propagates)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.changed_prices: dict[tuple[int, str], set[Decimal]] = {}
        self.changed_stock: dict[str, set[int]] = {}

    def price(self, price_list_id: int, sku: str) -> Decimal:
        record = self.dataset.prices.get(price_list_id, sku, DEFAULT_CURRENCY)
        assert record is not None, f"no ERP price for {sku} in list {price_list_id}"
        return record.effective_price

    def prices(self, price_list_id: int, sku: str) -> set[Decimal]:
        return {self.price(price_list_id, sku)} | self.changed_prices.get((price_list_id, sku), set())

    def location_available(self, sku: str) -> dict[int, int]:
        return {level.location_id: level.available_to_sell for level in self.dataset.stock_for(sku)}

    def product_available(self, product: Product) -> set[int]:
        base = sum(total_available(self.dataset.stock_for(v.sku)) for v in product.variants)
        return {base} | self.changed_stock.get(product.default_variant.sku, set())


def demo_buyers(dataset: Dataset, settings: Settings) -> list[Buyer]:
    buyers = []
    for _, customer_id in DEMO_BUYERS:
        customer = dataset.customer(customer_id) if customer_id is not None else None
        group_id = customer.customer_group_id if customer else None
        buyers.append(Buyer(buyer_key(customer_id), customer_id, group_id, dataset.price_list_for_group(group_id),
                            buyer_headers(customer_id, settings)))
    return buyers


def _num(value: Any) -> Decimal:
    return Decimal(str(value))


def _errors(answer: Any) -> list[str]:
    if not isinstance(answer, dict):
        return ["the answer is not a JSON object"]
    if answer.get("errors"):
        return [f"GraphQL errors: {answer['errors'][:2]}"]
    if not isinstance(answer.get("data"), dict):
        return ["no data"]
    return []


def _edges(connection: Any) -> list[Any]:
    return [edge["node"] for edge in (connection or {}).get("edges") or []]


class Catalog:
    """The demo store seen from the scenarios: buyers, product sets and the checks of each document."""

    def __init__(self, settings: Settings, *, small: bool = False) -> None:
        self.settings = settings
        mixed_count, cart_count = (8, 8) if small else (MIXED_PRODUCTS, CART_PRODUCTS)
        self.dataset = build_dataset(settings.seed)
        self.truth = Truth(self.dataset)
        self.buyers = demo_buyers(self.dataset, settings)
        groups = [b.group_id for b in self.buyers]
        self.visible = [p for p in self.dataset.products if all(self.dataset.visible_to(p, g) for g in groups)]
        self.pdp_products = [p for p in self.visible if len(p.variants) >= 10
                             and not set(p.category_ids) & set(PLP_CATEGORIES)][:PDP_PRODUCTS]
        taken = {p.id for p in self.pdp_products}
        self.mixed_products = [p for p in self.visible if set(p.category_ids) <= set(MIXED_CATEGORIES)
                               and p.id not in taken][:mixed_count]
        taken |= {p.id for p in self.mixed_products}
        self.cart_products = [p for p in self.visible if set(p.category_ids) <= set(CART_CATEGORIES)
                              and not p.has_variants and p.id not in taken
                              and self._cart_stock(p) >= MIN_CART_STOCK][:cart_count]
        taken |= {p.id for p in self.cart_products}
        self.cold_candidates = [p for p in self.visible if set(p.category_ids) <= set(CART_CATEGORIES)
                                and not p.has_variants and p.id not in taken]

    def _cart_stock(self, product: Product) -> int:
        sku = product.default_variant.sku
        return min(total_available(self.dataset.stock_for(sku)),
                   total_available(self.dataset.stock_for(sku, bigcommerce=True)))

    def buyer(self, key: str) -> Buyer:
        return next(b for b in self.buyers if b.key == key)

    def product(self, product_id: int) -> Product:
        return self.dataset.product_by_id[product_id]

    # --- requests -------------------------------------------------------------------------------

    def mix(self, items: Sequence[Any], make: Callable[[Buyer, Any], Request]) -> list[Request]:
        """Every item for every buyer, interleaved so consecutive requests come from different buyers."""
        return [make(buyer, item) for item in items for buyer in self.buyers]

    def plp_requests(self) -> list[Request]:
        return self.mix(PLP_CATEGORIES, lambda buyer, category: Request(
            buyer, body(PLP, {"categoryId": category}), lambda answer: self.check_plp(answer, buyer, category)))

    def sorted_requests(self) -> list[Request]:
        """A category listed lowest price first, for two buyers of two price lists (sorted by the edge)."""
        buyers = [self.buyer(key) for key in SORTED_BUYERS]
        def request(buyer: Buyer, category: int) -> Request:
            return Request(buyer, body(SORTED, {"filters": {"categoryEntityId": category}}),
                           lambda answer: self.check_sorted(answer, buyer))

        return [request(buyer, category) for category in SORTED_CATEGORIES for buyer in buyers]

    def sorted_event_targets(self) -> list[Product]:
        """The products of the sorted listings, whose price events reorder them."""
        return [p for p in self.visible if set(p.category_ids) & set(SORTED_CATEGORIES)]

    def pdp_requests(self) -> list[Request]:
        return self.mix(self.pdp_products, lambda buyer, product: Request(
            buyer, body(PDP, {"entityId": product.id}), lambda answer: self.check_pdp(answer, buyer, product)))

    def mixed_requests(self) -> list[Request]:
        return self.mix(self.mixed_products, lambda buyer, product: Request(
            buyer, body(MIXED, {"entityId": product.id}), lambda answer: self.check_mixed(answer, buyer, product)))

    def cart_requests(self, carts: dict[str, str]) -> list[Request]:
        """Add-to-cart of one unit, cycling the cart products, into each buyer's own cart."""
        return self.mix(self.cart_products, lambda buyer, product: Request(
            buyer, body(CART_ADD, {"cartId": carts[buyer.key], "productId": product.id}),
            lambda answer: self.check_cart(answer, product)))

    def cart_create(self, buyer: Buyer) -> Request:
        product = self.cart_products[0]
        return Request(buyer, body(CART_CREATE, {"productId": product.id}), _errors)

    def probe(self, buyer: Buyer, product: Product) -> Request:
        return Request(buyer, body(PROBE, {"entityId": product.id}),
                       lambda answer: self.check_probe(answer, buyer, product))

    def views(self, products: Iterable[Product]) -> list[Request]:
        """Shoppers look at a product before adding it: the edge learns its SKU from such answers."""
        return self.mix(list(products), self.probe)

    # --- checks ---------------------------------------------------------------------------------

    def _check_product(self, node: Any, buyer: Buyer, product: Product, where: str) -> list[str]:
        problems = []
        price = (node.get("prices") or {}).get("price") or {}
        allowed = self.truth.prices(buyer.price_list_id, product.default_variant.sku)
        if "value" not in price or _num(price["value"]) not in allowed:
            problems.append(f"{where}: product {product.id} price {price.get('value')} for buyer {buyer.key}, "
                            f"ERP says {sorted(map(str, allowed))}")
        inventory = (node.get("inventory") or {}).get("aggregated") or {}
        stock = self.truth.product_available(product)
        if inventory.get("availableToSell") not in stock:
            problems.append(f"{where}: product {product.id} availableToSell {inventory.get('availableToSell')}, "
                            f"ERP says {sorted(stock)}")
        return problems

    def check_plp(self, answer: Any, buyer: Buyer, category: int) -> list[str]:
        problems = _errors(answer)
        if problems:
            return problems
        nodes = _edges(((answer["data"]["site"] or {}).get("category") or {}).get("products"))
        listed = sum(1 for p in self.dataset.products_in(category) if self.dataset.visible_to(p, buyer.group_id))
        if len(nodes) != min(PAGE_SIZE, listed):
            return [f"plp: category {category} has {len(nodes)} products, not {min(PAGE_SIZE, listed)}"]
        for node in nodes:
            product = self.dataset.product_by_id.get(node.get("entityId"))
            if product is None or category not in product.category_ids:
                problems.append(f"plp: product {node.get('entityId')} is not in category {category}")
                continue
            problems += self._check_product(node, buyer, product, "plp")
            price_range = node["prices"].get("priceRange") or {}
            if not price_range.get("min") or not price_range.get("max") or node["prices"].get("bulkPricing") is None:
                problems.append(f"plp: product {product.id} lacks priceRange or bulkPricing")
        return problems

    def check_sorted(self, answer: Any, buyer: Buyer) -> list[str]:
        """Every price the buyer's own (ERP truth, or a value the harness set), lowest first."""
        problems = _errors(answer)
        if problems:
            return problems
        connection = answer["data"]["site"]["search"]["searchProducts"]["products"]
        prices = []
        for node in _edges(connection):
            product = self.product(node["entityId"])
            value = _num(node["prices"]["price"]["value"])
            prices.append(value)
            if value not in self.truth.prices(buyer.price_list_id, product.default_variant.sku):
                problems.append(f"sorted: product {product.id} price {value} for buyer {buyer.key} is not the ERP's")
        if prices != sorted(prices):
            problems.append(f"sorted: not lowest price first for buyer {buyer.key}: {prices}")
        return problems

    def check_pdp(self, answer: Any, buyer: Buyer, product: Product) -> list[str]:
        problems = _errors(answer)
        if problems:
            return problems
        node = answer["data"]["site"].get("product") or {}
        variants = {v["sku"]: v for v in _edges(node.get("variants"))}
        if set(variants) != {v.sku for v in product.variants}:
            return [f"pdp: product {product.id} variants {sorted(variants)} are not the dataset's"]
        for sku, variant in variants.items():
            allowed = self.truth.prices(buyer.price_list_id, sku)
            value = ((variant.get("prices") or {}).get("price") or {}).get("value")
            if value is None or _num(value) not in allowed:
                problems.append(f"pdp: variant {sku} price {value} for buyer {buyer.key}, ERP says {allowed}")
            by_location = {n["locationEntityId"]: n["availableToSell"]
                           for n in _edges((variant.get("inventory") or {}).get("byLocation"))}
            expected = self.truth.location_available(sku)
            if by_location != expected:
                problems.append(f"pdp: variant {sku} stock by location {by_location}, ERP says {expected}")
        return problems

    def check_mixed(self, answer: Any, buyer: Buyer, product: Product) -> list[str]:
        problems = _errors(answer)
        if problems:
            return problems
        node = answer["data"]["site"].get("product") or {}
        if node.get("name") != product.name or not (node.get("brand") or {}).get("name"):
            problems.append(f"mixed: product {product.id} catalog fields {node.get('name')!r} are not the store's")
        return problems + self._check_product(node, buyer, product, "mixed")

    def check_cart(self, answer: Any, product: Product) -> list[str]:
        problems = _errors(answer)
        if problems:
            return problems
        cart = ((answer["data"].get("cart") or {}).get("addCartLineItems") or {}).get("cart") or {}
        lines = {line["productEntityId"]: line["quantity"]
                 for line in (cart.get("lineItems") or {}).get("physicalItems") or []}
        if lines.get(product.id, 0) < 1:
            return [f"cart: product {product.id} is not in the cart after adding it"]
        return []

    def check_probe(self, answer: Any, buyer: Buyer, product: Product) -> list[str]:
        problems = _errors(answer)
        if problems:
            return problems
        return self._check_product(answer["data"]["site"].get("product") or {}, buyer, product, "probe")


def plp_product_ids(answer: Any) -> list[int]:
    """The products a category page shows (events target them)."""
    category = ((answer or {}).get("data") or {}).get("site", {}).get("category") or {}
    return [node["entityId"] for node in _edges(category.get("products"))]


def cycle(requests: Sequence[Request]) -> Iterable[Request]:
    return itertools.cycle(requests)
