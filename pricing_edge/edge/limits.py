"""BigCommerce's request limits, enforced by the edge before anything is forwarded or computed:
one mutation per request, page size at most 50 (``Argument 'first' cannot exceed 50``) and a
complexity estimate (default limit 10,000). Query depth (16) is checked where documents are prepared.

Pure functions over a parsed, *validated* document, the schema, the chosen operation and the
operation's coerced variables (``graphql.get_variable_values``), so ``@skip``/``@include`` and
variables are honoured exactly as execution would honour them. BigCommerce does not publish its
complexity formula; ours is in ``docs/limits.md`` and in :func:`complexity` below.

Every walk is linear in the size of the document: a fragment is analysed once (its cost is
memoised and scaled where it is spread), so a document that spreads fragments exponentially
often cannot make the check itself expensive.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionNode,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    get_argument_values,
    get_directive_values,
    get_named_type,
    get_variable_values,
    is_interface_type,
    is_object_type,
)
from graphql.execution.values import VariableValues

PAGE_ARGUMENTS = ("first", "last")
NAMESPACE_SUFFIX = "Mutations"  # BigCommerce groups mutations: cart: CartMutations!, wishlist: WishlistMutations!, …


@dataclass(frozen=True)
class Limits:
    """The limits the edge enforces; BigCommerce's values by default."""

    max_mutations: int = 1
    max_page_size: int = 50
    default_page_size: int = 10  # what a connection returns when neither first nor last is given
    max_complexity: int = 10_000


DEFAULT_LIMITS = Limits()


def operation_named(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation ``name`` selects in ``document`` (the only one when no name is given), else None.

    The edge must check the limits on the document *as the client sent it*: the prepared document's
    operations are rewritten with the identity fields the overlay needs (``variants(first: $_pePage)`` under
    every priced product), which would count against the client's budget.
    """
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((op for op in operations if op.name is not None and op.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def check_limits(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
                 variables: VariableValues | None, limits: Limits = DEFAULT_LIMITS) -> list[GraphQLError]:
    """Every limit the operation breaks, as GraphQL errors; empty when it may run."""
    errors = mutation_errors(schema, document, operation, variables, limits)
    walk = _Walk(schema, _fragments(document), variables, limits)
    estimate = walk.operation_cost(operation)
    errors += walk.errors
    if estimate > limits.max_complexity:
        errors.append(GraphQLError(
            f"Query complexity of {estimate} exceeds the maximum allowed complexity of {limits.max_complexity}.",
            extensions={"code": "QUERY_TOO_COMPLEX", "complexity": estimate,
                        "maxComplexity": limits.max_complexity}))
    return errors


def complexity(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
               variables: VariableValues | None, limits: Limits = DEFAULT_LIMITS) -> int:
    """The complexity estimate of one operation (docs/limits.md): how many objects it asks for.

    - every selected field that returns an object (a selection set) costs 1 each time it is expected
      to be resolved; scalars and enums cost nothing;
    - a connection (a field taking ``first``/``last``) resolves its whole sub-selection once per item
      of its page: ``last`` if given, else ``first``, else ``limits.default_page_size`` (the larger
      of the two when both are given; negative counts as 0) — so nested connections multiply;
    - fragments (named and inline) cost what their fields cost, once per place they are spread;
      every inline fragment counts, whatever its type condition (an upper bound for unions);
    - fields removed by ``@skip``/``@include`` cost nothing; plain lists do not multiply.
    """
    return _Walk(schema, _fragments(document), variables, limits).operation_cost(operation)


def largest_page(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
                 variables: Mapping[str, Any], name: str, most: int, limits: Limits = DEFAULT_LIMITS) -> int:
    """The largest value, at most ``most``, of the page-size variable ``name`` that keeps the operation within
    the complexity limit (0 when even that is over). The edge sizes the variants page it adds to a document
    with it: the estimate is linear in that page, so two estimates give the answer."""

    def cost(page: int) -> int:
        coerced = get_variable_values(schema, operation.variable_definitions or (), {**variables, name: page})
        if isinstance(coerced, list):  # the client's own variables were checked already: cannot happen
            return limits.max_complexity + 1
        return complexity(schema, document, operation, coerced, limits)

    base = cost(0)
    slope = cost(1) - base
    if slope <= 0:
        return most
    return max(0, min(most, (limits.max_complexity - base) // slope))


def page_size_errors(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
                     variables: VariableValues | None, limits: Limits = DEFAULT_LIMITS) -> list[GraphQLError]:
    """``Argument 'first' cannot exceed 50`` (and ``'last'``) for every connection the operation pages too far."""
    walk = _Walk(schema, _fragments(document), variables, limits)
    walk.operation_cost(operation)
    return walk.errors


def mutation_count(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
                   variables: VariableValues | None) -> int:
    """How many mutations the operation runs (0 for a query).

    A root field of ``Mutation`` is one mutation, except a namespace (a field without arguments
    whose type is an object type named ``…Mutations``, as ``cart: CartMutations!``), which counts
    the distinct fields selected in it. Fields are merged by response key as execution merges them;
    ``__typename`` is not a mutation; ``@skip``/``@include`` and fragments are applied.
    """
    mutation_type = schema.mutation_type
    if operation.operation is not OperationType.MUTATION or mutation_type is None:
        return 0
    fragments = _fragments(document)
    roots = _collect(operation.selection_set, fragments, variables)
    count = 0
    for nodes in roots.values():
        name = nodes[0].name.value
        if name == "__typename":
            continue
        field_def = mutation_type.fields.get(name)
        if field_def is not None and _is_namespace(field_def):
            inner: dict[str, list[FieldNode]] = {}
            for node in nodes:
                if node.selection_set is not None:
                    _merge(inner, _collect(node.selection_set, fragments, variables))
            count += sum(1 for sub in inner.values() if sub[0].name.value != "__typename")
        else:
            count += 1
    return count


def mutation_errors(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
                    variables: VariableValues | None, limits: Limits = DEFAULT_LIMITS) -> list[GraphQLError]:
    count = mutation_count(schema, document, operation, variables)
    if count <= limits.max_mutations:
        return []
    allowed = f"{limits.max_mutations} mutation is" if limits.max_mutations == 1 else f"{limits.max_mutations} mutations are"
    return [GraphQLError(f"Only {allowed} allowed per request; this request has {count}.", operation,
                         extensions={"code": "TOO_MANY_MUTATIONS"})]


# --- internals ---------------------------------------------------------------------------------

def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _included(node: SelectionNode, variables: VariableValues | None) -> bool:
    try:
        skip = get_directive_values(GraphQLSkipDirective, node, variables)
        include = get_directive_values(GraphQLIncludeDirective, node, variables)
    except GraphQLError:
        return True  # cannot happen after validation and coercion; count it rather than let it through unseen
    if skip and skip.get("if") is True:
        return False
    return not (include and include.get("if") is False)


def _is_namespace(field_def: GraphQLField) -> bool:
    named = get_named_type(field_def.type)
    return not field_def.args and is_object_type(named) and named.name.endswith(NAMESPACE_SUFFIX)


def _merge(into: dict[str, list[FieldNode]], more: Mapping[str, list[FieldNode]]) -> None:
    for key, nodes in more.items():
        into.setdefault(key, []).extend(nodes)


def _collect(selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode],
             variables: VariableValues | None) -> dict[str, list[FieldNode]]:
    """Fields of one selection set by response key, through fragments (type conditions ignored:
    the root and namespace types are object types, so every condition that validated applies)."""
    grouped: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()

    def visit(selections: SelectionSetNode) -> None:
        for selection in selections.selections:
            if not _included(selection, variables):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                visit(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in visited and name in fragments:
                    visited.add(name)
                    visit(fragments[name].selection_set)

    visit(selection_set)
    return grouped


@dataclass
class _Walk:
    """One pass over an operation: its unit cost (memoised per fragment) and its page-size errors."""

    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: VariableValues | None
    limits: Limits
    errors: list[GraphQLError] = field(default_factory=list)
    _fragment_cost: dict[str, int] = field(default_factory=dict)
    _active: set[str] = field(default_factory=set)

    def operation_cost(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return self.cost(operation.selection_set, root)

    def cost(self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None) -> int:
        total = 0
        for selection in selection_set.selections:
            if not _included(selection, self.variables):
                continue
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                total += self.cost(selection.selection_set,
                                   self.schema.get_type(condition.name.value) if condition else parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread_cost(selection.name.value)
        return total

    def spread_cost(self, name: str) -> int:
        known = self._fragment_cost.get(name)
        if known is not None:
            return known
        fragment = self.fragments.get(name)
        if fragment is None or name in self._active:  # unknown or cyclic: validation refuses both
            return 0
        self._active.add(name)
        cost = self.cost(fragment.selection_set, self.schema.get_type(fragment.type_condition.name.value))
        self._active.discard(name)
        self._fragment_cost[name] = cost
        return cost

    def field_cost(self, node: FieldNode, parent: GraphQLNamedType | None) -> int:
        if node.selection_set is None:
            return 0  # a scalar or enum: the object that holds it was already counted
        field_def = self.field_def(parent, node.name.value)
        if field_def is None:
            return 1
        child = get_named_type(field_def.type)
        return 1 + self.page(field_def, node) * self.cost(node.selection_set, child)

    def field_def(self, parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if parent is not None and parent is self.schema.query_type:
            if name == "__schema":
                return SchemaMetaFieldDef
            if name == "__type":
                return TypeMetaFieldDef
        if parent is not None and (is_object_type(parent) or is_interface_type(parent)):
            return parent.fields.get(name)
        return None

    def page(self, field_def: GraphQLField, node: FieldNode) -> int:
        """How many times a field's sub-selection is resolved: its page for a connection, else 1."""
        if not any(name in field_def.args for name in PAGE_ARGUMENTS) or not _is_connection(field_def):
            return 1
        try:
            arguments: dict[str, Any] = get_argument_values(field_def, node, self.variables)
        except GraphQLError as error:  # cannot happen after validation and coercion
            self.errors.append(error)
            return self.limits.default_page_size
        given: dict[str, int] = {name: int(arguments[name]) for name in PAGE_ARGUMENTS
                                 if arguments.get(name) is not None}
        for name, value in given.items():
            if value > self.limits.max_page_size:
                self.errors.append(GraphQLError(f"Argument '{name}' cannot exceed {self.limits.max_page_size}", node,
                                                extensions={"code": "PAGE_SIZE_EXCEEDED"}))
            elif value < 0:
                self.errors.append(GraphQLError(f"Argument '{name}' must be a non-negative integer", node,
                                                extensions={"code": "PAGE_SIZE_NEGATIVE"}))
        if not given:
            return self.limits.default_page_size
        return max(0, *given.values())


def _is_connection(field_def: GraphQLField) -> bool:
    named = get_named_type(field_def.type)
    return isinstance(named, GraphQLObjectType) and ("edges" in named.fields or named.name.endswith("Connection"))
