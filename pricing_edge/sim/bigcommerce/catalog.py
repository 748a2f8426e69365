"""The simulator's state: BigCommerce's own copy of the catalog, price lists and stock.

Prices and inventory come from ``Dataset.bc_prices`` / ``Dataset.bc_stock`` — BigCommerce's lagging
copy — never from the ERP's truth; that lag is what pricing-edge exists to remove. The copy is held
here (``app.state.store``) so a price-list or inventory sync can update it through ``put_price`` /
``put_stock`` while the simulator runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from graphql import GraphQLError

from pricing_edge.domain.inventory import StockLevel, total_available
from pricing_edge.domain.pricing import PriceBook, PriceRecord, PriceView, view_of, with_ranges
from pricing_edge.sim.dataset import (
    CURRENCIES,
    DEFAULT_CURRENCY,
    GUEST_GROUP_ID,
    Brand,
    Category,
    Customer,
    Dataset,
    Product,
    Variant,
)

if TYPE_CHECKING:
    from pricing_edge.sim.bigcommerce.cart import Cart

SWATCH_COLORS = {"Black": "#1B1B1B", "Orange": "#F28C28", "Yellow": "#F4C430", "Blue": "#1F4E9E",
                 "Gray": "#8A8D91"}


class UnsupportedCurrency(GraphQLError):
    def __init__(self, code: str) -> None:
        super().__init__(f"Currency {code} is not enabled on this channel; enabled: {', '.join(CURRENCIES)}")


@dataclass(frozen=True)
class Buyer:
    """Who is asking: a customer (and their group) or the guest. Prices follow the group's price list."""

    customer: Customer | None
    group_id: int
    price_list_id: int

    @property
    def customer_id(self) -> int | None:
        return self.customer.id if self.customer else None


@dataclass(frozen=True)
class OptionValueSpec:
    entity_id: int
    label: str


@dataclass(frozen=True)
class OptionSpec:
    entity_id: int
    name: str
    values: tuple[OptionValueSpec, ...]

    @property
    def display_style(self) -> str:
        return {"Color": "Swatch", "Size": "RectangleBoxes"}.get(self.name, "DropdownList")


@dataclass(frozen=True)
class ProductRef:
    """A product as a query sees it; ``selected`` is the variant picked by variantEntityId/optionValueIds."""

    product: Product
    selected: Variant | None = None

    @property
    def variant(self) -> Variant:
        return self.selected or self.product.default_variant


@dataclass(frozen=True)
class VariantRef:
    product: Product
    variant: Variant


@dataclass
class BigCommerceStore:
    dataset: Dataset
    tax_rate: Decimal
    prices: PriceBook = field(init=False)
    stock: dict[tuple[str, int], StockLevel] = field(init=False)
    carts: dict[str, Cart] = field(default_factory=dict)
    currencies: tuple[str, ...] = CURRENCIES
    default_currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        self.prices = self.dataset.bc_prices
        self.stock = self.dataset.bc_stock

    # -- updates a sync applies -------------------------------------------------------------
    def put_price(self, record: PriceRecord) -> None:
        self.prices.put(record)

    def put_stock(self, level: StockLevel) -> None:
        self.stock[(level.sku, level.location_id)] = level

    # -- buyers and visibility --------------------------------------------------------------
    def buyer(self, customer: Customer | None) -> Buyer:
        group_id = customer.customer_group_id if customer else GUEST_GROUP_ID
        return Buyer(customer, group_id, self.dataset.price_list_for_group(group_id))

    def product(self, product_id: int, buyer: Buyer) -> Product | None:
        product = self.dataset.product_by_id.get(product_id)
        return product if product and self.dataset.visible_to(product, buyer.group_id) else None

    def visible_products(self, buyer: Buyer) -> list[Product]:
        return [p for p in self.dataset.products if self.dataset.visible_to(p, buyer.group_id)]

    def category(self, category_id: int, buyer: Buyer) -> Category | None:
        category = next((c for c in self.dataset.categories if c.id == category_id), None)
        if category is None or category.id in self.dataset.hidden_categories(buyer.group_id):
            return None
        return category

    def visible_categories(self, buyer: Buyer) -> list[Category]:
        hidden = self.dataset.hidden_categories(buyer.group_id)
        return [c for c in self.dataset.categories if c.id not in hidden]

    def brand(self, brand_id: int) -> Brand | None:
        return next((b for b in self.dataset.brands if b.id == brand_id), None)

    def variant(self, variant_id: int, buyer: Buyer) -> tuple[Product, Variant] | None:
        found = self.dataset.variant_by_id.get(variant_id)
        if found is None or not self.dataset.visible_to(found[0], buyer.group_id):
            return None
        return found

    # -- prices -----------------------------------------------------------------------------
    def check_currency(self, currency: str | None) -> str:
        code = currency or self.default_currency
        if code not in self.currencies:
            raise UnsupportedCurrency(code)
        return code

    def record(self, buyer: Buyer, sku: str, currency: str) -> PriceRecord | None:
        """The buyer's price-list record, else the channel's default list (BigCommerce's fallback)."""
        return self.prices.get(buyer.price_list_id, sku, currency) or self.prices.get(
            self.dataset.default_price_list_id, sku, currency)

    def variant_view(self, buyer: Buyer, product: Product, variant: Variant, currency: str,
                     include_tax: bool) -> PriceView | None:
        record = self.record(buyer, variant.sku, currency)
        if record is None:
            return None
        return view_of(record, product.catalog_tiers, self.tax_rate if include_tax else None)

    def product_view(self, buyer: Buyer, ref: ProductRef, currency: str, include_tax: bool) -> PriceView | None:
        views = [self.variant_view(buyer, ref.product, v, currency, include_tax) for v in ref.product.variants]
        current = self.variant_view(buyer, ref.product, ref.variant, currency, include_tax)
        if current is None:
            return None
        return with_ranges(current, [v for v in views if v is not None])

    def list_price(self, buyer: Buyer, product: Product, currency: str = DEFAULT_CURRENCY) -> Decimal:
        """The price search filters and price sorts use: the default variant's, for this buyer."""
        record = self.record(buyer, product.default_variant.sku, currency)
        return record.effective_price if record else product.base_price

    # -- inventory --------------------------------------------------------------------------
    def levels(self, sku: str) -> list[StockLevel]:
        return [self.stock[(sku, loc.id)] for loc in self.dataset.locations if (sku, loc.id) in self.stock]

    def available(self, sku: str) -> int:
        return total_available(self.levels(sku))

    def product_available(self, product: Product) -> int:
        return sum(self.available(v.sku) for v in product.variants)

    def warning_level(self, skus: list[str]) -> int:
        """BigCommerce's low-stock warning level; the ERP's safety stock stands in for it."""
        return sum(level.safety_stock for sku in skus for level in self.levels(sku))

    # -- options ----------------------------------------------------------------------------
    def options(self, product: Product) -> list[OptionSpec]:
        """Variant options with stable ids: option ``<product>*100+n``, value ``<product>*10000+n*100+m``."""
        if not product.has_variants:
            return []
        specs = []
        for i, name in enumerate(product.option_names, start=1):
            labels: list[str] = []
            for variant in product.variants:
                label = dict(variant.option_values).get(name)
                if label is not None and label not in labels:
                    labels.append(label)
            values = tuple(OptionValueSpec(product.id * 10000 + i * 100 + j, label)
                           for j, label in enumerate(labels, start=1))
            specs.append(OptionSpec(product.id * 100 + i, name, values))
        return specs

    def value_ids(self, product: Product, variant: Variant) -> dict[int, int]:
        """``{option id: value id}`` of one variant."""
        chosen = dict(variant.option_values)
        return {o.entity_id: v.entity_id for o in self.options(product) for v in o.values
                if chosen.get(o.name) == v.label}

    def variant_for(self, product: Product, selections: dict[int, int]) -> Variant | None:
        """The variant matching option-value selections (every given pair must match)."""
        for variant in product.variants:
            ids = self.value_ids(product, variant)
            if all(ids.get(option) == value for option, value in selections.items()):
                return variant
        return None
