from decimal import Decimal as D

import pytest

from pricing_edge.domain.pricing import BulkTier, PriceRecord, TierKind, unit_price, view_of, with_ranges


def record(**kw: object) -> PriceRecord:
    base: dict[str, object] = dict(price_list_id=2, sku="SKU-1", currency="USD", price=D("100.00"))
    base.update(kw)
    return PriceRecord(**base)  # type: ignore[arg-type]


def test_the_sale_price_is_the_price_when_it_applies() -> None:
    view = view_of(record(sale_price=D("80.00"), retail_price=D("120.00")))
    assert (view.price, view.base_price, view.sale_price) == (D("80.00"), D("100.00"), D("80.00"))
    assert view.saved == D("40.00")  # retail (MSRP) less the current price


def test_a_sale_price_above_the_price_does_not_apply() -> None:
    view = view_of(record(sale_price=D("120.00")))
    assert view.price == D("100.00") and view.sale_price is None


def test_no_retail_price_means_nothing_saved() -> None:
    assert view_of(record()).saved is None


def test_volume_breaks_pick_the_tier_covering_the_quantity() -> None:
    tiers = (BulkTier(10, 49, D("95.00")), BulkTier(50, None, D("90.00")))
    rec = record(bulk_tiers=tiers)
    assert unit_price(rec, 1) == D("100.00")
    assert unit_price(rec, 10) == D("95.00")
    assert unit_price(rec, 49) == D("95.00")
    assert unit_price(rec, 500) == D("90.00")


def test_percent_and_relative_tiers_apply_to_the_effective_price() -> None:
    rec = record(sale_price=D("80.00"))
    assert unit_price(rec, 5, [BulkTier(5, None, D("10"), TierKind.PERCENT_OFF)]) == D("72.00")
    assert unit_price(rec, 5, [BulkTier(5, None, D("7.50"), TierKind.PRICE_ADJUSTMENT)]) == D("72.50")


def test_quantity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        unit_price(record(), 0)


def test_catalog_tiers_apply_only_when_the_record_has_none() -> None:
    catalog = (BulkTier(5, None, D("10"), TierKind.PERCENT_OFF),)
    assert view_of(record(), catalog).bulk_tiers == catalog
    own = (BulkTier(10, None, D("90.00")),)
    assert view_of(record(bulk_tiers=own), catalog).bulk_tiers == own


def test_tax_inclusive_values_are_scaled_and_rounded() -> None:
    view = view_of(record(price=D("9.99")), tax_rate=D("0.10"))
    assert view.price == D("10.99")


def test_ranges_span_the_variants() -> None:
    default = view_of(record(price=D("10.00"), retail_price=D("15.00")))
    views = [default, view_of(record(price=D("12.50"))), view_of(record(price=D("8.00"), retail_price=D("11.00")))]
    product = with_ranges(default, views)
    assert product.price_range == (D("8.00"), D("12.50"))
    assert product.retail_price_range == (D("11.00"), D("15.00"))
    assert product.price == D("10.00")


def test_without_tax_the_erps_digits_stand() -> None:
    assert view_of(record(price=D("1234.5678"))).price == D("1234.5678")


def test_a_volume_break_never_costs_more_than_the_sale_price() -> None:
    rec = record(price=D("170.00"), sale_price=D("133.84"), bulk_tiers=(BulkTier(10, None, D("160.95")),))
    assert unit_price(rec, 10) == D("133.84")
