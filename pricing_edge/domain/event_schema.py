"""The JSON Schemas in ``pricing_edge/schemas/events/`` are the one contract of event data: the parsers in
:mod:`pricing_edge.domain.events` check data against them and then only convert (no second, hand-written
copy of the rules to drift apart). The schema files are package data, read once per type."""
from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import jsonschema
import orjson
from jsonschema.exceptions import ValidationError, best_match

SCHEMA_DIR = resources.files("pricing_edge") / "schemas" / "events"


class SchemaViolation(ValueError):
    """Data that breaks its schema: ``field`` is the JSON path of the first problem, ``problem`` says what."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(SCHEMA_DIR.joinpath(f"{name}.json").read_bytes())
    return loaded


def _strict_integer(_: object, instance: object) -> bool:
    """An integer is written as one: ``2.0`` (a float once parsed) is not an id, a quantity or a version."""
    return isinstance(instance, int) and not isinstance(instance, bool)


# JSON Schema counts 2.0 as an integer; our contract does not.
Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer))


@functools.lru_cache(maxsize=32)
def validator(name: str) -> jsonschema.protocols.Validator:
    if "/" in name or name.startswith("."):
        raise FileNotFoundError(name)
    loaded = schema(name)
    jsonschema.Draft202012Validator.check_schema(loaded)
    return Validator(loaded, format_checker=jsonschema.FormatChecker())


@functools.lru_cache(maxsize=32)
def _compiled(name: str) -> Any:
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema(name), validate_formats=True)


def _has_float(value: object) -> bool:
    """Whether a float is anywhere in a parsed JSON value (exact types: the JSON parser's own)."""
    kind = type(value)
    if kind is float:
        return True
    items: Any = value.values() if kind is dict else value if kind is list else ()  # type: ignore[attr-defined]
    for item in items:
        inner = type(item)
        if inner is float or ((inner is dict or inner is list) and _has_float(item)):
            return True
    return False


def check_many(name: str, instances: list[Any], root: str = "") -> None:
    """``check`` for many instances at once (a bulk export: two million prices): screened by the same
    schema compiled (jsonschema-rs, microseconds each); only an instance the screen does not pass — or
    one holding a float, which JSON Schema would take for an integer and our contract does not — goes
    through ``check`` itself, which names its problem (or passes it: the screen is never the judge)."""
    screen = _compiled(name)
    for index, instance in enumerate(instances):
        if _has_float(instance) or not screen.is_valid(instance):
            check(name, instance, f"{root}[{index}]")


def check(name: str, instance: object, root: str = "", top: str = "data") -> None:
    """Raise SchemaViolation naming the first problem of ``instance`` under schema ``name`` by its path
    (under ``root``; ``top`` when the problem is the whole instance).

    Screened first by the compiled schema, as ``check_many`` does: this runs for every event received and
    every record read from the store (``store/codec.py``), where the full validator cost ~0.3 ms a record —
    most of an edge's CPU once ERP events keep records moving (issue 20's events profile)."""
    if not _has_float(instance) and _compiled(name).is_valid(instance):
        return
    error = best_match(validator(name).iter_errors(instance))
    if error is None:
        return
    where, problem = path_of(error, root), problem_of(error)
    named = _named_property(error)
    if named is not None:  # a missing or unknown field is named itself, not its parent object
        field, problem = named
        where = f"{where}.{field}" if where else field
    raise SchemaViolation(where or top, problem)


def _named_property(error: ValidationError) -> tuple[str, str] | None:
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        if missing:
            return missing[0], "required field is missing"
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        unknown = sorted(str(k) for k in instance if k not in allowed)
        if unknown:
            return unknown[0], f"unknown field (allowed: {', '.join(allowed)})"
    return None


def path_of(error: ValidationError, root: str = "") -> str:
    where = root
    for part in error.absolute_path:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    return where


def problem_of(error: ValidationError) -> str:
    """The schema's own words for a pattern it states in prose (a SKU's rule reads better than its regex)."""
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator == "type" and error.instance is None:
        return "required field is null"
    if error.validator == "type" and error.validator_value == "object":
        return f"must be a JSON object, not {type(error.instance).__name__}"
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        words = " or ".join(_ARTICLES.get(str(name), str(name)) for name in wanted)
        problem = f"must be {words}, not {type(error.instance).__name__} {error.instance!r}"
        return f"{problem} ({description})" if description else problem
    if error.validator == "enum":
        return f"must be one of {', '.join(str(v) for v in error.validator_value)}, got {error.instance!r}"
    if error.validator == "minItems" and error.validator_value == 1:
        return "must be a non-empty list"
    if error.validator == "pattern" and description:
        return f"{error.instance!r} is not valid: {description}"
    return error.message


_ARTICLES = {"integer": "an integer", "string": "a string", "object": "an object", "array": "an array",
             "boolean": "true or false", "number": "a number", "null": "null"}
