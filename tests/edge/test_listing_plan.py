"""Finding a listing by price in a document, and the two documents the edge sends BigCommerce instead: both
valid against the Storefront schema, the price gone from the listing only, nothing unused left declared."""
from __future__ import annotations

from graphql import FieldNode, NameNode, get_variable_values, parse, validate

from pricing_edge.edge.document import DocumentCache
from pricing_edge.edge.fields import FieldCollector
from pricing_edge.edge.listing.plan import find_listing, page_document, without_price
from pricing_edge.sim.storefront.schema import build

SCHEMA = build()
DOCUMENT = """query Listing($sort: SearchProductsSortInput, $after: String, $term: String!) { site {
  quick: search { searchProducts(filters: {searchTerm: $term}) { products(first: 3) { edges { node { entityId } } } } }
  search { results: searchProducts(filters: {categoryEntityId: 3, price: {minPrice: 1.5}}, sort: $sort) {
    items: products(first: 5, after: $after) { collectionInfo { totalItems } edges { cursor node { ...Card } } }
    filters { edges { node { __typename ... on BrandSearchFilter { brands { edges { node { name productCount } } } }
    } } } } } } }
fragment Card on Product { entityId name prices(currencyCode: EUR) { price { value } } }
fragment Unused on Product { sku }
"""


def listing_of(text: str, variables: dict[str, object]) -> tuple[object, object]:
    prepared = DocumentCache(SCHEMA).prepare(text)
    operation = prepared.operation(None)
    coerced = get_variable_values(SCHEMA, operation.variable_definitions or (), variables)
    assert not isinstance(coerced, list), coerced
    collector = FieldCollector(SCHEMA, prepared.fragments, coerced)
    root = FieldNode(name=NameNode(value="Query"), selection_set=operation.selection_set)
    return find_listing(SCHEMA, collector, root), prepared


def test_the_listing_is_found_by_its_response_keys_with_its_filters_sort_page_and_currency() -> None:
    text = DOCUMENT.replace("fragment Unused on Product { sku }\n", "")
    site, _ = listing_of(text, {"sort": "HIGHEST_PRICE", "term": "x"})
    assert site is not None
    assert site.path == ("site", "search", "results")  # type: ignore[attr-defined]
    assert site.filters == {"categoryEntityId": 3, "price": {"minPrice": 1.5}}  # type: ignore[attr-defined]
    assert site.member_filters == {"categoryEntityId": 3}  # type: ignore[attr-defined]
    assert site.sort == "HIGHEST_PRICE" and site.member_sort is None  # type: ignore[attr-defined]
    assert [(p.key, p.args) for p in site.products] == [("items", {"first": 5})]  # type: ignore[attr-defined]
    assert site.currency == "EUR"  # type: ignore[attr-defined]


def test_a_search_sorted_otherwise_and_without_a_price_filter_is_left_to_bigcommerce() -> None:
    site, _ = listing_of("""{ site { search { searchProducts(filters: {categoryEntityId: 3}, sort: A_TO_Z) {
        products { edges { node { entityId } } } } } } }""", {})
    assert site is None


def test_bigcommerce_is_asked_the_document_without_the_price_and_the_page_of_cards_alone() -> None:
    text = DOCUMENT.replace("fragment Unused on Product { sku }\n", "")
    site, prepared = listing_of(text, {"sort": "LOWEST_PRICE", "term": "x"})
    operation = prepared.operation(None)  # type: ignore[attr-defined]
    rest = without_price(SCHEMA, prepared.document, parse(text).definitions[0], site)  # type: ignore[attr-defined,arg-type]
    assert validate(SCHEMA, parse(rest)) == []
    assert "results: searchProducts(filters: $_peFilters)" in rest
    assert "items: products(first: 1)" in rest
    assert "searchProducts(filters: { searchTerm: $term })" in rest and "products(first: 3)" in rest  # untouched
    assert "$sort" not in rest and "$after" not in rest  # no longer used: not declared
    assert "_peFacetId: entityId" in rest  # a facet item names itself, for its count to be redone
    cards = page_document(operation, list(prepared.fragments.values()), site.products)  # type: ignore[attr-defined]
    assert validate(SCHEMA, parse(cards)) == []
    assert "_pePage: products(entityIds: $_peIds, first: $_peFirst)" in cards
    assert "fragment Card on Product" in cards and "$term" not in cards and "quick" not in cards
