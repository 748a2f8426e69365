"""Totals from line prices (pure arithmetic, no GraphQL): discounts, coupons spread to the cent, tax on goods
only, free shipping, gift certificates paying the grand total in turn."""
from __future__ import annotations

from decimal import Decimal

from pricing_edge.sim.storefront.totals import CouponUse, Line, totals

D = Decimal


def test_lines_discounts_and_tax_add_up() -> None:
    lines = [Line("a", 3, D("10.00"), D("9.50")), Line("b", 1, D("4.99"), D("4.99"))]
    found = totals(lines, [], shipping=D("7.00"), handling=D("1.00"), tax_rate=D("0.10"))
    assert found.base_amount == D("34.99")
    assert found.discounted_amount == D("1.50")
    assert found.amount == D("33.49")
    assert found.tax == D("3.35")  # 10% of 33.49, rounded half up; shipping is not taxed
    assert found.grand_total == D("33.49") + D("7.00") + D("1.00") + D("3.35")


def test_an_order_coupon_is_spread_over_the_lines_to_the_cent() -> None:
    lines = [Line("a", 1, D("10.00"), D("10.00")), Line("b", 1, D("10.00"), D("10.00")),
             Line("c", 1, D("10.00"), D("10.00"))]
    found = totals(lines, [CouponUse("TEN", "PER_TOTAL_DISCOUNT", D("10.00"))])
    assert found.line_coupons == {"a": D("3.33"), "b": D("3.33"), "c": D("3.34")}
    assert sum(found.line_coupons.values()) == found.coupon_total == D("10.00")
    assert found.amount == D("20.00")


def test_a_coupon_never_takes_more_than_the_goods_and_free_shipping_zeroes_shipping() -> None:
    lines = [Line("a", 1, D("8.00"), D("8.00"))]
    found = totals(lines, [CouponUse("BIG", "PER_TOTAL_DISCOUNT", D("25.00")), CouponUse("SHIP", "FREE_SHIPPING", D(0)),
                           CouponUse("PCT", "PERCENTAGE_DISCOUNT", D(10))], shipping=D("12.00"), tax_rate=D("0.10"))
    assert found.coupon_amounts == {"BIG": D("8.00"), "SHIP": D("0.00"), "PCT": D("0")}
    assert (found.amount, found.shipping, found.tax, found.grand_total) == (D("0.00"), D("0.00"), D("0.00"), D("0.00"))


def test_gift_certificates_pay_in_turn_and_bought_ones_are_not_taxed() -> None:
    lines = [Line("a", 2, D("30.00"), D("30.00"))]
    found = totals(lines, [], extra=D("25.00"), tax_rate=D("0.10"),
                   gift_certificates=[("GC1", D("50.00")), ("GC2", D("100.00"))])
    assert found.base_amount == D("85.00") and found.tax == D("6.00")
    assert found.grand_total == D("91.00")
    assert found.gift_certificates_used == {"GC1": D("50.00"), "GC2": D("41.00")}
    assert found.outstanding == D("0.00")
