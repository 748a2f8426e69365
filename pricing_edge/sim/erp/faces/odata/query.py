"""OData V2 system query options a face understands: ``$filter`` (comparisons joined by and/or/not,
parentheses, string/number/boolean/null/datetime/datetimeoffset/time literals), ``$orderby`` and key
predicates. Anything else in a filter is a 400, as a real service refuses what it does not support.

``equalities`` pulls the conjunctive ``Field eq 'x' [or Field eq 'y' ...]`` constraints out of a
filter so a face can look candidates up by index before the full filter runs on them.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pricing_edge.sim.erp.faces.odata.values import parse_datetime, parse_duration


class QueryError(ValueError):
    """A query option this face cannot read (answered 400 with the vendor's error body)."""


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<open>\() | (?P<close>\)) | (?P<comma>,)
    | (?P<typed>(?:datetimeoffset|datetime|time|guid)'[^']*')
    | (?P<string>'(?:[^']|'')*')
    | (?P<number>-?\d+(?:\.\d+)?[mMdDlL]?)
    | (?P<word>[A-Za-z_][A-Za-z0-9_/]*)
    )""", re.VERBOSE)
COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Field:
    name: str


@dataclass(frozen=True)
class Compare:
    op: str
    left: Field | Literal
    right: Field | Literal


@dataclass(frozen=True)
class Logical:
    op: str  # "and" | "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


Node = Compare | Logical | Not


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise QueryError(f"invalid $filter near {text[position:position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _literal(kind: str, raw: str) -> Literal:
    if kind == "string":
        return Literal(raw[1:-1].replace("''", "'"))
    if kind == "number":
        return Literal(Decimal(raw.rstrip("mMdDlL")))
    prefix, _, rest = raw.partition("'")
    body = rest[:-1]
    try:
        if prefix == "datetime":
            return Literal(parse_datetime(body, aware=False))
        if prefix == "datetimeoffset":
            return Literal(parse_datetime(body, aware=True))
        if prefix == "time":
            return Literal(parse_duration(body))
    except ValueError as exc:
        raise QueryError(f"invalid {prefix} literal {body!r}: {exc}") from None
    return Literal(body)  # guid


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise QueryError("invalid $filter: it ends too early")
        self.at += 1
        return token

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() is not None:
            raise QueryError(f"invalid $filter: unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.peek() == ("word", "or"):
            self.take()
            node = Logical("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.unary()
        while self.peek() == ("word", "and"):
            self.take()
            node = Logical("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() == ("word", "not"):
            self.take()
            return Not(self.unary())
        if self.peek() == ("open", "("):
            self.take()
            node = self.or_expr()
            if self.take() != ("close", ")"):
                raise QueryError("invalid $filter: a parenthesis is not closed")
            return node
        left = self.operand()
        kind, op = self.take()
        if kind != "word" or op not in COMPARISONS:
            raise QueryError(f"invalid $filter: expected one of {', '.join(sorted(COMPARISONS))}, got {op!r}")
        return Compare(op, left, self.operand())

    def operand(self) -> Field | Literal:
        kind, raw = self.take()
        if kind == "word":
            if raw in ("true", "false"):
                return Literal(raw == "true")
            if raw == "null":
                return Literal(None)
            if self.peek() == ("open", "("):
                raise QueryError(f"$filter function {raw}() is not supported by this service")
            return Field(raw)
        if kind in ("string", "number", "typed"):
            return _literal(kind, raw)
        raise QueryError(f"invalid $filter: unexpected {raw!r}")


def parse_filter(text: str | None) -> Node | None:
    return _Parser(text).parse() if text and text.strip() else None


def check_fields(node: Node | None, known: Callable[[str], bool]) -> None:
    """Every field a filter names must be a property of the set (a real service answers 400 too)."""
    if node is None:
        return
    if isinstance(node, Logical):
        check_fields(node.left, known)
        check_fields(node.right, known)
    elif isinstance(node, Not):
        check_fields(node.operand, known)
    else:
        for side in (node.left, node.right):
            if isinstance(side, Field) and not known(side.name):
                raise QueryError(f"property {side.name} is not known in this entity set")


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None) - (value.utcoffset() or timedelta(0))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def matches(node: Node | None, row: Mapping[str, Any]) -> bool:
    if node is None:
        return True
    if isinstance(node, Logical):
        if node.op == "and":
            return matches(node.left, row) and matches(node.right, row)
        return matches(node.left, row) or matches(node.right, row)
    if isinstance(node, Not):
        return not matches(node.operand, row)
    left = _comparable(row.get(node.left.name) if isinstance(node.left, Field) else node.left.value)
    right = _comparable(row.get(node.right.name) if isinstance(node.right, Field) else node.right.value)
    if node.op == "eq":
        return bool(left == right)
    if node.op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        if node.op == "gt":
            return bool(left > right)
        if node.op == "ge":
            return bool(left >= right)
        if node.op == "lt":
            return bool(left < right)
        return bool(left <= right)
    except TypeError:
        raise QueryError(f"cannot compare {left!r} with {right!r}") from None


def equalities(node: Node | None) -> dict[str, set[Any]]:
    """Per field, the values it must equal one of (from top-level ``and``ed eq / or-of-eq terms)."""
    found: dict[str, set[Any]] = {}
    for term in _conjuncts(node):
        values = _one_field_eqs(term)
        if values is not None:
            name, allowed = values
            found[name] = found[name] & allowed if name in found else allowed
    return found


def _conjuncts(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if isinstance(node, Logical) and node.op == "and":
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _one_field_eqs(node: Node) -> tuple[str, set[Any]] | None:
    if isinstance(node, Compare) and node.op == "eq" and isinstance(node.left, Field) \
            and isinstance(node.right, Literal):
        return node.left.name, {node.right.value}
    if isinstance(node, Logical) and node.op == "or":
        left, right = _one_field_eqs(node.left), _one_field_eqs(node.right)
        if left and right and left[0] == right[0]:
            return left[0], left[1] | right[1]
    return None


def parse_orderby(text: str | None, known: Callable[[str], bool]) -> list[tuple[str, bool]]:
    """``Field [asc|desc], ...`` → [(field, descending)]."""
    order = []
    for part in (text or "").split(","):
        words = part.split()
        if not words:
            continue
        if not known(words[0]) or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise QueryError(f"invalid $orderby term {part.strip()!r}")
        order.append((words[0], len(words) == 2 and words[1] == "desc"))
    return order


_KEY_PART = re.compile(r"""\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*)?
    (?P<value>(?:datetimeoffset|datetime|time|guid)'[^']*'|'(?:[^']|'')*'|-?\d+(?:\.\d+)?[mM]?)\s*(?:,|$)""",
                       re.VERBOSE)


def parse_key(text: str) -> list[tuple[str | None, Any]]:
    """``'A'`` or ``K1='a',K2=datetime'...'`` → [(name or None, value)]."""
    parts, position = [], 0
    while position < len(text):
        match = _KEY_PART.match(text, position)
        if match is None or match.end() == position:
            raise QueryError(f"invalid key predicate ({text})")
        raw = match["value"]
        kind = "string" if raw.startswith("'") else ("number" if raw[0].isdigit() or raw[0] == "-" else "typed")
        parts.append((match["name"], _literal(kind, raw).value))
        position = match.end()
    return parts
