"""Price resolution with BigCommerce's meaning of each price field, from a price-list record.

A record is what the ERP says one SKU costs on one price list in one currency. BigCommerce's
``prices.price`` is the sale price when one applies, else the price; ``basePrice`` the price
before sale; ``saved`` the difference between retail (MSRP) and the current price.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from pricing_edge.domain.money import quantize


class TierKind(StrEnum):
    """The three concrete BulkPricingTier types of the Storefront API."""

    FIXED_PRICE = "BulkPricingFixedPriceDiscount"
    PERCENT_OFF = "BulkPricingPercentageDiscount"
    PRICE_ADJUSTMENT = "BulkPricingRelativePriceDiscount"


@dataclass(frozen=True)
class BulkTier:
    min_quantity: int
    max_quantity: int | None
    amount: Decimal
    kind: TierKind = TierKind.FIXED_PRICE

    def covers(self, quantity: int) -> bool:
        return quantity >= self.min_quantity and (self.max_quantity is None or quantity <= self.max_quantity)


@dataclass(frozen=True)
class PriceRecord:
    """One SKU on one price list in one currency, as the ERP states it (money as Decimal)."""

    price_list_id: int
    sku: str
    currency: str
    price: Decimal
    sale_price: Decimal | None = None
    retail_price: Decimal | None = None
    map_price: Decimal | None = None
    bulk_tiers: tuple[BulkTier, ...] = ()
    version: int = 0

    @property
    def on_sale(self) -> bool:
        return self.sale_price is not None and self.sale_price < self.price

    @property
    def effective_price(self) -> Decimal:
        """BigCommerce's ``prices.price``: the sale price when one applies, else the price."""
        return self.sale_price if self.on_sale and self.sale_price is not None else self.price


def unit_price(record: PriceRecord, quantity: int, tiers: Sequence[BulkTier] | None = None) -> Decimal:
    """The unit price for ``quantity`` units: the first volume break covering it, else the effective price."""
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    base = record.effective_price
    for tier in record.bulk_tiers if tiers is None else tiers:
        if tier.covers(quantity):
            return min(base, apply_tier(base, tier))  # buying more never costs more per unit than a sale
    return base


def apply_tier(base: Decimal, tier: BulkTier) -> Decimal:
    if tier.kind is TierKind.FIXED_PRICE:
        return tier.amount
    if tier.kind is TierKind.PERCENT_OFF:
        return quantize(base * (Decimal(100) - tier.amount) / Decimal(100))
    return max(Decimal(0), base - tier.amount)


@dataclass(frozen=True)
class PriceView:
    """The values of one Storefront ``Prices`` object for one product or variant."""

    currency: str
    price: Decimal
    base_price: Decimal
    sale_price: Decimal | None
    retail_price: Decimal | None
    map_price: Decimal | None
    bulk_tiers: tuple[BulkTier, ...] = ()
    price_range: tuple[Decimal, Decimal] | None = None
    retail_price_range: tuple[Decimal, Decimal] | None = None

    @property
    def saved(self) -> Decimal | None:
        if self.retail_price is None or self.retail_price <= self.price:
            return None
        return self.retail_price - self.price

    @property
    def range(self) -> tuple[Decimal, Decimal]:
        return self.price_range or (self.price, self.price)


def view_of(record: PriceRecord, fallback_tiers: Sequence[BulkTier] = (), tax_rate: Decimal | None = None,
            places: int = 2) -> PriceView:
    """The Prices view of one record; catalog-level tiers apply when the record has none of its own."""
    scale = (Decimal(1) + tax_rate) if tax_rate else Decimal(1)

    def taxed(value: Decimal | None) -> Decimal | None:
        """Tax-inclusive values are rounded to the currency's places (cents); without tax the ERP's digits
        stand as they are."""
        if value is None or not tax_rate:
            return value
        return quantize(value * scale, places)

    price = taxed(record.effective_price)
    assert price is not None
    return PriceView(
        currency=record.currency,
        price=price,
        base_price=taxed(record.price) or price,
        sale_price=taxed(record.sale_price) if record.on_sale else None,
        retail_price=taxed(record.retail_price),
        map_price=taxed(record.map_price),
        bulk_tiers=record.bulk_tiers or tuple(fallback_tiers),
    )


def with_ranges(default: PriceView, variants: Iterable[PriceView]) -> PriceView:
    """A product's view: its default variant's prices plus the ranges over all its variants."""
    views = list(variants) or [default]
    prices = [v.price for v in views]
    retails = [v.retail_price for v in views if v.retail_price is not None]
    return PriceView(
        currency=default.currency,
        price=default.price,
        base_price=default.base_price,
        sale_price=default.sale_price,
        retail_price=default.retail_price,
        map_price=default.map_price,
        bulk_tiers=default.bulk_tiers,
        price_range=(min(prices), max(prices)),
        retail_price_range=(min(retails), max(retails)) if retails else None,
    )


@dataclass(frozen=True)
class PriceListAssignment:
    """Which price list a buyer's customer group sees on a channel (BigCommerce price-list assignments)."""

    price_list_id: int
    channel_id: int = 1
    customer_group_id: int | None = None  # None: the channel's default (guests and unassigned groups)


@dataclass
class PriceBook:
    """Price-list records indexed by (price list, sku, currency)."""

    records: dict[tuple[int, str, str], PriceRecord] = field(default_factory=dict)

    def put(self, record: PriceRecord) -> None:
        self.records[(record.price_list_id, record.sku, record.currency)] = record

    def get(self, price_list_id: int, sku: str, currency: str) -> PriceRecord | None:
        return self.records.get((price_list_id, sku, currency))
