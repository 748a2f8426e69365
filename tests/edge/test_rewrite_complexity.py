"""The documents the edge sends upstream stay within BigCommerce's complexity limit: the variants page the edge
adds under every priced product is sized (``$_pePage``, at most 50) so that each rewritten Catalyst document
scores at most 10,000 by the simulator's formula (docs/limits.md) — products with more variants than that page
are paged through separately."""
from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLSchema, get_variable_values

from pricing_edge.edge.document import PAGE_VARIABLE, VARIANT_PAGE, DocumentCache
from pricing_edge.edge.limits import DEFAULT_LIMITS, complexity, largest_page, operation_named
from pricing_edge.edge.schema import with_extension
from pricing_edge.sim.storefront.schema import build
from tests.e2e.catalyst import documents


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return with_extension(build())


def placeholders(value: Any) -> Any:
    """Catalyst's placeholders with values of their kind (ids, lists of ids, strings): page sizes are literal."""
    if isinstance(value, dict):
        return {k: placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [placeholders(v) for v in value]
    if isinstance(value, str) and value.startswith("$"):
        if value.endswith("_IDS"):
            return [104, 105, 106]
        if value.endswith("_ID") and "CART" not in value and "CHECKOUT" not in value and "LINE" not in value:
            return 104
        return "USD" if value == "$CURRENCY" else "x"
    return value


def scored(schema: GraphQLSchema, text: str, operation_name: str, variables: dict[str, Any]) -> tuple[int, int, int]:
    """(the page the edge gives its variants, the rewritten document's score with it, its score at 50)."""
    prepared = DocumentCache(schema).prepare(text)
    assert prepared.upstream is not None
    operation = operation_named(prepared.upstream, operation_name)
    assert operation is not None

    def score(page: int) -> int:
        coerced = get_variable_values(schema, operation.variable_definitions or (), {**variables, PAGE_VARIABLE: page})
        assert not isinstance(coerced, list), coerced
        return complexity(schema, prepared.upstream, operation, coerced)  # type: ignore[arg-type]

    page = largest_page(schema, prepared.upstream, operation, variables, PAGE_VARIABLE, VARIANT_PAGE)
    return page, score(page), score(VARIANT_PAGE)


def test_every_rewritten_catalyst_document_stays_within_the_limit(schema: GraphQLSchema) -> None:
    scores = {d.name: scored(schema, d.text, d.operation, placeholders(d.variables)) for d in documents()}
    assert {name: s for name, s in scores.items() if s[1] > DEFAULT_LIMITS.max_complexity} == {}
    assert scores["10-category-products"][1] > 4_543  # the listing (4,543 as sent) did get its variants added


LISTING = """query Listing { site { products(first: 50) { edges { node { entityId name sku
  prices { price { value } } variants(first: 10) { edges { node { sku prices { price { value } } } } }
  images { edges { node { url(width: 320) altText } } } } } } } }"""


def test_a_heavy_listing_gets_a_smaller_variants_page_not_a_refusal(schema: GraphQLSchema) -> None:
    page, score, at_fifty = scored(schema, LISTING, "Listing", {})
    assert at_fifty > DEFAULT_LIMITS.max_complexity  # 3,302 as sent; a fixed page of 50 would add 7,550
    assert 0 < page < VARIANT_PAGE and score <= DEFAULT_LIMITS.max_complexity
