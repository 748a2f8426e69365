"""Documents: parsed, validated against the upstream schema + our extension, limited, and rewritten
for the upstream with the identity fields the overlay needs. Prepared once per distinct text."""
from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from cachetools import LRUCache
from graphql import (
    REMOVE,
    SKIP,
    VariableNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    ASTValidationRule,
    is_abstract_type,
    parse,
    print_ast,
    validate,
    visit,
)

from pricing_edge.edge.budget import DEFAULT_BUDGET, Budget, budget_errors, text_errors
from pricing_edge.ops import tracing

MAX_DEPTH = 16
MAX_TOKENS = 20_000  # a parse bound: storefront documents use a few thousand tokens at most
ID_ALIAS, SKU_ALIAS, VARIANTS_ALIAS, TYPE_ALIAS, LOCATION_ALIAS = "_peId", "_peSku", "_peVariants", "_peType", "_peLoc"
OWNED_FIELDS = frozenset({"prices", "inventory"})
PRICED_TYPES = frozenset({"Product", "Variant"})
# Fields whose answers belong to one shopper or one cart: never shared through a group-wide cache.
PERSONAL_FIELDS = frozenset({("Query", "customer"), ("Site", "cart"), ("Site", "checkout"), ("Site", "order"),
                             ("Site", "giftCertificate")})


def _field(alias: str, name: str, selection_set: SelectionSetNode | None = None,
           arguments: tuple = ()) -> FieldNode:
    return FieldNode(alias=NameNode(value=alias), name=NameNode(value=name), arguments=arguments, directives=(),
                     selection_set=selection_set)


def _variants_selection() -> FieldNode:
    node = parse("{ v: variants(first: 50) { edges { node { entityId sku } } } }").definitions[0]
    variants = node.selection_set.selections[0]  # type: ignore[attr-defined]
    return _field(VARIANTS_ALIAS, "variants", variants.selection_set, variants.arguments)


_VARIANTS_FIELD = _variants_selection()
CART_ALIAS, DELETED_CART_ALIAS = "_peCart", "_peDeletedCart"


def _cart_identity() -> tuple[FieldNode, FieldNode]:
    """What the cart guard must see in a cart mutation's answer: the cart's id and lines with SKUs."""
    root = parse("{ c: cart { entityId lineItems { physicalItems { entityId sku quantity } } } "
                 "d: deletedCartEntityId }").definitions[0]
    cart, deleted = root.selection_set.selections  # type: ignore[attr-defined]
    return _field(CART_ALIAS, "cart", cart.selection_set), _field(DELETED_CART_ALIAS, "deletedCartEntityId")


_CART_FIELD, _DELETED_FIELD = _cart_identity()
_CART_RESULTS: dict[str, tuple[FieldNode, ...]] = {
    "CreateCartResult": (_CART_FIELD,), "AddCartLineItemsResult": (_CART_FIELD,),
    "UpdateCartLineItemResult": (_CART_FIELD,), "DeleteCartLineItemResult": (_CART_FIELD, _DELETED_FIELD),
    "DeleteCartResult": (_DELETED_FIELD,),
}


class _IdentityInjector(Visitor):
    """Adds the aliases the overlay reads: ids and SKUs of priced objects, runtime types of abstract ones."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info

    def leave_selection_set(self, node: SelectionSetNode, *_: object) -> SelectionSetNode | None:
        parent = self.type_info.get_parent_type()
        if parent is None:
            return None
        extra: list[FieldNode] = []
        if is_abstract_type(parent):
            extra.append(_field(TYPE_ALIAS, "__typename"))
        elif parent.name in PRICED_TYPES:
            extra += [_field(ID_ALIAS, "entityId"), _field(SKU_ALIAS, "sku")]
            owned = any(isinstance(s, FieldNode) and s.name.value in OWNED_FIELDS for s in node.selections)
            if parent.name == "Product" and owned:
                extra.append(_VARIANTS_FIELD)
        elif parent.name == "InventoryByLocations":
            extra.append(_field(LOCATION_ALIAS, "locationEntityId"))
        elif parent.name in _CART_RESULTS:
            extra += _CART_RESULTS[parent.name]
        if not extra:
            return None
        return SelectionSetNode(selections=(*node.selections, *extra))


@dataclass(frozen=True)
class PreparedDocument:
    key: str
    document: DocumentNode
    upstream_text: str
    operations: dict[str | None, OperationDefinitionNode]
    fragments: dict[str, FragmentDefinitionNode]
    shareable: bool  # no personal fields, no mutation: answers may be shared by a whole scope
    touches_owned: bool  # selects prices or inventory somewhere
    has_mutation: bool = False  # some operation is a mutation: never cut short by a budget

    def operation(self, name: str | None) -> OperationDefinitionNode:
        """The operation to run, or a GraphQLError as the spec's GetOperation says."""
        if name:
            if name not in self.operations:
                raise GraphQLError(f"Unknown operation named '{name}'.")
            return self.operations[name]
        if len(self.operations) != 1:
            raise GraphQLError("Must provide operation name if query contains multiple operations.")
        return next(iter(self.operations.values()))


class DocumentError(Exception):
    def __init__(self, errors: Sequence[GraphQLError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


def document_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def depth_of(document: DocumentNode) -> int:
    """The deepest field nesting of any operation, fragments expanded — each fragment measured once
    (a spread repeated at every level would otherwise cost exponential time)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    memo: dict[str, int] = {}

    def fragment_depth(name: str, visiting: frozenset[str]) -> int:
        if name in memo:
            return memo[name]
        fragment = fragments.get(name)
        if fragment is None or name in visiting:  # unknown or cyclic: validation reports it
            return 0
        memo[name] = depth(fragment.selection_set, visiting | {name})
        return memo[name]

    def depth(selection_set: SelectionSetNode | None, visiting: frozenset[str]) -> int:
        if selection_set is None:
            return 0
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                deepest = max(deepest, 1 + depth(selection.selection_set, visiting))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, depth(selection.selection_set, visiting))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, fragment_depth(selection.name.value, visiting))
        return deepest

    return max((depth(d.selection_set, frozenset()) for d in document.definitions
                if isinstance(d, OperationDefinitionNode)), default=0)


class _Survey(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.personal = False
        self.owned = False

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.type_info.get_parent_type()
        if parent is None:
            return
        if (parent.name, node.name.value) in PERSONAL_FIELDS:
            self.personal = True
        if parent.name in PRICED_TYPES and node.name.value in OWNED_FIELDS:
            self.owned = True


class _ExtensionStripper(Visitor):
    """Removes the fields our extension SDL adds: the upstream does not know them; the edge answers them."""

    def __init__(self, type_info: TypeInfo, fields: frozenset[tuple[str, str]]) -> None:
        super().__init__()
        self.type_info = type_info
        self.fields = fields

    def enter_field(self, node: FieldNode, *_: object) -> object:
        parent = self.type_info.get_parent_type()
        return REMOVE if parent is not None and (parent.name, node.name.value) in self.fields else None

    def leave_selection_set(self, node: SelectionSetNode, *_: object) -> SelectionSetNode | None:
        if node.selections:
            return None
        return SelectionSetNode(selections=(_field("_peEmpty", "__typename"),))


class _UsedVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.used: set[str] = set()

    def enter_variable_definition(self, *_: object) -> object:
        return SKIP  # a definition is not a use

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        self.used.add(node.name.value)


def _drop_unused_variables(document: DocumentNode) -> DocumentNode:
    """After stripping extension fields, variables only they used must not be declared upstream."""
    usage = _UsedVariables()
    visit(document, usage)
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.variable_definitions:
            kept = tuple(v for v in definition.variable_definitions if v.variable.name.value in usage.used)
            definition = OperationDefinitionNode(
                operation=definition.operation, name=definition.name, variable_definitions=kept,
                directives=definition.directives, selection_set=definition.selection_set)
        definitions.append(definition)
    return DocumentNode(definitions=tuple(definitions))


class DocumentCache:
    """Parse + budget + validate + rewrite once per distinct document text (graphql-core validation costs
    milliseconds for a normal document, and far more for a hostile one: the budget refuses those first)."""

    def __init__(self, schema: GraphQLSchema, max_depth: int = MAX_DEPTH, size: int = 4096,
                 extension_fields: frozenset[tuple[str, str]] = frozenset(), budget: Budget = DEFAULT_BUDGET,
                 rules: Collection[type[ASTValidationRule]] | None = None) -> None:
        self.schema = schema
        self.max_depth = max_depth
        self.extension_fields = extension_fields
        self.budget = budget
        self.rules = rules  # graphql-core's specified rules unless given
        self._cache: LRUCache[str, PreparedDocument | DocumentError] = LRUCache(maxsize=size)

    def prepare(self, text: str) -> PreparedDocument:
        key = document_key(text)
        cached = self._cache.get(key)
        if cached is None:
            with tracing.span("graphql.document"):  # parsed and validated once per distinct document
                cached = self._prepare(key, text)
            self._cache[key] = cached
        if isinstance(cached, DocumentError):
            raise cached
        return cached

    def _prepare(self, key: str, text: str) -> PreparedDocument | DocumentError:
        try:
            too_large = text_errors(text, self.budget)
            if too_large:
                return DocumentError(too_large)
            document = parse(text, max_tokens=MAX_TOKENS)
            errors = budget_errors(document, self.budget) or validate(self.schema, document, self.rules)
        except GraphQLError as exc:
            return DocumentError([exc])
        except RecursionError:  # nesting deep enough to exhaust the parser's stack: far past any limit
            return DocumentError([GraphQLError(f"Query depth exceeds the maximum allowed depth of {self.max_depth}.")])
        if errors:
            return DocumentError(errors)
        depth = depth_of(document)
        if depth > self.max_depth:
            return DocumentError([GraphQLError(
                f"Query depth of {depth} exceeds the maximum allowed depth of {self.max_depth}.")])
        survey = _Survey(TypeInfo(self.schema))
        visit(document, TypeInfoVisitor(survey.type_info, survey))
        type_info = TypeInfo(self.schema)
        rewritten = visit(document, TypeInfoVisitor(type_info, _IdentityInjector(type_info)))
        operations = {d.name.value if d.name else None: d for d in rewritten.definitions
                      if isinstance(d, OperationDefinitionNode)}
        fragments = {d.name.value: d for d in rewritten.definitions if isinstance(d, FragmentDefinitionNode)}
        has_mutation = any(op.operation is not OperationType.QUERY for op in operations.values())
        upstream = rewritten
        if self.extension_fields:
            type_info = TypeInfo(self.schema)
            upstream = _drop_unused_variables(
                visit(rewritten, TypeInfoVisitor(type_info, _ExtensionStripper(type_info, self.extension_fields))))
        return PreparedDocument(key, document, print_ast(upstream), operations, fragments,
                                shareable=not (survey.personal or has_mutation), touches_owned=survey.owned,
                                has_mutation=has_mutation)
