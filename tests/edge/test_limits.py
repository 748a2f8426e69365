"""BigCommerce's request limits as the edge enforces them (pricing_edge/edge/limits.py, docs/limits.md),
against the simulator's Storefront schema."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    get_variable_values,
    parse,
    validate,
)
from graphql.execution.values import VariableValues

import pricing_edge
from pricing_edge.edge.document import DocumentCache
from pricing_edge.edge.limits import (
    DEFAULT_LIMITS,
    Limits,
    check_limits,
    complexity,
    mutation_count,
    operation_named,
    page_size_errors,
)

SCHEMA_PATH = Path(pricing_edge.__file__).parent / "sim" / "storefront" / "schema.graphql"


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(SCHEMA_PATH.read_text())


def prepared(schema: GraphQLSchema, text: str, variables: dict[str, Any] | None = None,
             operation_name: str | None = None) -> tuple[DocumentNode, OperationDefinitionNode, VariableValues]:
    """Parse, validate and coerce exactly as the edge does before it calls the limits."""
    document = parse(text)
    assert validate(schema, document) == [], validate(schema, document)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)
                  and (operation_name is None or (d.name and d.name.value == operation_name))]
    assert len(operations) == 1
    operation = operations[0]
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    assert not isinstance(coerced, list), coerced
    return document, operation, coerced


def errors_of(schema: GraphQLSchema, text: str, variables: dict[str, Any] | None = None,
              operation_name: str | None = None, limits: Limits = DEFAULT_LIMITS) -> list[GraphQLError]:
    document, operation, coerced = prepared(schema, text, variables, operation_name)
    return check_limits(schema, document, operation, coerced, limits)


def messages(errors: list[GraphQLError]) -> list[str]:
    return [e.message for e in errors]


CREATE = "createCart(input: {lineItems: [{quantity: 1, productEntityId: 1}]}) { cart { entityId } }"
ADD = "addCartLineItems(input: {cartEntityId: \"c\", data: {lineItems: [{quantity: 1, productEntityId: 1}]}}) " \
      "{ cart { entityId } }"
DELETE = "deleteCart(input: {cartEntityId: \"c\"}) { deletedCartEntityId }"


# --- one mutation per request ----------------------------------------------------------------------

def test_one_mutation_is_allowed(schema: GraphQLSchema) -> None:
    text = f"mutation {{ cart {{ {CREATE} }} }}"
    assert errors_of(schema, text) == []
    assert mutation_count(schema, *prepared(schema, text)) == 1


@pytest.mark.parametrize("text", [
    f"mutation {{ cart {{ {CREATE} {ADD} }} }}",                       # two in one namespace
    f"mutation {{ a: cart {{ {CREATE} }} b: cart {{ {DELETE} }} }}",    # two root fields
    f"mutation {{ cart {{ {CREATE} }} cart {{ {ADD} }} }}",             # merged root field, two inside
    f"mutation {{ cart {{ ...Two }} }} fragment Two on CartMutations {{ {CREATE} {ADD} }}",
    f"mutation {{ cart {{ {CREATE} ... on CartMutations {{ {DELETE} }} }} }}",
])
def test_two_mutations_are_refused(schema: GraphQLSchema, text: str) -> None:
    errors = errors_of(schema, text)
    assert messages(errors) == ["Only 1 mutation is allowed per request; this request has 2."]
    assert errors[0].extensions == {"code": "TOO_MANY_MUTATIONS"}


def test_a_skipped_second_mutation_is_allowed(schema: GraphQLSchema) -> None:
    literal = f"mutation {{ cart {{ {CREATE} {ADD.replace(') {', ') @skip(if: true) {', 1)} }} }}"
    assert errors_of(schema, literal) == []
    by_variable = f"mutation M($two: Boolean!) {{ cart {{ {CREATE} a2: {ADD.replace(') {', ') @include(if: $two) {', 1)} }} }}"
    assert errors_of(schema, by_variable, {"two": False}) == []
    assert messages(errors_of(schema, by_variable, {"two": True})) == [
        "Only 1 mutation is allowed per request; this request has 2."]
    skipped_root = f"mutation {{ a: cart {{ {CREATE} }} b: cart @skip(if: true) {{ {DELETE} }} }}"
    assert errors_of(schema, skipped_root) == []


def test_typename_is_not_a_mutation_and_queries_have_none(schema: GraphQLSchema) -> None:
    assert errors_of(schema, f"mutation {{ __typename cart {{ __typename {CREATE} }} }}") == []
    text = "{ site { settings { storeName } } }"
    assert mutation_count(schema, *prepared(schema, text)) == 0


def test_the_mutation_limit_is_configurable(schema: GraphQLSchema) -> None:
    text = f"mutation {{ cart {{ {CREATE} {ADD} }} }}"
    assert errors_of(schema, text, limits=Limits(max_mutations=2)) == []


# --- page size ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("argument", ["first", "last"])
def test_page_size_over_50_is_refused_with_bigcommerces_wording(schema: GraphQLSchema, argument: str) -> None:
    errors = errors_of(schema, f"{{ site {{ products({argument}: 51) {{ edges {{ node {{ entityId }} }} }} }} }}")
    assert messages(errors) == [f"Argument '{argument}' cannot exceed 50"]
    assert errors[0].locations is not None  # points at the field


@pytest.mark.parametrize("argument", ["first", "last"])
def test_page_size_of_50_is_allowed(schema: GraphQLSchema, argument: str) -> None:
    assert errors_of(schema, f"{{ site {{ products({argument}: 50) {{ edges {{ node {{ entityId }} }} }} }} }}") == []


@pytest.mark.parametrize("argument", ["first", "last"])
def test_page_size_through_a_variable(schema: GraphQLSchema, argument: str) -> None:
    text = f"query Q($n: Int) {{ site {{ products({argument}: $n) {{ edges {{ node {{ entityId }} }} }} }} }}"
    assert messages(errors_of(schema, text, {"n": 51})) == [f"Argument '{argument}' cannot exceed 50"]
    assert errors_of(schema, text, {"n": 50}) == []
    assert errors_of(schema, text, {}) == []  # absent: the default page (10)


@pytest.mark.parametrize("argument", ["first", "last"])
def test_page_size_inside_fragments(schema: GraphQLSchema, argument: str) -> None:
    named = f"""query Q($n: Int) {{ site {{ products(first: 2) {{ edges {{ node {{ ...Card }} }} }} }} }}
      fragment Card on Product {{ variants({argument}: $n) {{ edges {{ node {{ sku }} }} }} }}"""
    assert messages(errors_of(schema, named, {"n": 51})) == [f"Argument '{argument}' cannot exceed 50"]
    assert errors_of(schema, named, {"n": 5}) == []
    inline = f"{{ site {{ ... on Site {{ products({argument}: 51) {{ edges {{ node {{ sku }} }} }} }} }} }}"
    assert messages(errors_of(schema, inline)) == [f"Argument '{argument}' cannot exceed 50"]
    nested = f"""{{ site {{ ...A }} }} fragment A on Site {{ products {{ edges {{ node {{ ...B }} }} }} }}
      fragment B on Product {{ images({argument}: 51) {{ edges {{ node {{ altText }} }} }} }}"""
    assert messages(errors_of(schema, nested)) == [f"Argument '{argument}' cannot exceed 50"]


def test_page_size_in_a_skipped_field_or_another_operation_does_not_count(schema: GraphQLSchema) -> None:
    skipped = "{ site { products(first: 51) @skip(if: true) { edges { node { sku } } } } }"
    assert errors_of(schema, skipped) == []
    two_operations = """query Small { site { products(first: 5) { edges { node { sku } } } } }
      query Big { site { products(first: 51) { edges { node { sku } } } } }"""
    assert errors_of(schema, two_operations, operation_name="Small") == []
    assert messages(errors_of(schema, two_operations, operation_name="Big")) == ["Argument 'first' cannot exceed 50"]


def test_every_oversized_page_is_named(schema: GraphQLSchema) -> None:
    text = """{ site { products(first: 51) { edges { node { variants(last: 99) { edges { node { sku } } } } } } } }"""
    document, operation, coerced = prepared(schema, text)
    assert messages(page_size_errors(schema, document, operation, coerced)) == [
        "Argument 'first' cannot exceed 50", "Argument 'last' cannot exceed 50"]


def test_a_negative_page_is_refused_and_cannot_lower_the_estimate(schema: GraphQLSchema) -> None:
    text = "{ site { products(first: -1) { edges { node { sku } } } } }"
    assert messages(errors_of(schema, text)) == ["Argument 'first' must be a non-negative integer"]
    assert complexity(schema, *prepared(schema, text)) == 2  # site + products; the page counts as 0, never < 0


def test_the_page_limit_is_configurable(schema: GraphQLSchema) -> None:
    text = "{ site { products(first: 30) { edges { node { sku } } } } }"
    assert messages(errors_of(schema, text, limits=Limits(max_page_size=25))) == ["Argument 'first' cannot exceed 25"]


# --- complexity -----------------------------------------------------------------------------------

CATEGORY_PAGE = """
query CategoryPage($category: Int!, $after: String) {
  site {
    category(entityId: $category) {
      entityId name path description
      products(first: 24, after: $after) {
        pageInfo { hasNextPage endCursor }
        edges { cursor node { ...ProductCard } }
      }
    }
  }
}
fragment ProductCard on Product {
  entityId name path sku
  brand { name }
  prices { price { value currencyCode } salePrice { value currencyCode } basePrice { value currencyCode }
           priceRange { min { value } max { value } } }
  variants(first: 10) { edges { node { entityId sku isPurchasable
    prices { price { value currencyCode } salePrice { value } }
    inventory { isInStock aggregated { availableToSell } } } } }
  images { edges { node { url(width: 500) altText isDefault } } }
}
"""

HEAVY = """{ site { products(first: 50) { edges { node { variants(first: 50) { edges { node { inventory {
  byLocation(first: 50) { edges { node { availableToSell } } } } } } } } } } } }"""


def test_a_24_product_category_page_is_under_the_limit(schema: GraphQLSchema) -> None:
    document, operation, coerced = prepared(schema, CATEGORY_PAGE, {"category": 1})
    # site 1, category 1, products 1 + 24 × (pageInfo, edges, node = 3 + card 100); card: brand 1,
    # prices 7 (prices, price, salePrice, basePrice, priceRange, min, max), variants 1 + 10 × 7, images 1 + 10 × 2
    assert complexity(schema, document, operation, coerced) == 2 + 1 + 24 * (3 + 1 + 7 + 71 + 21) == 2475  # docs/limits.md
    assert check_limits(schema, document, operation, coerced) == []


def test_a_full_50_product_listing_is_under_the_limit(schema: GraphQLSchema) -> None:
    text = """{ site { products(first: 50) { edges { node { entityId name sku prices { price { value } }
      variants(first: 10) { edges { node { sku prices { price { value } } } } }
      images { edges { node { url(width: 300) altText } } } } } } } }"""
    document, operation, coerced = prepared(schema, text)
    # 2 + 50 × (edges, node, prices, price = 4; variants 1 + 10 × 4; images 1 + 10 × 2); scalars cost nothing
    assert complexity(schema, document, operation, coerced) == 2 + 50 * (4 + 41 + 21) == 3302
    assert check_limits(schema, document, operation, coerced) == []


def test_three_nested_pages_of_50_are_over_the_limit(schema: GraphQLSchema) -> None:
    document, operation, coerced = prepared(schema, HEAVY)
    estimate = complexity(schema, document, operation, coerced)
    # products 1 + 50·(edges, node, variants) + 50·50·(edges, node, inventory, byLocation)
    # + 50·50·50·(edges, node), plus site
    assert estimate == 1 + 1 + 50 * 3 + 2500 * 4 + 125_000 * 2 == 260_152
    errors = check_limits(schema, document, operation, coerced)
    assert messages(errors) == [
        f"Query complexity of {estimate} exceeds the maximum allowed complexity of 10000."]
    assert errors[0].extensions == {"code": "QUERY_TOO_COMPLEX", "complexity": estimate, "maxComplexity": 10_000}


def test_the_estimate_of_a_small_document_is_the_documented_formula(schema: GraphQLSchema) -> None:
    text = """query Q($n: Int) { site {
      products(first: $n) { edges { node { entityId ...V ...V } } }
      settings { storeName __typename }
    } }
    fragment V on Product { variants { edges { node { sku } } } }"""
    document, operation, coerced = prepared(schema, text, {"n": 3})
    # site 1; products 1 + 3 × (edges 1 + node 1 + 2 × V); V = variants 1 + 10 (default page) × (edges 1 + node 1)
    # = 21; settings 1 (storeName and __typename are scalars: 0)
    assert complexity(schema, document, operation, coerced) == 1 + (1 + 3 * (2 + 2 * 21)) + 1 == 135
    coerced_absent = prepared(schema, text, {})[2]  # products without first: the default page of 10
    assert complexity(schema, document, operation, coerced_absent) == 1 + (1 + 10 * (2 + 2 * 21)) + 1


def test_skipped_fields_cost_nothing_and_inline_fragments_count(schema: GraphQLSchema) -> None:
    base = "{ site { settings { storeName } } }"
    assert complexity(schema, *prepared(schema, base)) == 2
    skipped = "{ site { settings { storeName } products @skip(if: true) { edges { node { sku } } } } }"
    assert complexity(schema, *prepared(schema, skipped)) == 2
    inline = "{ site { ... on Site { settings { storeName } } } }"
    assert complexity(schema, *prepared(schema, inline)) == 2


def test_last_wins_the_page_when_larger_and_both_are_given(schema: GraphQLSchema) -> None:
    text = "{ site { products(first: 2, last: 7) { edges { node { sku } } } } }"
    assert complexity(schema, *prepared(schema, text)) == 1 + 1 + 7 * 2


def test_the_complexity_limit_is_configurable(schema: GraphQLSchema) -> None:
    text = "{ site { products(first: 50) { edges { node { sku } } } } }"  # 2 + 50 × 2
    assert errors_of(schema, text, limits=Limits(max_complexity=102)) == []
    assert messages(errors_of(schema, text, limits=Limits(max_complexity=101))) == [
        "Query complexity of 102 exceeds the maximum allowed complexity of 101."]


def test_exponentially_spread_fragments_are_estimated_in_linear_time(schema: GraphQLSchema) -> None:
    """F0 spreads F1 twice, F1 spreads F2 twice, … : 2^40 paths, 41 fragments."""
    levels = 40
    fragments = "\n".join(f"fragment F{i} on Site {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    text = f"{{ site {{ ...F0 }} }}\n{fragments}\nfragment F{levels} on Site {{ settings {{ storeName }} }}"
    document = parse(text)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    started = time.perf_counter()
    estimate = complexity(schema, document, operation, None)
    assert estimate == 1 + 2 ** levels  # F40 = settings 1
    assert time.perf_counter() - started < 1.0  # a liveness bound: 2^40 walks would never finish
    assert "complexity" in check_limits(schema, document, operation, None)[0].message


def test_introspection_is_cheap(schema: GraphQLSchema) -> None:
    from graphql import get_introspection_query

    document, operation, coerced = prepared(schema, get_introspection_query())
    assert check_limits(schema, document, operation, coerced) == []


def test_limits_are_checked_on_the_clients_document_not_the_rewritten_one(schema: GraphQLSchema) -> None:
    """The edge adds ``variants(first: $_pePage) { pageInfo { … } edges { node { entityId sku } } }`` under every
    priced product for the overlay (151 per product at a page of 50); that is the edge's cost, not the client's
    (and the edge sizes that page to keep its own document within the limit: test_rewrite_complexity.py)."""
    text = "query Prices { site { products(first: 50) { edges { node { entityId prices { price { value } } } } } } }"
    prepared_document = DocumentCache(schema).prepare(text)
    original = operation_named(prepared_document.document, "Prices")
    rewritten = prepared_document.operation("Prices")
    assert original is not None and original is not rewritten
    variables = get_variable_values(schema, (), {})
    assert not isinstance(variables, list)
    assert check_limits(schema, prepared_document.document, original, variables) == []
    assert complexity(schema, prepared_document.document, original, variables) == 2 + 50 * 4
    upstream = prepared_document.upstream
    assert upstream is not None
    sent = operation_named(upstream, "Prices")
    assert sent is not None
    with_page = get_variable_values(schema, sent.variable_definitions or (), {"_pePage": 50})
    assert not isinstance(with_page, list)
    added = complexity(schema, upstream, sent, with_page) - (2 + 50 * 4)
    assert added == 50 * (1 + 50 * 3)


def test_operation_named_follows_get_operation(schema: GraphQLSchema) -> None:
    document = parse("query A { site { settings { storeName } } } query B { customer { entityId } }")
    assert operation_named(document, "B") is document.definitions[1]
    assert operation_named(document, "C") is None
    assert operation_named(document, None) is None  # two operations and no name
    single = parse("{ site { settings { storeName } } }")
    assert operation_named(single, None) is single.definitions[0]
