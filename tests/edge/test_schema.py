from graphql import build_schema, parse, validate

from pricing_edge.edge.schema import with_extension

UPSTREAM = "type Query { site: Site! } type Site { name: String! } type Customer { entityId: Int! }"


def test_the_edges_extension_is_additive_to_the_upstream_schema() -> None:
    schema = with_extension(build_schema(UPSTREAM), "extend type Site { asOf: String }")
    assert not validate(schema, parse("{ site { name asOf } }"))
    assert not validate(schema, parse("{ site { name } }"))  # existing documents are unaffected
