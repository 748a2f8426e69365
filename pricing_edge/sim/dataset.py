"""The demo store: one deterministic, seeded dataset that both simulators are built from.

The ERP side holds the truth (price-list records and stock per warehouse, companies and credit).
BigCommerce's side holds a *lagging copy* of prices and stock: a few percent of its records are
the previous values, as if the last sync ran a while ago. That lag is what pricing-edge removes.
Ids are BigCommerce-side ids (product, variant, price list, location, customer group, company).
"""
from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

from pricing_edge.config import DEFAULT_SEED
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.money import quantize
from pricing_edge.domain.pricing import BulkTier, PriceBook, PriceRecord, TierKind
from pricing_edge.sim.catalog_content import CatalogContent
from pricing_edge.sim.site_content import SiteContent
from pricing_edge.sim.working_copy import working_copy

CHANNEL_ID = 1
DEFAULT_CURRENCY = "USD"
CURRENCIES = ("USD", "EUR")
EUR_RATE = Decimal("0.92")
GUEST_GROUP_ID = 0
STORE_HASH = "pe-demo"
STORE_NAME = "Pricing Edge Demo Supply"
STORE_URL = "https://demo.pricing-edge.invalid"
CDN_URL = "https://cdn11.bigcommerce.invalid/s-pe-demo"


@dataclass(frozen=True)
class Location:
    id: int
    code: str
    name: str
    type_id: str = "PHYSICAL"


@dataclass(frozen=True)
class PriceList:
    id: int
    name: str


@dataclass(frozen=True)
class CustomerGroup:
    id: int
    name: str
    price_list_id: int
    hidden_category_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    path: str
    description: str
    parent_id: int = 0


@dataclass(frozen=True)
class Brand:
    id: int
    name: str
    path: str


@dataclass(frozen=True)
class Image:
    path: str
    alt_text: str
    is_default: bool


@dataclass(frozen=True)
class Variant:
    id: int
    sku: str
    option_values: tuple[tuple[str, str], ...] = ()
    uom: str = "EA"
    uom_factor: int = 1
    upc: str | None = None
    mpn: str | None = None
    weight: Decimal = Decimal("1.0")


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    name: str
    path: str
    description: str
    brand_id: int
    category_ids: tuple[int, ...]
    variants: tuple[Variant, ...]
    base_price: Decimal
    retail_price: Decimal | None
    catalog_tiers: tuple[BulkTier, ...]
    custom_fields: tuple[tuple[str, str], ...]
    images: tuple[Image, ...]
    weight: Decimal
    created_rank: int
    total_sold: int
    is_featured: bool
    free_shipping: bool
    min_purchase_quantity: int | None = None
    max_purchase_quantity: int | None = None
    related_ids: tuple[int, ...] = ()

    @property
    def has_variants(self) -> bool:
        return len(self.variants) > 1

    @property
    def default_variant(self) -> Variant:
        return self.variants[0]

    @property
    def option_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.default_variant.option_values)


@dataclass(frozen=True)
class Company:
    id: int
    name: str
    customer_group_id: int
    credit_limit: Decimal
    balance: Decimal
    status: str  # "ok" or "hold"
    currency: str = DEFAULT_CURRENCY
    version: int = 1


@dataclass(frozen=True)
class Customer:
    id: int
    email: str
    first_name: str
    last_name: str
    customer_group_id: int
    company_id: int | None
    phone: str = ""


@dataclass
class Dataset:
    seed: int
    locations: list[Location]
    price_lists: list[PriceList]
    customer_groups: list[CustomerGroup]
    categories: list[Category]
    brands: list[Brand]
    products: list[Product]
    companies: list[Company]
    customers: list[Customer]
    prices: PriceBook  # the ERP's truth
    stock: dict[tuple[str, int], StockLevel]  # the ERP's truth, by (sku, location id)
    bc_prices: PriceBook  # BigCommerce's lagging copy
    bc_stock: dict[tuple[str, int], StockLevel]
    default_price_list_id: int = 1
    sequence: int = 100_000
    catalog_content: CatalogContent = field(default_factory=CatalogContent)  # the storefront's view of the catalog
    site: SiteContent = field(default_factory=SiteContent)  # pages, redirects, shipping, passwords, wishlists…
    product_by_id: dict[int, Product] = field(default_factory=dict)
    product_by_sku: dict[str, Product] = field(default_factory=dict)
    variant_by_sku: dict[str, tuple[Product, Variant]] = field(default_factory=dict)
    variant_by_id: dict[int, tuple[Product, Variant]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self._in_category: dict[int, list[Product]] | None = None
        self._category_by_id = {c.id: c for c in self.categories}
        self.product_by_id = {p.id: p for p in self.products}
        self.product_by_sku = {p.sku: p for p in self.products}
        self.variant_by_sku = {v.sku: (p, v) for p in self.products for v in p.variants}
        self.variant_by_id = {v.id: (p, v) for p in self.products for v in p.variants}

    def next_version(self) -> int:
        self.sequence += 1
        return self.sequence

    def group(self, group_id: int) -> CustomerGroup | None:
        return next((g for g in self.customer_groups if g.id == group_id), None)

    def price_list_for_group(self, group_id: int | None) -> int:
        group = self.group(group_id) if group_id is not None else None
        return group.price_list_id if group else self.default_price_list_id

    def hidden_categories(self, group_id: int | None) -> frozenset[int]:
        group = self.group(GUEST_GROUP_ID if group_id is None else group_id)
        return group.hidden_category_ids if group else frozenset()

    def visible_to(self, product: Product, group_id: int | None) -> bool:
        """BigCommerce category access: a product is visible through any category the group may see."""
        hidden = self.hidden_categories(group_id)
        return any(c not in hidden for c in product.category_ids)

    def customer(self, customer_id: int) -> Customer | None:
        return next((c for c in self.customers if c.id == customer_id), None)

    def customer_by_email(self, email: str) -> Customer | None:
        wanted = email.strip().lower()
        return next((c for c in self.customers if c.email.lower() == wanted), None)

    def category(self, category_id: int) -> Category | None:
        return self._category_by_id.get(category_id)

    def products_in(self, category_id: int) -> list[Product]:
        """A category's own products in catalogue order (indexed once: 5,000 categories, 100,000 SKUs)."""
        if self._in_category is None:
            index: dict[int, list[Product]] = {}
            for product in self.products:
                for cid in dict.fromkeys(product.category_ids):
                    index.setdefault(cid, []).append(product)
            self._in_category = index
        return self._in_category.get(category_id, [])

    def company(self, company_id: int) -> Company | None:
        return next((c for c in self.companies if c.id == company_id), None)

    def stock_for(self, sku: str, *, bigcommerce: bool = False) -> list[StockLevel]:
        source = self.bc_stock if bigcommerce else self.stock
        return [source[(sku, loc.id)] for loc in self.locations if (sku, loc.id) in source]

    def iter_skus(self) -> Iterator[str]:
        for product in self.products:
            for variant in product.variants:
                yield variant.sku


_ADJECTIVES = ["Heavy-Duty", "Compact", "Industrial", "Precision", "Stainless", "Galvanized", "Ergonomic",
               "Insulated", "Reinforced", "Quick-Release", "Cordless", "Weatherproof", "Magnetic", "Low-Profile",
               "High-Torque", "Anti-Slip", "Adjustable", "Modular", "Fire-Rated", "Food-Grade"]
_NOUNS = ["Hex Bolt", "Wrench Set", "Safety Glove", "Cable Tie", "Work Light", "Drill Bit", "Pipe Clamp",
          "Storage Bin", "Ladder", "Respirator", "Extension Cord", "Hose Reel", "Tape Measure", "Shelf Unit",
          "Pallet Jack", "Air Filter", "Sealant", "Fastener Kit", "Utility Knife", "Ear Defender", "Caster Wheel",
          "Label Printer", "Padlock", "Hand Truck", "Welding Rod"]
_CATEGORIES = ["Fasteners", "Hand Tools", "Power Tools", "Safety", "Electrical", "Plumbing", "Storage",
               "Material Handling", "Lighting", "HVAC", "Adhesives", "Cleaning", "Packaging", "Welding",
               "Abrasives", "Hydraulics", "Office", "Laboratory", "Contractor Exclusives", "Trade Counter"]
_BRANDS = ["Ironclad", "Northwind", "Apex Works", "Bluecrest", "Torque & Co", "Fieldline", "Steelhead",
           "Granite", "Summit", "Harbor"]
_COLORS = ["Black", "Orange", "Yellow", "Blue", "Gray"]
_SIZES = ["S", "M", "L", "XL"]
_PACKS = [("EA", 1, "Each"), ("BX", 12, "Box of 12"), ("CS", 48, "Case of 48")]
_GROUPS = [("Wholesale", "0.80"), ("Distributor", "0.70"), ("VIP", "0.90"), ("Contractor", "0.85"),
           ("Education", "0.75")]
_FIRST = ["Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Jordan", "Kendall",
          "Logan", "Morgan", "Parker", "Quinn", "Reese", "Sage", "Taylor", "Rowan"]
_LAST = ["Adams", "Brooks", "Chen", "Diaz", "Evans", "Foster", "Garcia", "Hughes", "Ito", "Jensen", "Khan",
         "Lopez", "Meyer", "Nakamura", "Olsen", "Patel"]
_COMPANIES = ["Acme Facilities", "Bolt Builders", "Cobalt Manufacturing", "Delta Labs", "Evergreen Schools",
              "Forge Contracting", "Granite Hospitals", "Helix Logistics", "Ion Utilities", "Juniper Hotels",
              "Keystone Mining", "Lumen Retail"]

CONTRACTOR_EXCLUSIVES = 19
TRADE_COUNTER = 20


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low * 100, high * 100)) / 100


def _slug(text: str) -> str:
    return "".join(ch.lower() if ch.isalnum() else "-" for ch in text).strip("-").replace("--", "-")


def _variants_for(rng: random.Random, product_index: int, sku: str, next_variant_id: Iterator[int]) -> tuple[Variant, ...]:
    roll = rng.random()
    if product_index % 25 == 3:  # a few products with 10+ variants: colour x size
        colors, sizes = _COLORS[:3], _SIZES[:4]
        return tuple(
            Variant(next(next_variant_id), f"{sku}-{c[:3].upper()}-{s}", (("Color", c), ("Size", s)))
            for c in colors for s in sizes
        )
    if roll < 0.10:
        colors = _COLORS[: rng.randint(2, 4)]
        return tuple(Variant(next(next_variant_id), f"{sku}-{c[:3].upper()}", (("Color", c),)) for c in colors)
    if roll < 0.16:  # sold in units of measure: each, box, case
        return tuple(
            Variant(next(next_variant_id), f"{sku}-{uom}", (("Pack Size", label),), uom=uom, uom_factor=factor)
            for uom, factor, label in _PACKS
        )
    return (Variant(next(next_variant_id), sku),)


def variant_list_price(base: Decimal, variant: Variant) -> Decimal:
    """A variant's catalog ("default") price from its product's: packs cost a little less per unit, sizes more."""
    price = base * variant.uom_factor * (Decimal("0.95") if variant.uom_factor > 1 else 1)
    for name, value in variant.option_values:
        if name == "Size":
            price *= Decimal(1) + Decimal(_SIZES.index(value)) * Decimal("0.05")
    return quantize(price)


def _erp_record(rng: random.Random, list_id: int, factor: Decimal, variant_price: Decimal, sku: str,
                currency: str, retail: Decimal | None, version: int) -> PriceRecord:
    rate = Decimal(1) if currency == "USD" else EUR_RATE
    jitter = Decimal(1) + Decimal(rng.randint(-30, 30)) / 1000
    price = quantize(variant_price * factor * rate * jitter)
    sale = quantize(price * Decimal(rng.randint(75, 90)) / 100) if rng.random() < 0.08 else None
    tiers: tuple[BulkTier, ...] = ()
    if list_id in (2, 3, 5) and rng.random() < 0.3:
        tiers = (
            BulkTier(10, 49, quantize(price * Decimal("0.95"))),
            BulkTier(50, 99, quantize(price * Decimal("0.90"))),
            BulkTier(100, None, quantize(price * Decimal("0.85"))),
        )
    map_price = quantize(price * Decimal("0.9")) if rng.random() < 0.05 else None
    return PriceRecord(list_id, sku, currency, price, sale, quantize(retail * rate) if retail else None, map_price,
                       tiers, version)


def store_structure(groups_spec: list[tuple[str, str]]) -> tuple[list[Location], list[PriceList], dict[int, Decimal],
                                                                  list[CustomerGroup]]:
    """Warehouses, price lists (Retail, then one per group, at the group's factor) and customer groups."""
    locations = [Location(1, "MAIN-DC", "Main Distribution Center"), Location(2, "EAST-WH", "East Warehouse"),
                 Location(3, "WEST-WH", "West Warehouse")]
    price_lists = [PriceList(1, "Retail")] + [PriceList(i + 2, name) for i, (name, _) in enumerate(groups_spec)]
    factors = {1: Decimal(1)} | {i + 2: Decimal(f) for i, (_, f) in enumerate(groups_spec)}
    groups = [CustomerGroup(GUEST_GROUP_ID, "Guests", 1, frozenset({CONTRACTOR_EXCLUSIVES, TRADE_COUNTER}))]
    for i, (name, _) in enumerate(groups_spec):
        hidden = frozenset({CONTRACTOR_EXCLUSIVES}) if name == "Education" else frozenset()
        groups.append(CustomerGroup(i + 1, name, i + 2, hidden))
    return locations, price_lists, factors, groups


def build_dataset(seed: int = DEFAULT_SEED, product_count: int = 1000) -> Dataset:
    """The same seed always gives the same store, to the last digit: a working copy of the one this process
    built (the caller may change it; see ``sim.working_copy``)."""
    return working_copy(_pristine(seed, product_count))


@functools.lru_cache(maxsize=4)
def _pristine(seed: int, product_count: int) -> Dataset:
    """Built once per process and never handed out: only working copies of it leave this module."""
    rng = random.Random(seed)
    locations, price_lists, factors, groups = store_structure(_GROUPS)
    categories = [Category(i + 1, name, f"/{_slug(name)}/", f"<p>Everything in {name.lower()}.</p>")
                  for i, name in enumerate(_CATEGORIES)]
    brands = [Brand(i + 1, name, f"/brands/{_slug(name)}/") for i, name in enumerate(_BRANDS)]

    variant_ids = iter(range(1001, 1_000_000))
    version = iter(range(1, 10_000_000))
    products: list[Product] = []
    prices, bc_prices = PriceBook(), PriceBook()
    stock: dict[tuple[str, int], StockLevel] = {}
    bc_stock: dict[tuple[str, int], StockLevel] = {}
    for index in range(product_count):
        product_id = 101 + index
        name = f"{_ADJECTIVES[index % len(_ADJECTIVES)]} {_NOUNS[(index // 3) % len(_NOUNS)]} {100 + index}"
        sku = f"PE-{10000 + index}"
        base = _money(rng, 3, 400)
        retail = quantize(base * Decimal("1.3")) if rng.random() < 0.7 else None
        primary = 1 + index % (len(_CATEGORIES) - 2)
        if index % 40 == 7:
            primary = CONTRACTOR_EXCLUSIVES
        elif index % 40 == 17:
            primary = TRADE_COUNTER
        category_ids = (primary,) if rng.random() < 0.7 or primary > 18 else (primary, 1 + (primary % 18))
        catalog_tiers: tuple[BulkTier, ...] = ()
        if rng.random() < 0.15:
            kind = rng.choice([TierKind.PERCENT_OFF, TierKind.PRICE_ADJUSTMENT])
            step = Decimal(5) if kind is TierKind.PERCENT_OFF else quantize(base * Decimal("0.04"))
            catalog_tiers = (BulkTier(5, 19, step, kind), BulkTier(20, None, step * 2, kind))
        variants = _variants_for(rng, index, sku, variant_ids)
        products.append(Product(
            id=product_id, sku=sku, name=name, path=f"/{_slug(name)}/",
            description=f"<p>{name}: built for daily professional use. Sold by {_BRANDS[index % 10]}.</p>",
            brand_id=1 + index % len(_BRANDS), category_ids=category_ids, variants=variants,
            base_price=base, retail_price=retail, catalog_tiers=catalog_tiers,
            custom_fields=(("Material", rng.choice(["Steel", "Aluminium", "Nylon", "Rubber", "Polycarbonate"])),
                           ("Country of Origin", rng.choice(["US", "DE", "JP", "MX"]))),
            images=tuple(Image(f"products/{product_id}/{n}/{_slug(name)}.jpg", f"{name} view {n + 1}", n == 0)
                         for n in range(rng.randint(1, 3))),
            weight=Decimal(rng.randint(1, 400)) / 10, created_rank=rng.randint(1, 100_000),
            total_sold=rng.randint(0, 5000), is_featured=rng.random() < 0.05, free_shipping=rng.random() < 0.2,
            min_purchase_quantity=None, max_purchase_quantity=None,
            related_ids=tuple(101 + (index + k * 37) % product_count for k in (1, 2, 3)),
        ))
        for variant in variants:
            variant_price = variant_list_price(base, variant)
            variant_retail = variant_list_price(retail, variant) if retail else None
            for price_list in price_lists:
                for currency in CURRENCIES:
                    record = _erp_record(rng, price_list.id, factors[price_list.id], variant_price, variant.sku,
                                         currency, variant_retail, next(version))
                    prices.put(record)
                    lagging = rng.random() < 0.06
                    bc_prices.put(replace(record, price=quantize(record.price * Decimal("1.04")),
                                          version=record.version - 1) if lagging else record)
            for location in locations:
                on_hand = 0 if rng.random() < 0.08 else rng.randint(1, 300)
                level = StockLevel(variant.sku, location.id, on_hand, rng.randint(0, on_hand // 5),
                                   rng.randint(0, 10), backorder=rng.random() < 0.05,
                                   lead_time_days=rng.randint(2, 30), version=next(version))
                stock[(variant.sku, location.id)] = level
                lagging = rng.random() < 0.10
                bc_stock[(variant.sku, location.id)] = replace(level, on_hand=level.on_hand + 25) if lagging else level

    set_exactly_ten_available(products[TEN_AVAILABLE_INDEX], stock, bc_stock)
    companies, customers = companies_and_customers(rng, version, len(_GROUPS))
    products.append(_large_product(seed, len(products), variant_ids, version, price_lists, factors, locations,
                                   (prices, bc_prices), (stock, bc_stock)))
    # Demo buyer 3 (customer 5) is in Education, whose group cannot see Contractor Exclusives. Customers 1 and
    # 13 are both buyers of company 1 (Acme Facilities), in its group: one scope, two people.
    from pricing_edge.sim.catalog_content import assign_subcategories, build_catalog_content, nested_categories
    from pricing_edge.sim.site_content import build_site_content

    subcategories = nested_categories(categories)
    products = assign_subcategories(products, subcategories)
    categories = categories + subcategories
    return Dataset(seed, locations, price_lists, groups, categories, brands, products, companies, customers,
                   prices, stock, bc_prices, bc_stock, sequence=next(version) + 100_000,
                   catalog_content=build_catalog_content(seed, products, categories, brands),
                   site=build_site_content(seed, products, customers))


def companies_and_customers(rng: random.Random, version: Iterator[int],
                            group_count: int) -> tuple[list[Company], list[Customer]]:
    """The twelve companies and forty buyers (36 of them in a company), spread over ``group_count`` groups."""
    companies = []
    for i, name in enumerate(_COMPANIES):
        limit = Decimal(rng.randrange(5, 100)) * 1000
        balance = quantize(limit * Decimal(rng.randint(5, 95)) / 100)
        status = "hold" if i == 3 else "ok"
        companies.append(Company(i + 1, name, 1 + i % group_count, limit, balance, status, version=next(version)))
    customers = []
    for i in range(40):
        company = companies[i % len(companies)] if i < 36 else None
        group_id = company.customer_group_id if company else 1 + i % group_count
        first, last = _FIRST[i % len(_FIRST)], _LAST[(i * 7) % len(_LAST)]
        customers.append(Customer(i + 1, f"{first.lower()}.{last.lower()}{i + 1}@example.com", first, last,
                                  group_id, company.id if company else None, f"+1-555-01{i:02d}"))
    return companies, customers


TEN_AVAILABLE_INDEX = 2
LARGE_PRODUCT_VARIANTS = 120
_LENGTHS = ["1m", "2m", "3m", "5m", "10m", "20m"]


def _large_product(seed: int, index: int, variant_ids: Iterator[int], version: Iterator[int],
                   price_lists: list[PriceList], factors: dict[int, Decimal], locations: list[Location],
                   books: tuple[PriceBook, PriceBook],
                   levels: tuple[dict[tuple[str, int], StockLevel], dict[tuple[str, int], StockLevel]]) -> Product:
    """The last product: 120 variants (colour × size × length), more than one page of variants (50 at most),
    with prices and stock of its own. Its own random source: the rest of the store is as it always was."""
    rng = random.Random(f"{seed}:large-product")
    sku, product_id = f"PE-{10000 + index}", 101 + index
    name = f"Modular Cable Tray {100 + index}"
    variants = tuple(Variant(next(variant_ids), f"{sku}-{c[:3].upper()}-{size}-{length}",
                             (("Color", c), ("Size", size), ("Length", length)))
                     for c in _COLORS for size in _SIZES for length in _LENGTHS)
    assert len(variants) == LARGE_PRODUCT_VARIANTS
    base = _money(rng, 20, 200)
    for n, variant in enumerate(variants):
        # longer and later-coloured variants cost more: the dearest ones are past the first page
        variant_price = quantize(variant_list_price(base, variant) * (1 + Decimal(n % 6) / 10 + Decimal(n // 24) / 5))
        for price_list in price_lists:
            for currency in CURRENCIES:
                record = _erp_record(rng, price_list.id, factors[price_list.id], variant_price, variant.sku,
                                     currency, None, next(version))
                books[0].put(record)
                books[1].put(record)
        for location in locations:
            level = StockLevel(variant.sku, location.id, rng.randint(0, 40), 0, 0, version=next(version))
            levels[0][(variant.sku, location.id)] = levels[1][(variant.sku, location.id)] = level
    return Product(id=product_id, sku=sku, name=name, path=f"/{_slug(name)}/",
                   description=f"<p>{name}: every colour, size and length.</p>", brand_id=5, category_ids=(5,),
                   variants=variants, base_price=base, retail_price=None, catalog_tiers=(), custom_fields=(),
                   images=(Image(f"products/{product_id}/0/{_slug(name)}.jpg", name, True),), weight=Decimal(5),
                   created_rank=1, total_sold=0, is_featured=False, free_shipping=False)


def set_exactly_ten_available(product: Product, stock: dict[tuple[str, int], StockLevel],
                              bc_stock: dict[tuple[str, int], StockLevel]) -> None:
    """One simple product has exactly 10 units available to sell across all warehouses (6 + 4 + 0)."""
    sku = product.default_variant.sku
    for location_id, (on_hand, allocated, safety) in {1: (8, 2, 0), 2: (5, 0, 1), 3: (0, 0, 0)}.items():
        level = replace(stock[(sku, location_id)], on_hand=on_hand, allocated=allocated, safety_stock=safety,
                        backorder=False)
        stock[(sku, location_id)] = level
        bc_stock[(sku, location_id)] = replace(level, on_hand=on_hand + 20)
