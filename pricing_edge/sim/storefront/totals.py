"""Cart and checkout totals from line prices, the way BigCommerce adds them up (a tax-exclusive store).

Pure arithmetic over Decimals, no GraphQL: a line's *list price* (the price list's price, sale price if
one is set — or a price a server set on the line) times its quantity is its extended list price; volume
breaks are the line's *discount*; coupons are order-level, spread over the lines in proportion to what
they cost after discounts (the last line takes the rounding). Then:

- cart ``baseAmount`` = Σ extended list prices (+ gift certificates bought)   — before any discount
- cart ``discountedAmount`` = Σ line discounts (coupons excluded)
- cart ``amount`` = baseAmount − discounts − coupons
- checkout ``subtotal`` = baseAmount (before item-level discounts)
- ``taxTotal`` = tax rate × (taxable lines after discounts and coupons); shipping and gift certificates
  are not taxed
- ``grandTotal`` = subtotal − discounts − coupons + shipping + handling + tax
- gift certificates redeemed pay the grand total in the order applied; ``outstandingBalance`` is the rest.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pricing_edge.domain.money import quantize

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Line:
    key: str
    quantity: int
    list_price: Decimal  # per unit, before discounts
    sale_price: Decimal  # per unit, after the line's own discounts (volume breaks)
    taxable: bool = True


@dataclass(frozen=True)
class CouponUse:
    code: str
    kind: str  # PERCENTAGE_DISCOUNT, PER_TOTAL_DISCOUNT, FREE_SHIPPING
    amount: Decimal  # percent, or money in the cart's currency


@dataclass(frozen=True)
class Totals:
    base_amount: Decimal
    discounted_amount: Decimal
    coupon_amounts: dict[str, Decimal]  # by coupon code
    line_coupons: dict[str, Decimal]  # by line key
    amount: Decimal
    shipping: Decimal
    handling: Decimal
    tax: Decimal
    grand_total: Decimal
    gift_certificates_used: dict[str, Decimal] = field(default_factory=dict)  # by code

    @property
    def coupon_total(self) -> Decimal:
        return sum(self.coupon_amounts.values(), ZERO)

    @property
    def outstanding(self) -> Decimal:
        return self.grand_total - sum(self.gift_certificates_used.values(), ZERO)


def _spread(total: Decimal, weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """``total`` over the keys in proportion to their weights, to the cent, summing exactly to ``total``."""
    spent, out = ZERO, {}
    basis = sum(weights.values(), ZERO)
    keys = [k for k, w in weights.items() if w > 0]
    for n, key in enumerate(keys):
        share = total - spent if n == len(keys) - 1 else quantize(total * weights[key] / basis)
        out[key] = share
        spent += share
    return out


def totals(lines: Sequence[Line], coupons: Sequence[CouponUse], *, extra: Decimal = ZERO, shipping: Decimal = ZERO,
           handling: Decimal = ZERO, tax_rate: Decimal = ZERO,
           gift_certificates: Sequence[tuple[str, Decimal]] = ()) -> Totals:
    """``extra``: untaxed, undiscounted amounts (gift certificates bought); ``gift_certificates``: (code, balance)
    redeemed in order."""
    base = sum((quantize(line.list_price * line.quantity) for line in lines), ZERO) + extra
    after_discounts = {line.key: quantize(line.sale_price * line.quantity) for line in lines}
    discounted = sum((quantize(line.list_price * line.quantity) - after_discounts[line.key] for line in lines), ZERO)
    goods = sum(after_discounts.values(), ZERO)
    coupon_amounts: dict[str, Decimal] = {}
    remaining = goods
    free_shipping = False
    for coupon in coupons:
        if coupon.kind == "FREE_SHIPPING":
            free_shipping = True
            coupon_amounts[coupon.code] = ZERO
            continue
        off = quantize(goods * coupon.amount / 100) if coupon.kind == "PERCENTAGE_DISCOUNT" else coupon.amount
        off = min(off, remaining)
        coupon_amounts[coupon.code] = off
        remaining -= off
    coupon_total = sum(coupon_amounts.values(), ZERO)
    line_coupons = _spread(coupon_total, after_discounts) if coupon_total else {}
    taxable = sum((after_discounts[line.key] - line_coupons.get(line.key, ZERO) for line in lines if line.taxable), ZERO)
    tax = quantize(taxable * tax_rate)
    if free_shipping:
        shipping = ZERO
    amount = base - discounted - coupon_total
    grand = amount + shipping + handling + tax
    used: dict[str, Decimal] = {}
    due = grand
    for code, balance in gift_certificates:
        used[code] = min(balance, due)
        due -= used[code]
    return Totals(base, discounted, coupon_amounts, line_coupons, amount, shipping, handling, tax, grand, used)
