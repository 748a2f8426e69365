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


def test_the_storefront_content_is_what_a_real_b2b_store_has() -> None:
    """Options and modifiers of every kind, reviews, three levels of categories, brands with images,
    web pages of every kind, a blog, redirects, and customers who can log in with a password."""
    from pricing_edge.sim.catalog_content import OptionKind

    d = build_dataset()
    options = [o for opts in d.catalog_content.options.values() for o in opts]
    assert {o.kind for o in options} == set(OptionKind)
    assert any(o.is_variant_option for o in options) and any(not o.is_variant_option for o in options)
    styles = {o.display_style for o in options if o.kind is OptionKind.MULTIPLE_CHOICE}
    assert {"Swatch", "RectangleBoxes", "RadioButtons", "DropdownList", "ProductPickList"} <= styles
    for product in d.products:  # every variant's option values are values of the product's variant options
        variant_options = {o.name: {v.label for v in o.values}
                           for o in d.catalog_content.options.get(product.id, ()) if o.is_variant_option}
        for variant in product.variants:
            assert all(label in variant_options[name] for name, label in variant.option_values)
    ids = [o.id for o in options]
    assert len(ids) == len(set(ids))
    assert sum(len(r) for r in d.catalog_content.reviews.values()) > 1000
    depth = {c.id: 0 for c in d.categories if c.parent_id == 0}
    for category in d.categories:
        if category.parent_id:
            depth[category.id] = depth[category.parent_id] + 1
    assert max(depth.values()) == 2
    assert all(any(c.id in p.category_ids for p in d.products) for c in d.categories)
    assert all(("Brand", b.id) in d.catalog_content.images for b in d.brands)
    assert {p.kind for p in d.site.pages} == {"NORMAL", "CONTACT", "RAW", "BLOG", "LINK"}
    assert any(p.parent_id for p in d.site.pages) and d.site.blog_posts and d.site.redirects
    assert set(d.site.passwords) == {c.id for c in d.customers}


def test_storefront_content_moves_nothing_the_erp_reads() -> None:
    """Built from its own random stream: prices, stock, customers and SKUs are what they were."""
    d = build_dataset()
    assert d.product_by_id[101].sku == "PE-10000" and len(d.products) == 1001  # the last: 120 variants
    assert [c.id for c in d.categories[:20]] == list(range(1, 21))
    assert all(set(p.category_ids[:1]) <= set(range(1, 21)) for p in d.products)
    assert build_dataset().catalog_content == d.catalog_content and build_dataset().site == d.site
