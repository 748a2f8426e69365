"""The one-pass document budget (pricing_edge/edge/budget.py): a hostile document is refused, with an error
naming the limit, before any of graphql-core's validation rules is even built — counted, not timed."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from graphql import ASTValidationRule, GraphQLSchema, build_schema, parse, specified_rules

import pricing_edge
from pricing_edge.edge.budget import Budget, budget_errors, count, text_errors
from pricing_edge.edge.document import DocumentCache, DocumentError

SCHEMA_PATH = Path(pricing_edge.__file__).parent / "sim" / "storefront" / "schema.graphql"
NORMAL = """
query Listing($first: Int) {
  site {
    products(first: $first) {
      edges { node { entityId name sku prices { price { value currencyCode } } ...Stock } }
    }
  }
}
fragment Stock on Product { inventory { isInStock } }
"""


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(SCHEMA_PATH.read_text())


class RuleCounter:
    """graphql-core's own rules, each wrapped to count how many times validation built it."""

    def __init__(self) -> None:
        self.built: Counter[str] = Counter()
        self.rules = [self._counted(rule) for rule in specified_rules]

    def _counted(self, rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
        built = self.built

        class Counted(rule):  # type: ignore[valid-type,misc]
            def __init__(self, *args: object, **kwargs: object) -> None:
                built[rule.__name__] += 1
                super().__init__(*args, **kwargs)

        Counted.__name__ = rule.__name__
        return Counted


def prepare_counted(schema: GraphQLSchema, text: str) -> tuple[RuleCounter, DocumentError | None]:
    counter = RuleCounter()
    cache = DocumentCache(schema, rules=counter.rules)
    try:
        cache.prepare(text)
    except DocumentError as exc:
        return counter, exc
    return counter, None


def test_a_normal_document_is_within_budget_and_fully_validated(schema: GraphQLSchema) -> None:
    counter, error = prepare_counted(schema, NORMAL)
    assert error is None
    assert counter.built["OverlappingFieldsCanBeMergedRule"] == 1
    assert sum(counter.built.values()) == len(specified_rules)


def test_six_thousand_conflicting_aliases_are_refused_before_parsing(schema: GraphQLSchema) -> None:
    """The measured attack: 6,000 aliases of one name for two different fields. Even parsing it costs a
    tenth of a second, so its names are counted in the raw text first."""
    hostile = "{ " + " ".join("a: site" if i % 2 else "a: __typename" for i in range(6000)) + " }"
    assert [e.message for e in text_errors(hostile)] == ["Query has 12000 names; the maximum allowed is 2500."]
    counter, error = prepare_counted(schema, hostile)
    assert error is not None and [e.message for e in error.errors] == [
        "Query has 12000 names; the maximum allowed is 2500."]
    assert sum(counter.built.values()) == 0  # not one expensive rule ran


def test_conflicting_aliases_are_refused_before_any_validation_rule(schema: GraphQLSchema) -> None:
    hostile = "{ " + " ".join("a: site" if i % 2 else "a: __typename" for i in range(600)) + " }"
    assert text_errors(hostile) == []  # few enough names to parse: the one-pass count decides
    counter, error = prepare_counted(schema, hostile)
    assert error is not None
    assert sum(counter.built.values()) == 0  # not one expensive rule ran
    messages = [e.message for e in error.errors]
    assert "Query has 600 aliases; the maximum allowed is 500." in messages
    assert "Query has 599 conflicting names; the maximum allowed is 100." in messages
    assert {e.extensions["code"] for e in error.errors if e.extensions} == {"QUERY_TOO_LARGE"}


def test_plain_repeated_fields_count_as_conflicting_names(schema: GraphQLSchema) -> None:
    hostile = "{ site { " + "settings { storeName } " * 150 + "} }"
    counter, error = prepare_counted(schema, hostile)
    assert error is not None and sum(counter.built.values()) == 0
    assert [e.message for e in error.errors] == ["Query has 149 conflicting names; the maximum allowed is 100."]


def test_repeated_fragment_spreads_count_as_conflicts_and_fragments(schema: GraphQLSchema) -> None:
    hostile = "{ site { " + "...S " * 600 + "} } fragment S on Site { settings { storeName } }"
    errors = budget_errors(parse(hostile))
    assert [e.extensions["limit"] for e in errors if e.extensions] == ["fragments", "conflicting names"]


def test_too_many_fields_and_textual_depth(schema: GraphQLSchema) -> None:
    wide = "{ site { " + " ".join(f"s{i}: settings {{ storeName }}" for i in range(1100)) + " } }"
    counts = count(parse(wide))
    assert (counts.fields, counts.aliases, counts.conflicts, counts.depth) == (2201, 1100, 0, 3)
    assert [e.extensions["limit"] for e in budget_errors(parse(wide)) if e.extensions] == ["fields", "aliases"]
    deep = "{ " + "site { " * 17 + "}" * 17 + " }"
    assert [e.message for e in budget_errors(parse(deep))] == [
        "Query depth of 17 exceeds the maximum allowed depth of 16."]


def test_the_budget_is_configurable(schema: GraphQLSchema) -> None:
    counter = RuleCounter()
    cache = DocumentCache(schema, budget=Budget(max_fields=3), rules=counter.rules)
    with pytest.raises(DocumentError, match="Query has 13 fields; the maximum allowed is 3."):
        cache.prepare(NORMAL)
    assert sum(counter.built.values()) == 0
