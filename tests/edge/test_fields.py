"""Field collection shared by a document's requests: only where no @skip/@include takes a variable, so that
one request's variables can never decide what another's answer holds."""
from __future__ import annotations

from typing import Any

from graphql import FieldNode, NameNode, get_variable_values

from pricing_edge.edge.document import DocumentCache, PreparedDocument
from pricing_edge.edge.fields import FieldCollector, Grouped
from pricing_edge.sim.storefront.schema import build

SCHEMA = build()
STATIC = """query Product($id: Int!) { site { product(entityId: $id) { entityId ...Name @include(if: true) } } }
fragment Name on Product { name }"""
BY_VARIABLE = """query Product($id: Int!, $withName: Boolean!) {
  site { product(entityId: $id) { entityId ... @include(if: $withName) { name } } } }"""


def collector_for(prepared: PreparedDocument, variables: dict[str, Any]) -> FieldCollector:
    operation = prepared.operation(None)
    coerced = get_variable_values(SCHEMA, operation.variable_definitions or (), variables)
    assert not isinstance(coerced, list), coerced
    return prepared.collector(SCHEMA, coerced)


def product_fields(collector: FieldCollector, prepared: PreparedDocument) -> Grouped:
    root = FieldNode(name=NameNode(value="Query"), selection_set=prepared.operation(None).selection_set)
    site = collector.subfields("Query", [root])["site"]
    return collector.subfields("Product", collector.subfields("Site", site)["product"])


def client_keys(grouped: Grouped) -> list[str]:
    return [key for key in grouped if not key.startswith("_pe")]  # the edge's own additions aside


def test_requests_of_a_document_without_variable_directives_share_its_collection() -> None:
    prepared = DocumentCache(SCHEMA).prepare(STATIC)
    first = product_fields(collector_for(prepared, {"id": 1}), prepared)
    assert client_keys(first) == ["entityId", "name"]
    second = product_fields(collector_for(prepared, {"id": 2}), prepared)
    assert second is first  # collected once: the second request found it in the document's memo


def test_a_directive_on_a_variable_is_collected_per_request() -> None:
    prepared = DocumentCache(SCHEMA).prepare(BY_VARIABLE)
    assert prepared.collected is None
    assert client_keys(product_fields(collector_for(prepared, {"id": 1, "withName": True}), prepared)) == [
        "entityId", "name"]
    assert client_keys(product_fields(collector_for(prepared, {"id": 1, "withName": False}), prepared)) == ["entityId"]
