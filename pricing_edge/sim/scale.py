"""A real catalog's size for the simulators: 100,000 SKUs × 10 price lists × 2 currencies over 5,000
category pages (``PRICING_EDGE_SIM_SKUS``; the demo's small store stays the default).

Two million price records as Python objects would cost gigabytes in each simulator, so prices and stock
are *computed on demand* from the seed and the SKU (the same key always gives the same record); only what
changes — an ERP change, a BigCommerce price update — is stored. Products are real objects: the
storefront lists, pages and searches them. The ids, categories and fields are those of the demo store's
kind, so both simulators stay a strict subset of the real APIs.
"""
from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.money import quantize
from pricing_edge.domain.pricing import PriceBook, PriceRecord
from pricing_edge.sim.dataset import (
    _ADJECTIVES,
    _BRANDS,
    _CATEGORIES,
    _GROUPS,
    _NOUNS,
    CURRENCIES,
    Brand,
    Category,
    Dataset,
    Image,
    Product,
    _erp_record,
    _money,
    _slug,
    _variants_for,
    companies_and_customers,
    set_exactly_ten_available,
    store_structure,
    variant_list_price,
)

CATEGORY_PAGES = 5000
RECENT_RECORDS = 50_000  # drawn records kept per book (records are immutable: sharing them is safe)
PRICE_LISTS = 10
FIRST_PAGE_ID = len(_CATEGORIES) + 1  # the leaf categories' ids: 21 … 5,020
_MORE_GROUPS = [("Government", "0.78"), ("Nonprofit", "0.82"), ("Reseller", "0.72"), ("Hospitality", "0.88")]
ListPrice = Callable[[str], "tuple[Decimal, Decimal | None] | None"]


class KeyedDraws(random.Random):
    """The draws of one record, from its key's BLAKE2b digest: a few microseconds, where seeding a
    Mersenne Twister per record costs tens (two million records are drawn during a warm)."""

    def seed(self, a: Any = None, version: int = 2) -> None:
        self._bits = int.from_bytes(hashlib.blake2b(str(a).encode(), digest_size=64).digest(), "big")

    def getrandbits(self, k: int) -> int:
        value = self._bits & ((1 << k) - 1)
        self._bits >>= k
        return value

    def random(self) -> float:
        return self.getrandbits(32) / (1 << 32)

    def randint(self, a: int, b: int) -> int:
        return a + self.getrandbits(24) % (b - a + 1)


class SeededPriceBook(PriceBook):
    """Every (price list, SKU, currency) of the catalog, each computed from the seed when asked; a record
    put (a change) is stored and wins from then on. ``lagging``: BigCommerce's copy, a few percent older."""

    def __init__(self, seed: int, factors: dict[int, Decimal], list_price: ListPrice, *, lagging: bool = False) -> None:
        super().__init__()
        self.seed, self.factors, self.list_price, self.lagging = seed, factors, list_price, lagging
        # a page of 24 products asks each record several times (price, basePrice, priceRange, ...): keep the
        # recently drawn ones, a bounded number (an export draws every record once)
        self._drawn = functools.lru_cache(maxsize=RECENT_RECORDS)(self._draw)

    def get(self, price_list_id: int, sku: str, currency: str) -> PriceRecord | None:
        stored = self.records.get((price_list_id, sku, currency))
        return stored if stored is not None else self._drawn(price_list_id, sku, currency)

    def _draw(self, price_list_id: int, sku: str, currency: str) -> PriceRecord | None:
        factor = self.factors.get(price_list_id)
        prices = self.list_price(sku) if factor is not None and currency in CURRENCIES else None
        if prices is None or factor is None:
            return None
        rng = KeyedDraws(f"{self.seed}:{price_list_id}:{sku}:{currency}")
        record = _erp_record(rng, price_list_id, factor, prices[0], sku, currency, prices[1], 2)
        if self.lagging and rng.random() < 0.06:
            record = replace(record, price=quantize(record.price * Decimal("1.04")), version=1)
        return record


class SeededStock(dict[tuple[str, int], StockLevel]):
    """Stock of every SKU at every location, computed from the seed when asked; levels set are stored."""

    def __init__(self, seed: int, known: Callable[[str], bool], locations: frozenset[int], *,
                 lagging: bool = False) -> None:
        super().__init__()
        self.seed, self.known, self.locations, self.lagging = seed, known, locations, lagging
        self.computed = functools.lru_cache(maxsize=RECENT_RECORDS)(self._draw)

    def _draw(self, key: tuple[str, int]) -> StockLevel | None:
        sku, location_id = key
        if location_id not in self.locations or not self.known(sku):
            return None
        rng = KeyedDraws(f"{self.seed}:stock:{sku}:{location_id}")
        on_hand = 0 if rng.random() < 0.08 else rng.randint(1, 300)
        level = StockLevel(sku, location_id, on_hand, rng.randint(0, on_hand // 5), rng.randint(0, 10),
                           backorder=rng.random() < 0.05, lead_time_days=rng.randint(2, 30), version=2)
        if self.lagging and rng.random() < 0.10:
            level = replace(level, on_hand=level.on_hand + 25, version=1)
        return level

    def __missing__(self, key: tuple[str, int]) -> StockLevel:
        level = self.computed(key)
        if level is None:
            raise KeyError(key)
        return level

    def get(self, key: tuple[str, int], default: Any = None) -> Any:
        return super().get(key) or self.computed(key) or default

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or (isinstance(key, tuple) and self.computed(key) is not None)


def page_categories(count: int = CATEGORY_PAGES) -> list[Category]:
    """The 20 top-level categories of the demo store, and ``count`` leaf categories under the first 18:
    the category pages of the ``scale`` benchmark."""
    top = [Category(i + 1, name, f"/{_slug(name)}/", f"<p>Everything in {name.lower()}.</p>")
           for i, name in enumerate(_CATEGORIES)]
    leaves = []
    for n in range(count):
        parent = top[n % 18]
        name = f"{parent.name} {_NOUNS[n % len(_NOUNS)]} {n + 1}"
        leaves.append(Category(FIRST_PAGE_ID + n, name, f"{parent.path}{_slug(name)}/", f"<p>{name}.</p>", parent.id))
    return top + leaves


def _product(rng: random.Random, index: int, pages: int, variant_ids: Iterator[int]) -> Product:
    product_id, sku = 101 + index, f"PE-{100000 + index}"
    name = f"{_ADJECTIVES[index % len(_ADJECTIVES)]} {_NOUNS[(index // 3) % len(_NOUNS)]} {100 + index}"
    base = _money(rng, 3, 400)
    # each product on two category pages, spread so that every page gets its share
    category_ids = (FIRST_PAGE_ID + index % pages, FIRST_PAGE_ID + (index * 7 + 3) % pages)
    return Product(
        id=product_id, sku=sku, name=name, path=f"/{_slug(name)}/", description=f"<p>{name}.</p>",
        brand_id=1 + index % len(_BRANDS), category_ids=tuple(dict.fromkeys(category_ids)),
        variants=_variants_for(rng, index, sku, variant_ids), base_price=base,
        retail_price=quantize(base * Decimal("1.3")) if rng.random() < 0.7 else None, catalog_tiers=(),
        custom_fields=(), images=(Image(f"products/{product_id}/0/{_slug(name)}.jpg", name, True),),
        weight=Decimal(rng.randint(1, 400)) / 10, created_rank=rng.randint(1, 100_000),
        total_sold=rng.randint(0, 5000), is_featured=rng.random() < 0.05, free_shipping=rng.random() < 0.2)


def build_scale_dataset(seed: int, skus: int, *, pages: int = CATEGORY_PAGES) -> Dataset:
    """At least ``skus`` SKUs (whole products) on ``pages`` category pages, ten price lists, two
    currencies; the same seed and size always give the same store."""
    rng = random.Random(f"{seed}:scale")
    groups_spec = _GROUPS + _MORE_GROUPS
    assert len(groups_spec) + 1 == PRICE_LISTS
    locations, price_lists, factors, groups = store_structure(groups_spec)
    variant_ids = iter(range(1_000_001, 10_000_000))
    products: list[Product] = []
    count = 0
    while count < skus:
        product = _product(rng, len(products), pages, variant_ids)
        products.append(product)
        count += len(product.variants)
    companies, customers = companies_and_customers(rng, iter(range(1, 1000)), len(groups_spec))
    brands = [Brand(i + 1, name, f"/brands/{_slug(name)}/") for i, name in enumerate(_BRANDS)]
    holder: list[Dataset] = []

    def list_price(sku: str) -> tuple[Decimal, Decimal | None] | None:
        found = holder[0].variant_by_sku.get(sku)
        if found is None:
            return None
        product, variant = found
        retail = product.retail_price
        return variant_list_price(product.base_price, variant), variant_list_price(retail, variant) if retail else None

    def known(sku: str) -> bool:
        return sku in holder[0].variant_by_sku

    where = frozenset(loc.id for loc in locations)
    dataset = Dataset(seed, locations, price_lists, groups, page_categories(pages), brands, products, companies,
                      customers, SeededPriceBook(seed, factors, list_price), SeededStock(seed, known, where),
                      SeededPriceBook(seed, factors, list_price, lagging=True),
                      SeededStock(seed, known, where, lagging=True), sequence=1_000_000)
    holder.append(dataset)
    # the demo's fixtures name a simple product with exactly 10 units available: the scale store has one too
    simple = next(p for p in products if not p.has_variants)
    set_exactly_ten_available(simple, dataset.stock, dataset.bc_stock)
    return dataset
