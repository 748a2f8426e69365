"""What a cart costs: each line's prices from BigCommerce's copy of the buyer's price list, shipping
options for a consignment, applied coupons and gift certificates — added up by ``totals.totals``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from pricing_edge.domain.money import quantize
from pricing_edge.domain.pricing import unit_price
from pricing_edge.sim.dataset import EUR_RATE, variant_list_price
from pricing_edge.sim.site_content import Coupon, ShippingMethod
from pricing_edge.sim.storefront.cart import Cart, Consignment, LineItem
from pricing_edge.sim.storefront.context import Context, ctx, money
from pricing_edge.sim.storefront.totals import ZERO, CouponUse, Line, Totals, totals


def rate(currency: str) -> Decimal:
    """The store's exchange rate from its default currency (USD)."""
    return EUR_RATE if currency == "EUR" else Decimal(1)


@dataclass(frozen=True)
class LinePrices:
    original: Decimal  # the product's default (catalog) price
    list: Decimal  # before discounts: the price list's price (its sale price if set), or a price set on the line
    sale: Decimal  # after the line's discounts (volume breaks)
    retail: Decimal


def line_prices(c: Context, cart: Cart, item: LineItem) -> LinePrices:
    dataset = c.catalog.dataset
    record = dataset.bc_prices.get(c.catalog.price_list_for(cart.buyer), item.variant.sku, cart.currency)
    assert record is not None, f"no price for {item.variant.sku}"
    original = quantize(variant_list_price(item.product.base_price, item.variant) * rate(cart.currency))
    if item.price is not None:
        return LinePrices(original, item.price, item.price, record.retail_price or item.price)
    sale = unit_price(record, item.quantity, record.bulk_tiers or item.product.catalog_tiers)
    return LinePrices(original, record.effective_price, sale, record.retail_price or record.effective_price)


def coupon_of(c: Context, code: str) -> Coupon | None:
    return next((x for x in c.catalog.dataset.site.coupons if x.code.lower() == code.strip().lower()), None)


def coupon_problem(coupon: Coupon | None, code: str, goods: Decimal, currency: str) -> str | None:
    """Why a coupon cannot apply to goods worth ``goods`` (None: it applies)."""
    if coupon is None:
        return f"The coupon code {code!r} is not valid."
    if coupon.expires is not None and coupon.expires < datetime.now(UTC):
        return f"The coupon code {code!r} has expired."
    minimum = quantize(coupon.min_purchase * rate(currency))
    if goods < minimum:
        return f"The coupon code {code!r} needs an order of at least {minimum} {currency}."
    return None


def _goods(c: Context, cart: Cart) -> Decimal:
    return sum((quantize(line_prices(c, cart, i).sale * i.quantity) for i in cart.items), ZERO)


def _weight_lb(cart: Cart, line_ids: list[str]) -> Decimal:
    return sum((i.product.weight * i.variant.uom_factor * i.quantity for i in cart.items if i.entity_id in line_ids),
               Decimal(0))


def shipping_options(c: Context, cart: Cart, consignment: Consignment) -> list[tuple[ShippingMethod, Decimal]]:
    """The methods of the zone the address is in, with their cost for this consignment in the cart's currency."""
    country = consignment.address.get("countryCode", "")
    goods = sum((quantize(line_prices(c, cart, i).sale * i.quantity) for i in cart.items
                 if i.entity_id in consignment.line_ids), ZERO)
    found = []
    for method in c.catalog.dataset.site.shipping_methods:
        if country not in method.countries:
            continue
        if method.free_over is not None and goods < quantize(method.free_over * rate(cart.currency)):
            continue
        cost = method.flat + method.per_lb * _weight_lb(cart, consignment.line_ids)
        found.append((method, quantize(cost * rate(cart.currency))))
    return found


def handling(method: ShippingMethod, currency: str) -> Decimal:
    return quantize(method.handling * rate(currency))


def total_field(attribute: str) -> Callable[[Cart, GraphQLResolveInfo], dict[str, Any] | None]:
    """A resolver answering one of the cart's ``Totals`` as Money in the cart's currency."""
    return lambda cart, info: money(getattr(cart_totals(ctx(info), cart), attribute), cart.currency)


def cart_totals(c: Context, cart: Cart) -> Totals:
    lines = []
    for item in cart.items:
        prices = line_prices(c, cart, item)
        lines.append(Line(item.entity_id, item.quantity, prices.list, prices.sale))
    goods = _goods(c, cart)
    coupons = []
    for code in cart.coupons:  # a coupon whose condition the cart no longer meets stops applying
        coupon = coupon_of(c, code)
        if coupon is not None and coupon_problem(coupon, code, goods, cart.currency) is None:
            amount = coupon.amount if coupon.type == "PERCENTAGE_DISCOUNT" else quantize(coupon.amount * rate(cart.currency))
            coupons.append(CouponUse(coupon.code, coupon.type, amount))
    shipping = handling_total = ZERO
    for consignment in cart.consignments:
        chosen = next(((m, cost) for m, cost in shipping_options(c, cart, consignment) if m.id == consignment.selected),
                      None)
        if chosen is not None:
            shipping += chosen[1]
            handling_total += handling(chosen[0], cart.currency)
    balances = {g.code: g.balance for g in c.catalog.dataset.site.gift_certificates}
    extra = sum((g.amount * g.quantity for g in cart.gift_certificates), ZERO)
    return totals(lines, coupons, extra=extra, shipping=shipping, handling=handling_total, tax_rate=c.catalog.tax_rate_for(c.buyer),
                  gift_certificates=[(code, balances[code]) for code in cart.redeemed if code in balances])
