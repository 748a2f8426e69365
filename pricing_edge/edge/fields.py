"""The GraphQL spec's CollectFields over a prepared document, for walking responses.

graphql-core has this algorithm but marks it internal (its signature changed between 3.2 and 3.3);
this is the spec's few lines, with skip/include and argument coercion from graphql-core's public API.

Collecting is most of a page's render when done afresh per request (directive values are coerced at every
selection), so a document whose ``@skip``/``@include`` name no variable shares one memo across its requests
(``Collected``): what a selection set collects to depends then on the document alone.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    get_argument_values,
    get_directive_values,
    is_abstract_type,
)
from graphql.execution.values import VariableValues

Grouped = dict[str, list[FieldNode]]
# A memo entry keeps its selection sets alive, so that their ids (the key) cannot be reused by other nodes.
Memo = MutableMapping[tuple[str, tuple[int, ...]], tuple[tuple[SelectionSetNode, ...], Grouped]]
SHARED_MEMO_ENTRIES = 4096  # per document: far more than its (type, selection sets) pairs


def shared_memo() -> Memo:
    """A document's memo shared by its requests, bounded (a node made per request would add an entry each)."""
    return LRUCache(maxsize=SHARED_MEMO_ENTRIES)


def directives_use_variables(nodes: Iterable[Any]) -> bool:
    """Whether any ``@skip``/``@include`` under ``nodes`` (a document's definitions) takes a variable: then
    what a selection set collects to depends on each request's variables."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        for directive in getattr(node, "directives", None) or ():
            if directive.name.value in ("skip", "include") and any(
                    isinstance(argument.value, VariableNode) for argument in directive.arguments or ()):
                return True
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return False


@dataclass
class FieldCollector:
    """Collects fields of selection sets for one document and one set of coerced variables (memoized; the
    memo may be the document's, when its directives take no variable: ``directives_use_variables``)."""

    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: VariableValues | None
    _memo: Memo = field(default_factory=dict)

    def collect(self, type_name: str, selection_sets: Iterable[SelectionSetNode]) -> Grouped:
        sets = tuple(selection_sets)
        key = (type_name, tuple(id(s) for s in sets))
        hit = self._memo.get(key)
        if hit is not None:
            return hit[1]
        grouped: Grouped = {}
        runtime = self.schema.get_type(type_name)
        assert isinstance(runtime, GraphQLObjectType), f"{type_name} is not an object type"
        visited: set[str] = set()
        for selection_set in sets:
            self._visit(runtime, selection_set, grouped, visited)
        self._memo[key] = (sets, grouped)
        return grouped

    @property
    def memo(self) -> Memo:
        return self._memo

    @property
    def shares_memo(self) -> bool:
        """Whether the memo is a document's (``shared_memo``: bounded, shared by its requests), not this one's own."""
        return not isinstance(self._memo, dict)

    def subfields(self, type_name: str, nodes: list[FieldNode]) -> Grouped:
        return self.collect(type_name, [n.selection_set for n in nodes if n.selection_set])

    def arguments(self, field_def: GraphQLField, node: FieldNode) -> dict[str, Any]:
        return get_argument_values(field_def, node, self.variables)

    def _included(self, node: SelectionNode) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and include.get("if") is False)

    def _applies(self, condition: str | None, runtime: GraphQLObjectType) -> bool:
        if condition is None or condition == runtime.name:
            return True
        conditional = self.schema.get_type(condition)
        return conditional is not None and is_abstract_type(conditional) and \
            self.schema.is_sub_type(conditional, runtime)

    def _visit(self, runtime: GraphQLObjectType, selection_set: SelectionSetNode, grouped: Grouped,
               visited: set[str]) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition else None
                if self._applies(condition, runtime):
                    self._visit(runtime, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if self._applies(fragment.type_condition.name.value, runtime):
                    self._visit(runtime, fragment.selection_set, grouped, visited)
