"""Order rules without IO: a BigCommerce order becomes an ERP sales order, or a clear mapping error."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing_edge.domain.orders import (
    BcStatus,
    ErpStatus,
    OrderMappingError,
    OrderSettings,
    SalesOrderLine,
    bc_status_for,
    bc_total,
    is_postable,
    order_id_of,
    order_reference,
    price_mismatches,
    to_sales_order,
)
from pricing_edge.domain.pricing import BulkTier, PriceRecord

SETTINGS = OrderSettings(store_hash="abc123", document_type="ZOR")


def order(**overrides: Any) -> dict[str, Any]:
    return {"id": 250, "customer_id": 7, "status_id": 11, "currency_code": "USD", "payment_method": "Purchase Order",
            "customer_message": "PO-4711", **overrides}


PRODUCTS = [{"id": 1, "product_id": 77, "sku": "SKU-1", "quantity": 3, "price_ex_tax": "12.5000"},
            {"id": 2, "product_id": 78, "sku": "SKU-2", "quantity": 1, "price_ex_tax": "100.0000"}]
ADDRESS = [{"id": 9, "first_name": "Ada", "last_name": "Lovelace", "company": "Engines Ltd", "street_1": "1 Loop",
            "street_2": "", "city": "London", "state": "", "zip": "N1", "country_iso2": "GB"}]


def test_an_order_maps_to_a_sales_order_keyed_by_our_reference() -> None:
    sales = to_sales_order(order(), PRODUCTS, ADDRESS, company_id=3, settings=SETTINGS)
    assert sales.reference == "BC-abc123-250" and order_id_of(sales.reference) == 250
    assert sales.sold_to == "company:3"  # a B2B buyer buys on its company's account
    assert [line.key() for line in sales.lines] == [("SKU-1", 3, Decimal("12.5")), ("SKU-2", 1, Decimal("100"))]
    assert sales.po_number == "PO-4711" and sales.document_type == "ZOR" and sales.currency == "USD"
    assert sales.ship_to is not None and sales.ship_to.name == "Ada Lovelace" and sales.ship_to.country_iso2 == "GB"
    assert not sales.cancelled


def test_without_a_company_the_buyer_is_the_account_and_other_payments_carry_no_po() -> None:
    sales = to_sales_order(order(payment_method="Credit Card"), PRODUCTS, [], company_id=None, settings=SETTINGS)
    assert (sales.sold_to, sales.po_number, sales.ship_to) == ("customer:7", None, None)


@pytest.mark.parametrize("status", [BcStatus.CANCELLED, BcStatus.DECLINED, BcStatus.REFUNDED])
def test_cancelling_statuses_mark_the_sales_order_cancelled(status: BcStatus) -> None:
    assert to_sales_order(order(status_id=int(status)), PRODUCTS, [], None, SETTINGS).cancelled


def test_incomplete_orders_are_not_postable() -> None:
    assert not is_postable(order(status_id=0))
    assert is_postable(order(status_id=1))


@pytest.mark.parametrize(("products", "problem"), [
    ([], "no products"),
    ([{"product_id": 1, "sku": "", "quantity": 1, "price_ex_tax": "1"}], "has no SKU"),
    ([{"sku": "A", "quantity": 0, "price_ex_tax": "1"}], "not positive"),
    ([{"sku": "A", "quantity": "x", "price_ex_tax": "1"}], "no valid quantity"),
    ([{"sku": "A", "quantity": 1, "price_ex_tax": "cheap"}], "not an amount"),
    ([{"sku": "A", "quantity": 1, "price_ex_tax": "-1"}], "not an amount"),
])
def test_unmappable_lines_say_what_is_wrong(products: list[dict[str, Any]], problem: str) -> None:
    with pytest.raises(OrderMappingError, match=problem):
        to_sales_order(order(), products, [], None, SETTINGS)


def test_a_bad_currency_or_status_is_a_mapping_error() -> None:
    with pytest.raises(OrderMappingError, match="currency"):
        to_sales_order(order(currency_code="dollars"), PRODUCTS, [], None, SETTINGS)
    with pytest.raises(OrderMappingError, match="status_id"):
        to_sales_order(order(status_id="shipped"), PRODUCTS, [], None, SETTINGS)


def test_the_price_check_uses_the_erp_price_for_the_quantity_ordered() -> None:
    record = PriceRecord(1, "SKU-1", "USD", Decimal("15.00"), bulk_tiers=(BulkTier(3, None, Decimal("12.50")),))
    lines = [SalesOrderLine("SKU-1", 3, Decimal("12.5")), SalesOrderLine("SKU-1", 1, Decimal("12.5"))]
    (mismatch,) = price_mismatches(lines, {"SKU-1": record})
    assert mismatch.describe() == {"sku": "SKU-1", "quantity": 1, "ordered": "12.5", "erp": "15.00"}


def test_a_sku_the_erp_does_not_price_cannot_be_posted() -> None:
    with pytest.raises(OrderMappingError, match="'GHOST' is unknown to the ERP"):
        price_mismatches([SalesOrderLine("GHOST", 1, Decimal(1))], {})


def test_every_erp_status_has_a_bigcommerce_status() -> None:
    assert {status: bc_status_for(status) for status in ErpStatus}[ErpStatus.SHIPPED] is BcStatus.SHIPPED
    assert bc_status_for(ErpStatus.CANCELLED) is BcStatus.CANCELLED


@given(st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True), st.integers(min_value=1, max_value=10**12))
def test_references_round_trip(store_hash: str, order_id: int) -> None:
    assert order_id_of(order_reference(store_hash, order_id)) == order_id


@given(st.text(max_size=30))
def test_foreign_references_are_not_ours(text: str) -> None:
    if not text.startswith("BC-"):
        assert order_id_of(text) is None


def test_everything_the_buyer_agreed_to_is_mapped_and_totals_to_bigcommerce_s_total() -> None:
    """Coupon share on the lines, per-line tax, options, two consignments with their shipping, handling, a fee
    and an order-level discount: the sales order's own total is BigCommerce's ``total_inc_tax``."""
    products = [
        {"id": 11, "sku": "SKU-1", "quantity": 2, "price_ex_tax": "10.0000", "price_inc_tax": "11.0000",
         "total_ex_tax": "20.0000", "total_inc_tax": "22.0000", "order_address_id": 9,
         "applied_discounts": [{"id": "SAVE", "amount": "3.0000", "code": "SAVE", "target": "order"}],
         "product_options": [{"display_name": "Engraving", "display_value": "Engraved"}]},
        {"id": 12, "sku": "SKU-2", "quantity": 1, "price_ex_tax": "5.0000", "price_inc_tax": "5.5000",
         "total_ex_tax": "5.0000", "total_inc_tax": "5.5000", "order_address_id": 10, "applied_discounts": []}]
    addresses = [ADDRESS[0] | {"shipping_method": "Ground", "cost_ex_tax": "4.0000", "cost_tax": "0.4000"},
                 ADDRESS[0] | {"id": 10, "street_1": "2 Loop", "shipping_method": "Express", "cost_ex_tax": "6.0000",
                               "cost_tax": "0.0000"}]
    head = order(is_tax_inclusive_pricing=True, handling_cost_ex_tax="1.0000", handling_cost_tax="0.1000",
                 discount_amount="2.0000", total_inc_tax="36.0000")
    fees = [{"display_name_merchant": "Insurance", "cost_ex_tax": "2.0000", "cost_tax": "0.0000"}]
    sales = to_sales_order(head, products, addresses, 3, SETTINGS, coupons=[{"code": "SAVE"}], fees=fees)
    first, second = sales.lines
    assert (first.line_id, first.discount, first.tax, first.options, first.consignment, first.gross_price) == \
        (11, Decimal("3.0000"), Decimal("2.0000"), (("Engraving", "Engraved"),), 0, Decimal("11.0000"))
    assert (second.line_id, second.consignment) == (12, 1)
    assert [(c.ship_to.street_1, c.method) for c in sales.consignments] == [("1 Loop", "Ground"), ("2 Loop", "Express")]
    assert [(c.kind, c.amount, c.tax, c.consignment) for c in sales.charges] == [
        ("shipping", Decimal("4.0000"), Decimal("0.4000"), 0), ("shipping", Decimal("6.0000"), Decimal("0"), 1),
        ("handling", Decimal("1.0000"), Decimal("0.1000"), None), ("fee", Decimal("2.0000"), Decimal("0"), None)]
    assert (sales.coupons, sales.discount, sales.tax_inclusive) == (("SAVE",), Decimal("2.0000"), True)
    # lines 20 − 3 + 5, tax 2 + 0.5, shipping 10 + 0.4, handling 1.1, fee 2, less 2: BigCommerce's 36.00
    assert sales.total == Decimal("36.0000") == bc_total(head)
    assert sales.po_number == "PO-4711" and sales.reference == "BC-abc123-250"  # two fields, never one


def test_a_tax_inclusive_line_is_price_checked_on_its_gross_price() -> None:
    record = PriceRecord(price_list_id=1, sku="SKU-1", currency="USD", price=Decimal("11.00"), version=1)
    gross = SalesOrderLine("SKU-1", 1, Decimal("10.0000"), gross_price=Decimal("11.0000"))
    assert price_mismatches([gross], {"SKU-1": record}) == []
    assert len(price_mismatches([SalesOrderLine("SKU-1", 1, Decimal("10.0000"))], {"SKU-1": record})) == 1
