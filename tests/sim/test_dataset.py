"""The demo store: deterministic per seed, and rich enough for every later test."""
from collections import Counter

from pricing_edge.sim.dataset import CURRENCIES, build_dataset


def test_the_same_seed_builds_the_same_store() -> None:
    a, b = build_dataset(7), build_dataset(7)
    assert a.prices.records == b.prices.records
    assert a.stock == b.stock and a.companies == b.companies and a.products == b.products


def test_another_seed_builds_another_store() -> None:
    assert build_dataset(7).prices.records != build_dataset(8).prices.records


def test_the_store_has_what_the_issue_asks_for() -> None:
    d = build_dataset()
    assert len(d.products) >= 1000
    assert any(p.has_variants for p in d.products)
    assert any(v.uom_factor > 1 for p in d.products for v in p.variants)
    assert max(len(p.variants) for p in d.products) >= 10
    named_groups = [g for g in d.customer_groups if g.id != 0]
    assert len(named_groups) >= 5 and len({g.price_list_id for g in named_groups}) == len(named_groups)
    currencies = {currency for (_, _, currency) in d.prices.records}
    assert set(CURRENCIES) <= currencies and len(currencies) >= 2
    records = list(d.prices.records.values())
    assert any(r.on_sale for r in records) and any(r.bulk_tiers for r in records)
    assert len(d.locations) >= 3
    levels = list(d.stock.values())
    assert any(s.backorder for s in levels) and any(s.safety_stock for s in levels) and any(s.allocated for s in levels)
    assert any(c.status == "hold" for c in d.companies)
    assert all(c.credit_limit > 0 for c in d.companies)
    assert {c.company_id for c in d.customers if c.company_id} == {c.id for c in d.companies}


def test_every_variant_has_a_price_on_every_list_in_every_currency() -> None:
    d = build_dataset()
    for sku in list(d.iter_skus())[:200]:
        for price_list in d.price_lists:
            for currency in CURRENCIES:
                assert d.prices.get(price_list.id, sku, currency) is not None


def test_bigcommerce_lags_the_erp_on_a_few_records() -> None:
    d = build_dataset()
    differing = sum(1 for key, record in d.prices.records.items() if d.bc_prices.records[key] != record)
    assert 0 < differing < len(d.prices.records) * 0.15


def test_some_products_are_hidden_from_some_groups() -> None:
    d = build_dataset()
    hidden = Counter(g.id for g in d.customer_groups for p in d.products if not d.visible_to(p, g.id))
    assert hidden[0] > 0 and hidden[5] > 0 and hidden[1] == 0
