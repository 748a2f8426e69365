"""The size budget of a document, decided in one cheap pass over the parsed text *before* graphql-core's
validation rules run.

Some of those rules cost more than linear time in hostile documents: ``OverlappingFieldsCanBeMerged``
compares every pair of fields that share a response key, so 6,000 aliases of one name cost seconds of
CPU per request (and any client holding the public storefront token may send them). The budget counts,
without expanding fragments and in time linear in the document, what makes those rules expensive —
fields, aliases, fragments, textual depth, and *conflicting names* (fields or spreads that repeat a
response key or a fragment already selected in the same selection set) — and refuses a document over
any of them with a GraphQL error naming the limit. Real storefront documents stay far below every value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

BUDGET_CODES = frozenset({"QUERY_TOO_LARGE", "QUERY_TOO_DEEP"})  # the refusals a client is counted for


@dataclass(frozen=True)
class Budget:
    """What one document may contain (docs/limits.md)."""

    max_fields: int = 2_000
    max_aliases: int = 500
    max_fragments: int = 500  # definitions, spreads and inline fragments together
    max_conflicts: int = 100  # repeats of a response key (or of a spread) within one selection set
    max_depth: int = 16  # textual nesting; the depth through fragments is checked after validation
    max_names: int = 2_500  # names in the raw text, counted before parsing (parsing costs too)


DEFAULT_BUDGET = Budget()
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def text_errors(text: str, budget: Budget = DEFAULT_BUDGET) -> list[GraphQLError]:
    """Before parsing: parsing itself costs tenths of a second for a document of thousands of aliases, so
    the names in the raw text (fields, aliases, arguments, types — an over-count: names inside strings
    and comments count too) are counted first, by the regular-expression engine, in a few milliseconds."""
    names = len(_NAME.findall(text))
    if names <= budget.max_names:
        return []
    return [GraphQLError(f"Query has {names} names; the maximum allowed is {budget.max_names}.",
                         extensions={"code": "QUERY_TOO_LARGE", "limit": "names", "count": names,
                                     "max": budget.max_names})]


@dataclass
class Counts:
    fields: int = 0
    aliases: int = 0
    fragments: int = 0
    conflicts: int = 0
    depth: int = 0


def count(document: DocumentNode) -> Counts:
    """The budget's counts for a document: each node is visited once (no fragment is expanded)."""
    counts = Counts()
    stack: list[tuple[SelectionSetNode, int]] = []
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            counts.fragments += 1
            stack.append((definition.selection_set, 1))
        elif isinstance(definition, OperationDefinitionNode):
            stack.append((definition.selection_set, 1))
    while stack:
        selection_set, depth = stack.pop()
        seen: set[str] = set()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                counts.fields += 1
                counts.depth = max(counts.depth, depth)
                if selection.alias is not None:
                    counts.aliases += 1
                key = "f:" + (selection.alias or selection.name).value
                if selection.selection_set is not None:
                    stack.append((selection.selection_set, depth + 1))
            elif isinstance(selection, InlineFragmentNode):
                counts.fragments += 1
                key = ""  # inline fragments merge into their parent; their fields are counted there
                stack.append((selection.selection_set, depth))
            elif isinstance(selection, FragmentSpreadNode):
                counts.fragments += 1
                key = "s:" + selection.name.value
            else:  # pragma: no cover - graphql-core has no other selection
                continue
            if key and key in seen:
                counts.conflicts += 1
            seen.add(key)
    return counts


def budget_errors(document: DocumentNode, budget: Budget = DEFAULT_BUDGET) -> list[GraphQLError]:
    """Every part of the budget the document exceeds, as GraphQL errors (``extensions.code`` QUERY_TOO_LARGE)."""
    counts = count(document)
    checks = (("fields", counts.fields, budget.max_fields), ("aliases", counts.aliases, budget.max_aliases),
              ("fragments", counts.fragments, budget.max_fragments),
              ("conflicting names", counts.conflicts, budget.max_conflicts))
    errors = [GraphQLError(f"Query has {found} {what}; the maximum allowed is {limit}.",
                           extensions={"code": "QUERY_TOO_LARGE", "limit": what, "count": found, "max": limit})
              for what, found, limit in checks if found > limit]
    if counts.depth > budget.max_depth:
        errors.append(GraphQLError(
            f"Query depth of {counts.depth} exceeds the maximum allowed depth of {budget.max_depth}.",
            extensions={"code": "QUERY_TOO_DEEP", "limit": "depth", "count": counts.depth,
                        "max": budget.max_depth}))
    return errors
