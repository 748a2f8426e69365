"""The pure rules of pushing ERP records into BigCommerce: BigCommerce's form of a record (volume breaks, sale
prices, currencies, stock by location), fingerprints, which records to write, and batching."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing_edge.domain import bc_mirror
from pricing_edge.domain.bc_mirror import Known, MirrorDataError, Wanted
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import BulkTier, PriceRecord, TierKind

RECORD = PriceRecord(3, "PE-1", "EUR", Decimal("10.50"), Decimal("9.00"), Decimal("14.00"), None,
                     (BulkTier(10, 49, Decimal("9.50")), BulkTier(50, None, Decimal("9.0000"))), 7)


def test_a_record_maps_to_bigcommerce_with_its_sale_price_volume_breaks_and_currency() -> None:
    assert bc_mirror.price_payload(RECORD) == {
        "sku": "PE-1", "currency": "eur", "price": Decimal("10.5"), "sale_price": Decimal("9"),
        "retail_price": Decimal("14"),
        "bulk_pricing_tiers": [{"quantity_min": 10, "quantity_max": 49, "type": "fixed", "amount": Decimal("9.5")},
                               {"quantity_min": 50, "type": "fixed", "amount": Decimal("9")}]}


def test_a_sale_price_not_below_the_price_is_no_sale_and_is_not_sent() -> None:
    payload = bc_mirror.price_payload(PriceRecord(1, "PE-1", "USD", Decimal("5"), Decimal("5")))
    assert "sale_price" not in payload and payload["bulk_pricing_tiers"] == []


def test_every_tier_kind_has_bigcommerce_s_name() -> None:
    kinds = [BulkTier(1, None, Decimal(1), kind) for kind in TierKind]
    assert [bc_mirror.tier_payload(t)["type"] for t in kinds] == ["fixed", "percent", "price"]


def test_what_bigcommerce_answers_for_the_record_fingerprints_like_what_was_written() -> None:
    answered = {"price_list_id": 3, "variant_id": 1001, "sku": "PE-1", "currency": "eur", "price": Decimal("10.5000"),
                "sale_price": Decimal("9.0000"), "retail_price": Decimal("14.0000"),
                "calculated_price": Decimal("9.0000"),
                "bulk_pricing_tiers": [{"quantity_min": 10, "quantity_max": 49, "type": "fixed", "amount": Decimal("9.5")},
                                       {"quantity_min": 50, "quantity_max": 2147483647, "type": "fixed",
                                        "amount": Decimal("9")}]}
    key, payload = bc_mirror.price_from_bigcommerce(answered)
    assert key == bc_mirror.price_key(3, "EUR", "PE-1") == "3:EUR:PE-1"
    assert bc_mirror.fingerprint(payload) == bc_mirror.fingerprint(bc_mirror.price_payload(RECORD))
    echoed = dict(answered, sale_price=Decimal("10.5"))  # a sale price equal to the price: no sale
    assert "sale_price" not in bc_mirror.price_from_bigcommerce(echoed)[1]


def test_a_record_bigcommerce_answers_without_identity_is_refused_by_name() -> None:
    with pytest.raises(MirrorDataError, match="price_list_id, sku and currency"):
        bc_mirror.price_from_bigcommerce({"price": 1})
    with pytest.raises(MirrorDataError, match="unknown bulk pricing tier type"):
        bc_mirror.price_from_bigcommerce({"price_list_id": 1, "sku": "A", "currency": "usd", "price": 1,
                                          "bulk_pricing_tiers": [{"quantity_min": 1, "type": "bogus", "amount": 1}]})


def test_stock_maps_to_bigcommerce_on_hand_less_allocated_with_safety_stock_and_backorder() -> None:
    level = StockLevel("PE-1", 2, on_hand=30, allocated=8, safety_stock=3, backorder=True, version=5)
    assert bc_mirror.stock_payload(level, 7) == {"sku": "PE-1", "location_id": 7, "quantity": 22,
                                                 "safety_stock": 3, "is_in_stock": True}
    over = StockLevel("PE-1", 2, on_hand=3, allocated=8)
    assert bc_mirror.stock_payload(over, 2)["quantity"] == 0  # never negative
    assert bc_mirror.map_location(level, {2: 7}) == 7 and bc_mirror.map_location(level, {1: 1}) is None
    assert bc_mirror.parse_stock_key(bc_mirror.stock_key("A:B", 7)) == ("A:B", 7)


def _wanted(key: str, version: int, price: str) -> Wanted:
    return Wanted(key, version, {"price": Decimal(price)})


def test_the_plan_writes_only_what_differs_rereads_the_unknown_and_skips_the_overtaken() -> None:
    same, changed, unknown, old = (_wanted("1:USD:A", 5, "1.00"), _wanted("1:USD:B", 5, "2.00"),
                                   _wanted("1:USD:C", 5, "3"), _wanted("1:USD:D", 4, "4"))
    known = {"1:USD:A": Known(3, same.fingerprint), "1:USD:B": Known(3, _wanted("x", 0, "2.50").fingerprint),
             "1:USD:C": None, "1:USD:D": Known(9, "whatever")}
    plan = bc_mirror.plan([same, changed, unknown, old], known)
    assert (plan.write, plan.unknown, plan.same, plan.stale) == ([changed], [unknown], 1, 1)


def test_of_two_states_of_one_record_the_newer_is_planned() -> None:
    older, newer = _wanted("1:USD:A", 5, "1"), _wanted("1:USD:A", 6, "2")
    assert bc_mirror.plan([newer, older], {"1:USD:A": None}).unknown == [newer]


def test_fingerprints_ignore_key_order_and_amount_spelling() -> None:
    assert bc_mirror.fingerprint({"a": Decimal("1.50"), "b": 1}) == bc_mirror.fingerprint({"b": 1, "a": Decimal("1.5")})
    assert bc_mirror.fingerprint({"a": Decimal("100")}) == bc_mirror.fingerprint({"a": Decimal("1E+2")})
    assert bc_mirror.fingerprint({"a": Decimal("1.5")}) != bc_mirror.fingerprint({"a": Decimal("1.05")})


def test_known_round_trips_and_refuses_garbage() -> None:
    assert Known.decode(Known(12, "abc").encode()) == Known(12, "abc")
    assert Known.decode(b"0:ff") == Known(0, "ff")
    assert Known.decode(None) is None and Known.decode("nonsense") is None


def test_read_back_knows_what_bigcommerce_holds_and_what_it_lacks() -> None:
    found = bc_mirror.read_back_known({"k1": {"price": Decimal(1)}}, ["k1", "k2"])
    assert found["k1"] == Known(0, bc_mirror.fingerprint({"price": Decimal(1)})) and found["k2"] is None


@given(st.lists(st.integers(), max_size=3000), st.integers(min_value=1, max_value=1000))
def test_batches_keep_every_item_in_order_within_the_limit(items: list[int], size: int) -> None:
    chunks = list(bc_mirror.batches(items, size))
    assert [x for chunk in chunks for x in chunk] == items
    assert all(0 < len(chunk) <= size for chunk in chunks)


def test_a_batch_holds_at_least_one_item() -> None:
    with pytest.raises(ValueError):
        list(bc_mirror.batches([1], 0))
    with pytest.raises(MirrorDataError):
        bc_mirror.parse_price_key("no-colons")
