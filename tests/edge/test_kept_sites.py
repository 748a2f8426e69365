"""A kept answer's sites are compact (issue 20, memory at 100k SKUs): each site keeps BigCommerce's value of its
field as JSON bytes (``overlay.Packed``), parsed only when a re-projection projects that site, and no page to
write into. What is re-projected from that compact form is byte for byte what the overlay computes from scratch
over the same upstream answer and records — the projected fields, the fields kept from BigCommerce beside them
(``warningLevel``, catalog volume breaks) and a whole upstream value where a record is missing, money to the
last digit — and the size a kept answer is counted at grows with what it keeps.

The storefront schema is the simulator's SDL; the upstream answer is BigCommerce's JSON with the identity
aliases the edge adds to the documents it forwards (``edge/document.py``).
"""
from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson
import pytest
from graphql import FieldNode, GraphQLObjectType, GraphQLSchema, NameNode, OperationDefinitionNode, build_schema, parse

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.edge.document import SKU_ALIAS
from pricing_edge.edge.fields import FieldCollector, Memo, shared_memo
from pricing_edge.edge.holes import DETACHED, Holes, KeptOverlay, _plans_bytes, kept_site_bytes, punch
from pricing_edge.edge.overlay import Overlay, Packed, Records
from pricing_edge.edge.caching.l1 import estimate
from pricing_edge.edge.reprojection import Looked, Reprojection, reproject
from pricing_edge.jsonio import dumps, loads_exact
from pricing_edge.sim.storefront.schema import sdl

SCHEMA: GraphQLSchema = build_schema(sdl())
QUERY = """{ site { products { edges { node { entityId sku
  prices { price { value currencyCode } salePrice { value } basePrice { value formattedV2 }
    bulkPricing { minimumQuantity maximumQuantity ... on BulkPricingFixedPriceDiscount { price } } }
  inventory { isInStock aggregated { availableToSell warningLevel } } } } } } }"""
DOCUMENT = parse(QUERY)  # prepared once, as the edge prepares a document once for every answer of it
FLAGS = {"stale": False, "asOf": "2026-12-05T00:00:00.000Z", "degraded": []}


def upstream_product(n: int, tiers: int = 1) -> dict[str, Any]:
    """BigCommerce's product as the edge's forwarded document asks for it: money with all its digits."""
    money = '{"value": %s, "currencyCode": "USD", "formattedV2": "$%s"}'
    breaks = ", ".join('{"__typename": "BulkPricingFixedPriceDiscount", "minimumQuantity": %d, "maximumQuantity": null,'
                       ' "price": 9.9%d0}' % (10 * (t + 1), t) for t in range(tiers))
    text = ('{"entityId": %d, "sku": "SKU-%d", "%s": "SKU-%d", "prices": {"price": %s, "salePrice": null,'
            ' "basePrice": %s, "bulkPricing": [%s]}, "inventory": {"isInStock": true, "aggregated":'
            ' {"availableToSell": 4, "warningLevel": 2}}}') % (
        n, n, SKU_ALIAS, n, money % ("12.50", "12.50"), money % ("13.000", "13.00"), breaks)
    parsed: dict[str, Any] = loads_exact(text)
    return parsed


def records(skus: list[str], price: str = "10.10") -> Records:
    found = Records()
    for sku in skus:
        found.prices[("USD", sku)] = PriceRecord(1, sku, "USD", Decimal(price), sale_price=Decimal("9.00"))
        found.stock[sku] = {1: StockLevel(sku, 1, on_hand=7, allocated=2)}
    return found


def computed(products: list[dict[str, Any]], found: Records,
             memo: Memo | None = None) -> tuple[dict[str, Any], Overlay]:
    """The answer from scratch: BigCommerce's data rendered along the document, every site filled (``memo``: the
    document's shared field memo, else the request's own)."""
    operation = DOCUMENT.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    collector = FieldCollector(SCHEMA, {}, None) if memo is None else FieldCollector(SCHEMA, {}, None, memo)
    overlay = Overlay(SCHEMA, collector, "USD")
    root = SCHEMA.query_type
    assert isinstance(root, GraphQLObjectType)
    upstream = {"site": {"products": {"edges": [{"node": product} for product in products]}}}
    data = overlay.render(upstream, root, [FieldNode(name=NameNode(value="Query"), selection_set=operation.selection_set)])
    overlay.fill(found)
    return {"data": data, "extensions": {"pricingEdge": FLAGS}}, overlay


def kept(products: list[dict[str, Any]], found: Records) -> Holes:
    result, overlay = computed(products, found)
    holes = punch(result, overlay, 1, 10**15)
    assert holes is not None and holes.body() == dumps(result)
    return holes


def reprojected(holes: Holes, found: Records) -> bytes:
    """Every site of the kept answer projected again from ``found``, as ``reproject`` does (flags aside)."""
    again = Reprojection(holes, range(len(holes.sites)))
    again.fill(found)
    return holes.with_values(again.values).body()


def test_a_kept_site_holds_bigcommerces_value_as_bytes_and_no_page() -> None:
    holes = kept([upstream_product(1)], records(["SKU-1"]))
    for site in holes.sites:
        assert isinstance(site.upstream, Packed) and site.out is DETACHED
    prices = holes.sites[0]
    assert isinstance(prices.upstream, Packed)
    assert prices.upstream.value() == upstream_product(1)["prices"]  # exactly: the same Decimals
    assert b'"value":13.000' in prices.upstream.raw  # BigCommerce's digits, as they came


def test_a_reprojection_from_the_compact_form_equals_the_answer_computed_from_scratch() -> None:
    products = [upstream_product(n, tiers=n) for n in range(1, 4)]
    before = records(["SKU-1", "SKU-2", "SKU-3"])
    holes = kept(products, before)
    assert reprojected(holes, before) == holes.body()
    # The records change: one price, and SKU-3's are gone (its sites show BigCommerce's own values again).
    after = records(["SKU-1", "SKU-2"])
    after.prices[("USD", "SKU-2")] = PriceRecord(1, "SKU-2", "USD", Decimal("7.077"))
    scratch, _ = computed([upstream_product(n, tiers=n) for n in range(1, 4)], after)
    assert reprojected(holes, after) == dumps(scratch)
    assert b'"value":13.000' in reprojected(holes, after)  # SKU-3's base price: BigCommerce's, digit for digit


def test_a_kept_answer_is_counted_at_more_the_more_it_keeps() -> None:
    found = records([f"SKU-{n}" for n in range(1, 21)])
    small = kept([upstream_product(n) for n in range(1, 3)], found)
    large = kept([upstream_product(n) for n in range(1, 21)], found)
    assert large.size() > small.size() > 0
    tiered = kept([upstream_product(n, tiers=5) for n in range(1, 3)], found)  # larger upstream values
    assert tiered.size() > small.size()
    counted = small.size()
    reprojected(small, found)  # its overlay's field memo grows by what the re-projection collected
    assert small.size() > counted


def test_a_kept_answer_is_counted_at_no_less_than_the_memory_it_holds() -> None:
    found = records([f"SKU-{n}" for n in range(1, 25)])
    kept([upstream_product(n, tiers=2) for n in range(1, 25)], found)  # the schema's and document's own caches
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        holes = kept([upstream_product(n, tiers=2) for n in range(1, 25)], found)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert 0 < held <= holes.size()  # the answer cache's bound holds for the real memory too


def test_a_kept_answer_shares_its_documents_field_memo_and_is_not_counted_for_it() -> None:
    memo = shared_memo()
    found = records(["SKU-1"])
    result, overlay = computed([upstream_product(1)], found, memo)
    holes = punch(result, overlay, 1, 10**15)
    assert holes is not None and holes.overlay.collector.memo is memo
    counted = holes.size()
    assert reprojected(holes, found) == holes.body()
    assert isinstance(holes.overlay, KeptOverlay)
    assert holes.size() == counted + _plans_bytes(holes.overlay.plans)  # its own plans only, not the memo


def test_a_kept_answers_reprojections_plan_its_projections_once_and_count_them() -> None:
    found = records(["SKU-1", "SKU-2"])
    result, overlay = computed([upstream_product(1), upstream_product(2, tiers=3)], found, shared_memo())
    holes = punch(result, overlay, 1, 10**15)  # the document's memo: what grows is the answer's plans alone
    assert holes is not None and isinstance(holes.overlay, KeptOverlay) and not holes.overlay.plans
    before = holes.size()
    first = reprojected(holes, found)
    plans = dict(holes.overlay.plans)
    assert plans and holes.size() == before + _plans_bytes(plans)
    assert reprojected(holes, found) == first == holes.body()  # the same bytes from the same plans
    assert holes.overlay.plans == plans and all(holes.overlay.plans[key] is plan for key, plan in plans.items())


def test_the_kept_answer_leaves_the_computed_page_as_it_was() -> None:
    result, overlay = computed([upstream_product(1)], records(["SKU-1"]))
    before = dumps(result)
    assert punch(result, overlay, 1, 10**15) is not None
    assert dumps(result) == before and all(isinstance(site.upstream, dict) for site in overlay.sites)


def test_kept_answers_share_the_strings_of_the_skus_they_show() -> None:
    first = kept([upstream_product(1)], records(["SKU-1"]))
    second = kept([upstream_product(1)], records(["SKU-1"]))  # another scope's answer: parsed anew
    assert first.sites[0].skus == ("SKU-1",) and first.sites[0].skus[0] is second.sites[0].skus[0]


def test_a_kept_sites_own_bytes_are_its_estimate_less_the_documents_nodes_and_the_shared_page() -> None:
    """Counted field by field: graphql-core's nodes are dataclasses, and walking them walked the document's whole
    syntax tree for every site of every answer kept (50–100 ms loop stalls under events)."""
    holes = kept([upstream_product(1), upstream_product(2, tiers=3)], records(["SKU-1", "SKU-2"]))
    for site in holes.sites:
        assert kept_site_bytes(site) == estimate(site) - estimate(site.nodes) - estimate(site.out)


@pytest.mark.parametrize("records_only", [False, True])
async def test_a_kept_answer_whose_records_are_gone_shows_bigcommerces_value_or_if_it_has_none_is_computed_anew(
        records_only: bool) -> None:
    """A synthesized answer's sites hold no BigCommerce value (``Overlay.records_only``): with its records gone it
    is not re-projected into nulls but computed anew — asked of BigCommerce, as a from-scratch compute would."""
    result, overlay = computed([upstream_product(1)], records(["SKU-1"]))
    overlay.records_only = records_only
    holes = punch(result, overlay, 1, 10**15)
    assert holes is not None and holes.overlay.records_only is records_only

    async def gone(prices: Mapping[str, set[str]], stock: set[str]) -> Looked:
        return Looked()  # no record found any more

    done = await reproject(holes, frozenset(), gone, set(), lambda: 10**12, 60.0)
    if records_only:
        assert done is None
    else:
        assert done is not None and orjson.loads(done.body)["data"] == orjson.loads(dumps(computed(
            [upstream_product(1)], Records())[0]))["data"]  # BigCommerce's own values, as computed without records
