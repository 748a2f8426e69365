"""Comparing the simulator's schema with the vendor's: what "strict subset" means, as code."""
from __future__ import annotations

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    print_type,
)
from graphql.language import print_ast
from graphql.utilities import ast_from_value


def _default(arg: GraphQLArgument) -> str | None:
    from graphql.pyutils import Undefined

    if arg.default_value is Undefined:
        return None
    node = ast_from_value(arg.default_value, arg.type)
    return print_ast(node) if node else "null"


def subset_problems(sim: GraphQLSchema, real: GraphQLSchema) -> list[str]:
    """Every way the simulator's schema is not a strict subset of the real one (empty when it is)."""
    problems: list[str] = []
    for name, sim_type in sim.type_map.items():
        if name.startswith("__"):
            continue
        real_type = real.type_map.get(name)
        if real_type is None:
            problems.append(f"type {name} does not exist in the real schema")
            continue
        if type(sim_type) is not type(real_type):
            problems.append(f"type {name} is a {type(sim_type).__name__}, really a {type(real_type).__name__}")
            continue
        problems.extend(_compare(name, sim_type, real_type, sim, real))
    for root in ("query_type", "mutation_type", "subscription_type"):
        sim_root, real_root = getattr(sim, root), getattr(real, root)
        if sim_root is not None and (real_root is None or sim_root.name != real_root.name):
            problems.append(f"{root} is {sim_root.name}, really {real_root.name if real_root else None}")
    return problems


def _compare(name: str, sim_type: GraphQLNamedType, real_type: GraphQLNamedType, sim: GraphQLSchema,
             real: GraphQLSchema) -> list[str]:
    problems: list[str] = []
    if isinstance(sim_type, GraphQLEnumType):
        assert isinstance(real_type, GraphQLEnumType)
        extra = set(sim_type.values) - set(real_type.values)
        problems += [f"enum {name} has no value {v}" for v in sorted(extra)]
    elif isinstance(sim_type, GraphQLUnionType):
        assert isinstance(real_type, GraphQLUnionType)
        extra = {t.name for t in sim_type.types} - {t.name for t in real_type.types}
        problems += [f"union {name} has no member {t}" for t in sorted(extra)]
    elif isinstance(sim_type, GraphQLInputObjectType):
        assert isinstance(real_type, GraphQLInputObjectType)
        for field_name, field in sim_type.fields.items():
            real_field = real_type.fields.get(field_name)
            if real_field is None:
                problems.append(f"input {name}.{field_name} does not exist")
            elif str(field.type) != str(real_field.type):
                problems.append(f"input {name}.{field_name}: {field.type}, really {real_field.type}")
        for field_name, real_field in real_type.fields.items():
            if field_name not in sim_type.fields and str(real_field.type).endswith("!") \
                    and real_field.default_value is None:
                problems.append(f"input {name}.{field_name} is required by the real schema but missing")
    elif isinstance(sim_type, (GraphQLObjectType, GraphQLInterfaceType)):
        assert isinstance(real_type, (GraphQLObjectType, GraphQLInterfaceType))
        real_interfaces = {i.name for i in real_type.interfaces}
        problems += [f"{name} does not implement {i.name}" for i in sim_type.interfaces
                     if i.name not in real_interfaces]
        if isinstance(sim_type, GraphQLInterfaceType):
            sim_impls = {t.name for t in sim.get_possible_types(sim_type)}
            real_impls = {t.name for t in real.get_possible_types(real_type)}  # type: ignore[arg-type]
            problems += [f"{t} does not really implement {name}" for t in sorted(sim_impls - real_impls)]
        for field_name, field in sim_type.fields.items():
            real_field = real_type.fields.get(field_name)
            where = f"{name}.{field_name}"
            if real_field is None:
                problems.append(f"field {where} does not exist")
                continue
            if str(field.type) != str(real_field.type):
                problems.append(f"field {where}: {field.type}, really {real_field.type}")
            if (field.deprecation_reason is None) != (real_field.deprecation_reason is None):
                problems.append(f"field {where}: deprecation differs")
            for arg_name, arg in field.args.items():
                real_arg = real_field.args.get(arg_name)
                if real_arg is None:
                    problems.append(f"argument {where}({arg_name}) does not exist")
                    continue
                if str(arg.type) != str(real_arg.type):
                    problems.append(f"argument {where}({arg_name}): {arg.type}, really {real_arg.type}")
                if _default(arg) != _default(real_arg):
                    problems.append(f"argument {where}({arg_name}) default {_default(arg)}, "
                                    f"really {_default(real_arg)}")
            for arg_name, real_arg in real_field.args.items():
                if arg_name not in field.args and str(real_arg.type).endswith("!") \
                        and _default(real_arg) is None:
                    problems.append(f"argument {where}({arg_name}) is required by the real schema but missing")
    elif isinstance(sim_type, GraphQLScalarType):
        pass
    else:  # pragma: no cover - every named type kind is handled above
        problems.append(f"type {name}: unhandled kind {print_type(sim_type)}")
    return problems
