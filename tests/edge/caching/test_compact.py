"""L1 keeps records as tuples of atoms: every field of a price record (its bulk tiers too) and of a SKU's stock
levels comes back as it went in, and what is kept is out of the cyclic collector's walk once it has looked at
it — the point of keeping them so (full collections walk every tracked object; a tuple of atoms is untracked
by the first collection that looks at it, a tuple holding one by the next)."""
from __future__ import annotations

import gc
from dataclasses import FrozenInstanceError
from decimal import Decimal

import pytest

from hypothesis import given
from hypothesis import strategies as st

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import BulkTier, PriceRecord, TierKind
from pricing_edge.edge.caching.compact import CompactSection, pack_levels, pack_price, unpack_levels, unpack_price
from pricing_edge.edge.caching.l1 import L1

money = st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=4, allow_nan=False)
optional_money = st.none() | money
tiers = st.builds(BulkTier, st.integers(1, 1000), st.none() | st.integers(1, 10_000), money, st.sampled_from(TierKind))
prices = st.builds(PriceRecord, st.integers(1, 50), st.text(min_size=1, max_size=20), st.sampled_from(["USD", "EUR"]),
                   money, optional_money, optional_money, optional_money, st.tuples() | st.lists(tiers, max_size=4).map(tuple),
                   st.integers(0, 2**53))
levels = st.builds(StockLevel, st.just("PE-1"), st.integers(1, 9), st.integers(-50, 10_000), st.integers(0, 500),
                   st.integers(0, 50), st.booleans(), st.none() | st.integers(0, 90), st.integers(0, 2**53))


@given(prices)
def test_every_field_of_a_price_record_round_trips(record: PriceRecord) -> None:
    back = unpack_price(pack_price(record))
    assert back == record and hash(back) == hash(record)
    assert [type(t.kind) for t in back.bulk_tiers] == [TierKind] * len(record.bulk_tiers)
    with pytest.raises(FrozenInstanceError):  # rebuilt as it was: frozen
        back.price = Decimal("1")  # type: ignore[misc]


@given(st.lists(levels, max_size=5))
def test_every_field_of_a_skus_stock_levels_round_trips(listed: list[StockLevel]) -> None:
    by_location = {level.location_id: level for level in listed}
    back = unpack_levels(pack_levels(by_location))
    assert back == by_location and list(back) == list(by_location)


def test_what_l1_keeps_is_left_out_of_the_collectors_walk_and_stays_within_its_bound() -> None:
    l1 = L1(20_000)
    section: CompactSection[str, PriceRecord] = CompactSection(l1.section("price"), pack_price, unpack_price)
    record = PriceRecord(2, "PE-1", "USD", Decimal("12.50"), sale_price=Decimal("11.00"),
                         bulk_tiers=(BulkTier(10, None, Decimal("9.75"), TierKind.PERCENT_OFF),), version=3)
    for n in range(1_000):  # far more than the bound holds
        section[f"PE-{n}"] = record
    assert 0 < l1.bytes() <= 20_000 and len(section) < 1_000
    assert section["PE-999"] == record and "PE-0" not in section
    gc.collect()  # the packed record, then L1's (value, size) pair holding it: one look each
    gc.collect()
    assert not any(gc.is_tracked(entry) for entry in l1._entries.values())
