"""The simulated storefront's state: its catalog, and its own lagging copy of prices and stock.

Prices come from BigCommerce's copy of the price lists (``Dataset.bc_prices``), not the ERP's truth;
that lag is what pricing-edge removes. A later sync flow updates this copy through ``put_price``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import PriceRecord, PriceView, view_of, with_ranges
from pricing_edge.sim.catalog_content import ProductOption, Review
from pricing_edge.sim.admin.channels import ChannelBook
from pricing_edge.sim.dataset import CHANNEL_ID, GUEST_GROUP_ID, STORE_HASH, Category, Dataset, Product, Variant


class UnsupportedCurrency(ValueError):
    pass


@dataclass(frozen=True)
class Buyer:
    """Who asks: a customer (with group) or a guest."""

    customer_id: int | None
    group_id: int
    channel_id: int = CHANNEL_ID  # the channel whose storefront endpoint was asked

    @property
    def is_guest(self) -> bool:
        return self.customer_id is None


GUEST = Buyer(None, GUEST_GROUP_ID)


class StorefrontCatalog:
    def __init__(self, dataset: Dataset, tax_rate: Decimal, tax_zones: Mapping[int, Decimal] | None = None,
                 channels: ChannelBook | None = None) -> None:
        """``tax_rate``: the store's (and guests') tax zone; ``tax_zones``: customers whose address lies in
        another zone, with that zone's rate (BigCommerce finds a logged-in customer's zone by address);
        ``channels``: the REST Admin's channels and price-list assignments, by which buyers are priced."""
        self.dataset = dataset
        self.channels = channels or ChannelBook(dataset, STORE_HASH)
        self.tax_rate = tax_rate
        self.tax_zones = dict(tax_zones or {})

    def tax_rate_for(self, buyer: Buyer) -> Decimal:
        return self.tax_zones.get(buyer.customer_id, self.tax_rate) if buyer.customer_id else self.tax_rate

    # -- visibility ----------------------------------------------------------------------------
    def visible(self, product: Product | None, buyer: Buyer) -> bool:
        return product is not None and self.dataset.visible_to(product, buyer.group_id)

    def product(self, product_id: int, buyer: Buyer) -> Product | None:
        product = self.dataset.product_by_id.get(product_id)
        return product if product is not None and self.visible(product, buyer) else None

    def products(self, buyer: Buyer) -> list[Product]:
        return [p for p in self.dataset.products if self.visible(p, buyer)]

    def by_sku(self, sku: str, buyer: Buyer) -> Product | None:
        """A product by one of its variants' SKUs or by its own (a product with variants has both)."""
        found = self.dataset.variant_by_sku.get(sku)
        product = found[0] if found else self.dataset.product_by_sku.get(sku)
        return product if product is not None and self.visible(product, buyer) else None

    def by_variant(self, variant_id: int, buyer: Buyer) -> Product | None:
        found = self.dataset.variant_by_id.get(variant_id)
        return found[0] if found and self.visible(found[0], buyer) else None

    def category(self, category_id: int, buyer: Buyer) -> Category | None:
        category = self.dataset.category(category_id)
        if category is None or category.id in self.dataset.hidden_categories(buyer.group_id):
            return None
        return category

    def categories(self, buyer: Buyer) -> list[Category]:
        hidden = self.dataset.hidden_categories(buyer.group_id)
        return [c for c in self.dataset.categories if c.id not in hidden]

    def children(self, category_id: int, buyer: Buyer) -> list[Category]:
        return [c for c in self.categories(buyer) if c.parent_id == category_id]

    def descendants(self, category_id: int, buyer: Buyer) -> set[int]:
        found, frontier = set(), [category_id]
        while frontier:
            kids = [c.id for c in self.children(frontier.pop(), buyer)]
            found.update(kids)
            frontier.extend(kids)
        return found

    def ancestry(self, category: Category) -> list[Category]:
        """From the top-level category down to ``category`` itself."""
        chain = [category]
        while chain[0].parent_id and (parent := self.dataset.category(chain[0].parent_id)) is not None:
            chain.insert(0, parent)
        return chain

    # -- storefront content --------------------------------------------------------------------
    def options(self, product: Product) -> tuple[ProductOption, ...]:
        return self.dataset.catalog_content.options.get(product.id, ())

    def reviews(self, product: Product) -> tuple[Review, ...]:
        return self.dataset.catalog_content.reviews.get(product.id, ())

    def average_rating(self, product: Product) -> float:
        reviews = self.reviews(product)
        return round(sum(r.rating for r in reviews) / len(reviews), 2) if reviews else 0.0

    # -- prices (BigCommerce's copy) -----------------------------------------------------------
    def _record(self, variant: Variant, buyer: Buyer, currency: str) -> PriceRecord:
        if currency not in self.channels.channel(buyer.channel_id).currencies:
            raise UnsupportedCurrency(f"Currency {currency} is not enabled for this channel.")
        price_list = self.price_list_for(buyer)
        record = self.dataset.bc_prices.get(price_list, variant.sku, currency)
        assert record is not None, f"no price for {variant.sku}"
        return record

    def price_list_for(self, buyer: Buyer) -> int:
        """The buyer's price list by the store's assignments: its group on its channel."""
        return self.channels.price_list_for(buyer.group_id, buyer.channel_id)

    def default_currency(self, buyer: Buyer) -> str:
        return self.channels.channel(buyer.channel_id).default_currency

    def variant_prices(self, product: Product, variant: Variant, buyer: Buyer, currency: str,
                       include_tax: bool) -> PriceView:
        record = self._record(variant, buyer, currency)
        return view_of(record, product.catalog_tiers, self.tax_rate_for(buyer) if include_tax else None)

    def product_prices(self, product: Product, buyer: Buyer, currency: str, include_tax: bool) -> PriceView:
        views = [self.variant_prices(product, v, buyer, currency, include_tax) for v in product.variants]
        return with_ranges(views[0], views)

    def sort_price(self, product: Product, buyer: Buyer) -> Decimal:
        return self.product_prices(product, buyer, self.default_currency(buyer), False).price

    def put_price(self, record: PriceRecord) -> None:
        self.dataset.bc_prices.put(record)

    # -- stock (BigCommerce's copy) ------------------------------------------------------------
    def stock(self, variant: Variant) -> list[StockLevel]:
        return self.dataset.stock_for(variant.sku, bigcommerce=True)

    def available(self, variant: Variant) -> int:
        return sum(level.available_to_sell for level in self.stock(variant))

    def product_available(self, product: Product) -> int:
        return sum(self.available(v) for v in product.variants)

    def in_stock(self, product: Product) -> bool:
        return any(self.available(v) > 0 or any(lv.backorder for lv in self.stock(v)) for v in product.variants)
