"""Event data is held to its JSON Schema, field by field (issue 19): SKUs without control characters or
surrounding space, money with bounded digits and a scale per currency, bounded ids, quantities and
versions. The schema is the parser's only contract, so every refusal names the field."""
from __future__ import annotations

from typing import Any

import pytest

from pricing_edge.domain import events
from pricing_edge.domain.events import EventDataError
from pricing_edge.domain.versioning import MAX_AHEAD_MS, ahead_problem

PRICE: dict[str, Any] = {"price_list_id": 2, "sku": "PE-10000", "currency": "USD", "price": "12.50",
                         "bulk_pricing": [{"min_quantity": 10, "price": "10.00"}], "version": 7}
STOCK: dict[str, Any] = {"sku": "PE-10000", "location_id": 1, "on_hand": 40, "version": 8}
CREDIT: dict[str, Any] = {"company_id": 4, "credit_limit": "1000.00", "balance": "-12.50", "status": "ok",
                          "version": 9}
CUSTOMER: dict[str, Any] = {"customer_id": 12, "customer_group_id": 3, "company_id": 4, "version": 10}
BASE = {events.PRICE_CHANGED: PRICE, events.STOCK_CHANGED: STOCK, events.CREDIT_CHANGED: CREDIT,
        events.CUSTOMER_CHANGED: CUSTOMER}
INT32_MAX = 2**31 - 1


@pytest.mark.parametrize(("event_type", "patch", "field"), [
    # SKUs
    (events.PRICE_CHANGED, {"sku": "PE-10000\n"}, "sku"),
    (events.PRICE_CHANGED, {"sku": " PE-10000"}, "sku"),
    (events.PRICE_CHANGED, {"sku": "PE-10000 "}, "sku"),
    (events.PRICE_CHANGED, {"sku": "PE-\t10000"}, "sku"),
    (events.PRICE_CHANGED, {"sku": "PE-\x0010000"}, "sku"),
    (events.PRICE_CHANGED, {"sku": "X" * 256}, "sku"),
    (events.STOCK_CHANGED, {"sku": "PE-10000\n"}, "sku"),
    (events.STOCK_CHANGED, {"sku": "\u00a0PE-10000"}, "sku"),
    # currency
    (events.PRICE_CHANGED, {"currency": "USD\n"}, "currency"),
    # money: digits, scale per currency, form
    (events.PRICE_CHANGED, {"price": "9" * 400}, "price"),
    (events.PRICE_CHANGED, {"price": "1" + "0" * 15}, "price"),
    (events.PRICE_CHANGED, {"price": "12.500000"}, "price"),
    (events.PRICE_CHANGED, {"price": "12.50\n"}, "price"),
    (events.PRICE_CHANGED, {"price": "012.50"}, "price"),
    (events.PRICE_CHANGED, {"sale_price": "1.123456"}, "sale_price"),
    (events.PRICE_CHANGED, {"bulk_pricing": [{"min_quantity": 10, "price": "10.00001"}]}, "bulk_pricing[0].price"),
    (events.PRICE_CHANGED, {"currency": "JPY", "price": "1500.125"}, "price"),
    (events.PRICE_CHANGED, {"currency": "BHD", "price": "1.123456"}, "price"),
    (events.CREDIT_CHANGED, {"credit_limit": "1.00000"}, "credit_limit"),
    (events.CREDIT_CHANGED, {"balance": "-" + "9" * 16}, "balance"),
    # ids, quantities, versions
    (events.PRICE_CHANGED, {"price_list_id": INT32_MAX + 1}, "price_list_id"),
    (events.PRICE_CHANGED, {"bulk_pricing": [{"min_quantity": INT32_MAX + 1, "price": "1"}]},
     "bulk_pricing[0].min_quantity"),
    (events.PRICE_CHANGED, {"bulk_pricing": [{"min_quantity": 1, "price": "1"}] * 101}, "bulk_pricing"),
    (events.STOCK_CHANGED, {"location_id": -1}, "location_id"),
    (events.STOCK_CHANGED, {"on_hand": INT32_MAX + 1}, "on_hand"),
    (events.STOCK_CHANGED, {"on_hand": 2.0}, "on_hand"),
    (events.STOCK_CHANGED, {"lead_time_days": 3651}, "lead_time_days"),
    (events.CREDIT_CHANGED, {"company_id": INT32_MAX + 1}, "company_id"),
    (events.CUSTOMER_CHANGED, {"customer_group_id": INT32_MAX + 1}, "customer_group_id"),
    (events.CUSTOMER_CHANGED, {"version": 2**53}, "version"),
    (events.PRICE_CHANGED, {"version": 7.0}, "version"),
])
def test_each_bounded_field_refuses_what_is_out_of_bounds(event_type: str, patch: dict[str, Any],
                                                          field: str) -> None:
    with pytest.raises(EventDataError) as raised:
        events.from_data(event_type, BASE[event_type] | patch)
    assert raised.value.field == field, raised.value


@pytest.mark.parametrize(("event_type", "patch"), [
    (events.PRICE_CHANGED, {"sku": "PE 10000/ä-€"}),  # inner spaces and any printable character
    (events.PRICE_CHANGED, {"sku": "X" * 255}),
    (events.PRICE_CHANGED, {"price": "999999999999999.9999"}),
    (events.PRICE_CHANGED, {"price": "0.0001", "sale_price": "0"}),
    (events.PRICE_CHANGED, {"currency": "JPY", "price": "1500", "sale_price": "1499.50"}),
    (events.PRICE_CHANGED, {"currency": "BHD", "price": "1.12345"}),
    (events.PRICE_CHANGED, {"currency": "EUR", "price": "12.3456"}),
    (events.CREDIT_CHANGED, {"balance": "-999999999999999.99"}),
    (events.STOCK_CHANGED, {"on_hand": INT32_MAX, "location_id": INT32_MAX}),
    (events.CUSTOMER_CHANGED, {"version": 2**53 - 1}),
])
def test_values_within_bounds_are_accepted(event_type: str, patch: dict[str, Any]) -> None:
    record = events.from_data(event_type, BASE[event_type] | patch)
    assert events.from_data(event_type, events.to_data(record)) == record


def test_the_sku_refusal_names_the_rule_not_just_the_regex() -> None:
    with pytest.raises(EventDataError) as raised:
        events.from_data(events.PRICE_CHANGED, PRICE | {"sku": "PE-10000\n"})
    assert "no control characters, no leading or trailing space" in str(raised.value)


def test_a_version_far_ahead_of_the_clock_is_refused_a_near_one_is_not() -> None:
    now = 1_800_000_000_000
    assert ahead_problem(7, now) is None  # an ERP sequence
    assert ahead_problem(now + MAX_AHEAD_MS, now) is None  # clocks a little apart
    problem = ahead_problem(now + MAX_AHEAD_MS + 1, now)
    assert problem is not None and "ahead of this receiver's clock" in problem
