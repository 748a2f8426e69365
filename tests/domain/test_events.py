"""Event data ↔ domain records: exact round trips, floats refused, every error names its field."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing_edge.domain import events
from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.events import EventDataError
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import BulkTier, PriceRecord, TierKind

PRICE = PriceRecord(3, "PE-1", "USD", Decimal("10.50"), Decimal("9.990"), Decimal("12"), None,
                    (BulkTier(10, 49, Decimal("9.00")), BulkTier(50, None, Decimal("8.5"))), 17)
STOCK = StockLevel("PE-1", 2, 40, 3, 1, backorder=True, lead_time_days=None, version=18)
CREDIT = CreditRecord(4, Decimal("5000.00"), Decimal("-12.30"), "hold", 19)
CUSTOMER = CustomerRecord(5, 2, None, 20)


def test_type_names() -> None:
    assert events.PRICE_CHANGED == "com.pricingedge.price.changed"
    assert events.STOCK_CHANGED == "com.pricingedge.stock.changed"
    assert events.CREDIT_CHANGED == "com.pricingedge.credit.changed"
    assert events.CUSTOMER_CHANGED == "com.pricingedge.customer.changed"
    assert events.SHIPMENT_CREATED == "com.pricingedge.shipment.created"
    assert events.SHIPMENT_CREATED in events.EVENT_TYPES and events.SHIPMENT_CREATED not in events.RECORD_EVENT_TYPES


def test_price_data_shape() -> None:
    assert events.price_to_data(PRICE) == {
        "price_list_id": 3, "sku": "PE-1", "currency": "USD", "price": "10.50", "sale_price": "9.990",
        "retail_price": "12", "bulk_pricing": [{"min_quantity": 10, "max_quantity": 49, "price": "9.00"},
                                               {"min_quantity": 50, "price": "8.5"}], "version": 17}


def test_optional_fields_absent_when_none() -> None:
    data = events.to_data(PriceRecord(1, "A", "EUR", Decimal("1"), version=1))
    assert data == {"price_list_id": 1, "sku": "A", "currency": "EUR", "price": "1", "version": 1}
    assert "lead_time_days" not in events.to_data(STOCK)
    assert events.to_data(CUSTOMER) == {"customer_id": 5, "customer_group_id": 2, "version": 20}


@pytest.mark.parametrize("record", [PRICE, STOCK, CREDIT, CUSTOMER], ids=["price", "stock", "credit", "customer"])
def test_round_trip(record: events.Record) -> None:
    event_type = events.event_type_of(record)
    back = events.from_data(event_type, events.to_data(record))
    assert back == record
    assert events.to_data(back) == events.to_data(record)  # the digits too, not just the values


def test_money_keeps_its_digits_and_never_uses_exponents() -> None:
    record = PriceRecord(1, "A", "USD", Decimal("1E+3"), Decimal("1E-4"), version=1)
    data = events.to_data(record)
    assert data["price"] == "1000" and data["sale_price"] == "0.0001"
    assert str(events.price_from_data(data | {"price": "1000.000"}).price) == "1000.000"


def test_floats_are_refused_both_ways() -> None:
    with pytest.raises(EventDataError, match="^price: .*float"):
        events.to_data(PriceRecord(1, "A", "USD", 1.5, version=1))  # type: ignore[arg-type]
    data = events.to_data(PRICE)
    for field in ("price", "sale_price"):
        with pytest.raises(EventDataError) as raised:
            events.price_from_data(data | {field: 9.99})
        assert raised.value.field == field and "decimal string" in str(raised.value)
    with pytest.raises(EventDataError) as raised:
        events.price_from_data(data | {"bulk_pricing": [{"min_quantity": 2, "price": 1.0}]})
    assert raised.value.field == "bulk_pricing[0].price"
    with pytest.raises(EventDataError, match="^balance"):
        events.credit_from_data(events.to_data(CREDIT) | {"balance": 1})


@pytest.mark.parametrize(("record", "field"), [
    (PRICE, "price_list_id"), (PRICE, "sku"), (PRICE, "currency"), (PRICE, "price"), (PRICE, "version"),
    (STOCK, "sku"), (STOCK, "location_id"), (STOCK, "on_hand"), (STOCK, "version"),
    (CREDIT, "company_id"), (CREDIT, "credit_limit"), (CREDIT, "balance"), (CREDIT, "status"), (CREDIT, "version"),
    (CUSTOMER, "customer_id"), (CUSTOMER, "version"),
])
def test_missing_required_field_is_named(record: events.Record, field: str) -> None:
    data = events.to_data(record)
    del data[field]
    with pytest.raises(EventDataError) as raised:
        events.from_data(events.event_type_of(record), data)
    assert raised.value.field == field
    assert str(raised.value) == f"{field}: required field is missing"


@pytest.mark.parametrize(("record", "patch", "field"), [
    (PRICE, {"price": "-1"}, "price"),
    (PRICE, {"price": "1e3"}, "price"),
    (PRICE, {"price": "NaN"}, "price"),
    (PRICE, {"currency": "usd"}, "currency"),
    (PRICE, {"sku": ""}, "sku"),
    (PRICE, {"version": True}, "version"),
    (PRICE, {"version": -1}, "version"),
    (PRICE, {"sale_prise": "1"}, "sale_prise"),
    (PRICE, {"bulk_pricing": {"min_quantity": 1}}, "bulk_pricing"),
    (PRICE, {"bulk_pricing": [{"min_quantity": 5, "max_quantity": 4, "price": "1"}]}, "bulk_pricing[0].max_quantity"),
    (PRICE, {"bulk_pricing": [{"price": "1"}]}, "bulk_pricing[0].min_quantity"),
    (STOCK, {"on_hand": 2.0}, "on_hand"),
    (STOCK, {"backorder": 1}, "backorder"),
    (STOCK, {"allocated": -2}, "allocated"),
    (CREDIT, {"status": "frozen"}, "status"),
    (CREDIT, {"credit_limit": "-5"}, "credit_limit"),
    (CUSTOMER, {"company_id": "3"}, "company_id"),
])
def test_bad_values_are_named(record: events.Record, patch: dict[str, Any], field: str) -> None:
    with pytest.raises(EventDataError) as raised:
        events.from_data(events.event_type_of(record), events.to_data(record) | patch)
    assert raised.value.field == field


def test_null_optional_fields_mean_none_and_absent_defaults() -> None:
    data = events.to_data(PRICE) | {"sale_price": None, "bulk_pricing": None}
    record = events.price_from_data(data)
    assert record.sale_price is None and record.bulk_tiers == ()
    level = events.stock_from_data({"sku": "A", "location_id": 1, "on_hand": 5, "version": 2})
    assert (level.allocated, level.safety_stock, level.backorder, level.lead_time_days) == (0, 0, False, None)
    with pytest.raises(EventDataError, match="^price: required field is null"):
        events.price_from_data(events.to_data(PRICE) | {"price": None})


def test_not_an_object_and_unknown_types() -> None:
    with pytest.raises(EventDataError, match="^data: must be a JSON object"):
        events.from_data(events.PRICE_CHANGED, ["a"])
    with pytest.raises(EventDataError) as raised:
        events.from_data(events.SHIPMENT_CREATED, {})
    assert raised.value.field == "type"
    with pytest.raises(TypeError):
        events.to_data("nope")  # type: ignore[arg-type]


def test_only_fixed_price_tiers_travel() -> None:
    record = PriceRecord(1, "A", "USD", Decimal("1"), bulk_tiers=(BulkTier(2, None, Decimal("5"), TierKind.PERCENT_OFF),))
    with pytest.raises(EventDataError, match=r"^bulk_pricing\[0\]"):
        events.to_data(record)


def test_record_keys_identify_the_entity() -> None:
    assert events.record_key(PRICE) == "price:3:USD:PE-1"
    assert events.record_key(STOCK) == "stock:2:PE-1"
    assert events.record_key(CREDIT) == "credit:4"
    assert events.record_key(CUSTOMER) == "customer:5"


money = st.decimals(min_value=0, max_value=Decimal("1e12"), allow_nan=False, allow_infinity=False, places=4)


@given(price=money, sale=st.none() | money, retail=st.none() | money, version=st.integers(0, 2**53 - 1),
       tiers=st.lists(st.tuples(st.integers(1, 1000), st.none() | st.integers(0, 500), money), max_size=4))
def test_price_round_trip_property(price: Decimal, sale: Decimal | None, retail: Decimal | None, version: int,
                                   tiers: list[tuple[int, int | None, Decimal]]) -> None:
    bulk = tuple(BulkTier(low, None if extra is None else low + extra, amount) for low, extra, amount in tiers)
    record = PriceRecord(7, "SKU-X", "EUR", price, sale, retail, None, bulk, version)
    data = events.to_data(record)
    assert all(isinstance(data[k], str) for k in ("price", "sale_price", "retail_price") if k in data)
    back = events.price_from_data(data)
    assert back == record and events.to_data(back) == data


@pytest.mark.parametrize(("record", "patch", "field"), [
    (PRICE, {"version": 17.0}, "[1].version"),  # a float: JSON Schema's integer, not ours
    (PRICE, {"currency": "USD\n"}, "[1].currency"),
    (PRICE, {"sale_prise": "1"}, "[1].sale_prise"),
    (PRICE, {"bulk_pricing": [{"min_quantity": 5, "max_quantity": 4, "price": "1"}]}, "bulk_pricing[0].max_quantity"),
    (STOCK, {"on_hand": 2.0}, "[1].on_hand"),
    (STOCK, {"allocated": -2}, "[1].allocated"),
])
def test_a_bulk_export_is_held_to_the_same_contract(record: events.Record, patch: dict[str, Any], field: str) -> None:
    parse = events.prices_from_data if record is PRICE else events.stock_levels_from_data
    good = events.to_data(record)
    assert parse([good, good]) == [record, record]
    with pytest.raises(EventDataError) as raised:
        parse([good, good | patch])
    assert raised.value.field == field
