"""The simulators' real-catalog size: deterministic, compact (computed on demand), the demo's kind of store."""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal

import pytest

from pricing_edge.sim.dataset import Dataset
from pricing_edge.sim.scale import CATEGORY_PAGES, FIRST_PAGE_ID, PRICE_LISTS, build_scale_dataset


@pytest.fixture(scope="module")
def store() -> Dataset:
    return build_scale_dataset(7, 3000)


def test_the_size_asked_for_on_5000_category_pages_and_ten_price_lists(store: Dataset) -> None:
    skus = list(store.iter_skus())
    assert 3000 <= len(skus) < 3000 + 12 and len(set(skus)) == len(skus)
    pages = [c for c in store.categories if c.id >= FIRST_PAGE_ID]
    assert len(pages) == CATEGORY_PAGES and all(c.parent_id for c in pages)
    assert len(store.price_lists) == PRICE_LISTS
    assert {g.price_list_id for g in store.customer_groups} == {p.id for p in store.price_lists}
    for product in store.products[:50]:
        for category_id in product.category_ids:
            assert product in store.products_in(category_id)


def test_the_same_seed_and_size_give_the_same_store_to_the_last_digit() -> None:
    one, two = build_scale_dataset(7, 500), build_scale_dataset(7, 500)
    sku = one.products[3].variants[0].sku
    assert [p.name for p in one.products] == [p.name for p in two.products]
    assert one.prices.get(4, sku, "EUR") == two.prices.get(4, sku, "EUR")
    assert one.stock_for(sku) == two.stock_for(sku)
    assert build_scale_dataset(8, 500).prices.get(4, sku, "EUR") != one.prices.get(4, sku, "EUR")


def test_every_price_and_level_is_there_and_a_change_is_kept(store: Dataset) -> None:
    prices, stock = store.prices, store.stock
    skus = list(store.iter_skus())
    assert all(prices.get(p, sku, c) is not None for sku in skus[:100] for p in range(1, PRICE_LISTS + 1)
               for c in ("USD", "EUR"))
    assert prices.get(PRICE_LISTS + 1, skus[0], "USD") is None and prices.get(1, "NOPE", "USD") is None
    assert prices.get(1, skus[0], "JPY") is None
    record = prices.get(2, skus[0], "USD")
    prices.put(replace(record, price=Decimal("1.23"), version=record.version + 1))
    assert prices.get(2, skus[0], "USD").price == Decimal("1.23")
    assert (skus[0], 1) in stock and (skus[0], 9) not in stock and ("NOPE", 1) not in stock
    assert stock.get(("NOPE", 1)) is None
    level = stock[(skus[0], 2)]
    stock[(skus[0], 2)] = replace(level, on_hand=level.on_hand + 1, version=level.version + 1)
    assert stock[(skus[0], 2)].on_hand == level.on_hand + 1 and stock.get((skus[0], 2)).on_hand == level.on_hand + 1


def test_bigcommerces_copy_lags_on_a_few_records(store: Dataset) -> None:
    skus = list(store.iter_skus())[:1000]
    same = Counter(store.prices.get(1, s, "USD") == store.bc_prices.get(1, s, "USD") for s in skus)
    assert 0 < same[False] < 150  # about 6%


def test_the_setting_chooses_the_store_and_the_demo_fixtures_hold_on_it() -> None:
    from pricing_edge.config import Settings
    from pricing_edge.demo import fresh_dataset
    from pricing_edge.sim.fixtures import DemoLayout, demo_fixtures

    assert len(list(fresh_dataset(7, 600).iter_skus())) >= 600
    assert len(fresh_dataset(7).price_lists) == 6  # 0: the demo store
    assert Settings.from_env({"PRICING_EDGE_SIM_SKUS": "100000"}).sim_skus == 100_000
    fixtures = demo_fixtures(build_scale_dataset(7, 1500), DemoLayout(8080), Settings.from_env({}))
    assert fixtures["products"] and fixtures["buyers"]
