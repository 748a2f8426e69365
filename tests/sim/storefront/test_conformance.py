"""The simulator's schema is a strict subset of BigCommerce's real Storefront schema, and every document
the tests send is valid against both.

The real SDL is test data read from ../shared/specs (or PRICING_EDGE_SPECS_DIR), never copied here;
without it these tests skip, and under PRICING_EDGE_REQUIRE_SPECS=1 they fail.
"""
from __future__ import annotations

from functools import cache
import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
    build_schema,
    parse,
    print_ast,
    validate,
)

from pricing_edge.sim.storefront.schema import build, sdl
from tests.sim.storefront.documents import DOCUMENTS, deep_document
from tests.support.specs import require_spec

REAL_SDL = "bigcommerce/graphql/storefront.graphql"
SIM_DEPTH_LIMIT = 16


@cache
def _real_schema(path: str) -> GraphQLSchema:
    with open(path, encoding="utf-8") as handle:
        return build_schema(handle.read())


@pytest.fixture(scope="module")
def real() -> GraphQLSchema:
    return _real_schema(str(require_spec(REAL_SDL)))


@pytest.fixture(scope="module")
def sim() -> GraphQLSchema:
    return build_schema(sdl())


def _named_types(schema: GraphQLSchema) -> dict[str, GraphQLNamedType]:
    return {name: t for name, t in schema.type_map.items() if not name.startswith("__")}


NO_DEFAULT = "<no default>"


def _default(arg: GraphQLArgument | GraphQLInputField) -> str:
    """An argument's or input field's default as SDL prints it (graphql-core 3.3 keeps an SDL default
    as a literal in ``.default``; ``.default_value`` is then Undefined and would compare equal always)."""
    default = arg.default
    if default is not None:
        return print_ast(default.literal) if default.literal is not None else repr(default.value)
    return NO_DEFAULT if arg.default_value is Undefined else repr(arg.default_value)


def _required(arg: GraphQLArgument | GraphQLInputField) -> bool:
    return str(arg.type).endswith("!") and _default(arg) == NO_DEFAULT


def _differences(sim: GraphQLSchema, real: GraphQLSchema) -> list[str]:
    """Everything in the simulator's schema that is not identically in the real one."""
    problems: list[str] = []
    real_types = _named_types(real)
    for name, mine in _named_types(sim).items():
        theirs = real_types.get(name)
        if theirs is None:
            problems.append(f"type {name} is not in the real schema")
            continue
        if type(mine) is not type(theirs):
            problems.append(f"{name} is a {type(mine).__name__} here but a {type(theirs).__name__} in the real schema")
            continue
        if isinstance(mine, (GraphQLObjectType, GraphQLInterfaceType)):
            assert isinstance(theirs, (GraphQLObjectType, GraphQLInterfaceType))
            extra = {i.name for i in mine.interfaces} - {i.name for i in theirs.interfaces}
            if extra:
                problems.append(f"{name} implements {sorted(extra)}, the real one does not")
            for field_name, field in mine.fields.items():
                real_field = theirs.fields.get(field_name)
                where = f"{name}.{field_name}"
                if real_field is None:
                    problems.append(f"field {where} is not in the real schema")
                    continue
                if str(field.type) != str(real_field.type):
                    problems.append(f"{where}: {field.type} here, {real_field.type} in the real schema")
                for arg_name, arg in field.args.items():
                    real_arg = real_field.args.get(arg_name)
                    if real_arg is None:
                        problems.append(f"argument {where}({arg_name}) is not in the real schema")
                    elif str(arg.type) != str(real_arg.type) or _default(arg) != _default(real_arg):
                        problems.append(f"argument {where}({arg_name}): {arg.type} = {_default(arg)!r} here, "
                                        f"{real_arg.type} = {_default(real_arg)!r} in the real schema")
                missing = [a for a, real_arg in real_field.args.items() if a not in field.args and _required(real_arg)]
                if missing:
                    problems.append(f"{where} lacks the real schema's required argument(s) {missing}")
        elif isinstance(mine, GraphQLInputObjectType):
            assert isinstance(theirs, GraphQLInputObjectType)
            for field_name, input_field in mine.fields.items():
                real_input = theirs.fields.get(field_name)
                where = f"input {name}.{field_name}"
                if real_input is None:
                    problems.append(f"{where} is not in the real schema")
                elif str(input_field.type) != str(real_input.type) or _default(input_field) != _default(real_input):
                    problems.append(f"{where}: {input_field.type} = {_default(input_field)!r} here, "
                                    f"{real_input.type} = {_default(real_input)!r} in the real schema")
            missing = [f for f, real_input in theirs.fields.items() if f not in mine.fields and _required(real_input)]
            if missing:
                problems.append(f"input {name} lacks the real schema's required field(s) {missing}")
        elif isinstance(mine, GraphQLEnumType):
            assert isinstance(theirs, GraphQLEnumType)
            extra_values = set(mine.values) - set(theirs.values)
            if extra_values:
                problems.append(f"enum {name} has values the real one lacks: {sorted(extra_values)}")
        elif isinstance(mine, GraphQLUnionType):
            assert isinstance(theirs, GraphQLUnionType)
            extra_members = {t.name for t in mine.types} - {t.name for t in theirs.types}
            if extra_members:
                problems.append(f"union {name} has members the real one lacks: {sorted(extra_members)}")
        else:
            assert isinstance(mine, GraphQLScalarType)
    for directive in sim.directives:
        real_directive = real.get_directive(directive.name)
        if real_directive is None:
            problems.append(f"directive @{directive.name} is not in the real schema")
            continue
        for arg_name, arg in directive.args.items():
            real_arg = real_directive.args.get(arg_name)
            if real_arg is None or str(arg.type) != str(real_arg.type):
                problems.append(f"directive @{directive.name}({arg_name}) differs from the real schema")
    for kind in ("query_type", "mutation_type", "subscription_type"):
        mine_root, real_root = getattr(sim, kind), getattr(real, kind)
        if mine_root is not None and (real_root is None or mine_root.name != real_root.name):
            problems.append(f"root {kind} {mine_root.name} is not the real schema's")
    return problems


def test_every_type_field_argument_and_member_of_the_simulator_is_in_the_real_schema(sim: GraphQLSchema,
                                                                                     real: GraphQLSchema) -> None:
    assert _differences(sim, real) == []


def test_the_served_schema_is_the_sdl_file_and_still_conforms(real: GraphQLSchema) -> None:
    """The schema the app executes (resolvers bound) is the checked one: same types, same fields."""
    served, declared = build(), build_schema(sdl())
    assert set(_named_types(served)) == set(_named_types(declared))
    assert _differences(served, real) == []


def test_enums_accept_every_value_the_real_schema_does(sim: GraphQLSchema, real: GraphQLSchema) -> None:
    """Otherwise a query valid against BigCommerce (say, currencyCode: CHF) would fail validation here."""
    for name, mine in _named_types(sim).items():
        if isinstance(mine, GraphQLEnumType):
            theirs = real.type_map[name]
            assert isinstance(theirs, GraphQLEnumType)
            assert set(mine.values) == set(theirs.values), name


def test_the_check_itself_catches_a_wrong_type_a_wrong_default_and_an_invented_field(real: GraphQLSchema) -> None:
    """A guard on the guard: a doctored schema is reported, one difference per line."""
    doctored = build_schema(
        sdl()
        .replace("  entityId: Int!\n  sku: String!\n  path: String!", "  entityId: Long!\n  sku: String!\n  path: String!", 1)
        .replace("plainTextDescription(characterLimit: Int = 120)", "plainTextDescription(characterLimit: Int = 100)")
        .replace("type Settings {\n", "type Settings {\n  inventedField: String\n")
    )
    problems = _differences(doctored, real)
    assert any(p.startswith("Product.entityId: Long!") for p in problems), problems
    assert any("plainTextDescription(characterLimit)" in p and "100" in p for p in problems), problems
    assert "field Settings.inventedField is not in the real schema" in problems
    assert len(problems) == 3, problems


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_document_the_tests_send_validates_against_the_real_schema(name: str, real: GraphQLSchema) -> None:
    assert validate(real, parse(DOCUMENTS[name])) == [], f"{name} is not valid against BigCommerce's schema"


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_document_the_tests_send_validates_against_the_simulators_schema(name: str,
                                                                               sim: GraphQLSchema) -> None:
    assert validate(sim, parse(DOCUMENTS[name])) == [], f"{name} is not valid against the simulator's schema"


@pytest.mark.parametrize("depth", [SIM_DEPTH_LIMIT, SIM_DEPTH_LIMIT + 1])
def test_the_deep_documents_of_the_limit_tests_are_valid_too(depth: int, sim: GraphQLSchema,
                                                              real: GraphQLSchema) -> None:
    document = parse(deep_document(depth))
    assert validate(real, document) == []
    assert validate(sim, document) == []
