"""Documents: parsed, validated against the upstream schema + our extension, limited, and rewritten
for the upstream with the identity fields the overlay needs. Prepared once per distinct text."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from cachetools import LRUCache
from graphql import (
    REMOVE,
    ArgumentNode,
    BooleanValueNode,
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
    get_named_type,
    is_abstract_type,
    is_object_type,
    parse,
    print_ast,
    validate,
    visit,
)
from graphql.execution.values import VariableValues

from pricing_edge.edge.fields import FieldCollector, Memo, directives_use_variables, shared_memo
from pricing_edge.edge.sharing import is_catalog
from pricing_edge.edge.budget import DEFAULT_BUDGET, Budget, budget_errors, text_errors
from pricing_edge.ops import tracing

MAX_DEPTH = 16
MAX_TOKENS = 20_000  # a parse bound: storefront documents use a few thousand tokens at most
ID_ALIAS, SKU_ALIAS, VARIANTS_ALIAS, TYPE_ALIAS, LOCATION_ALIAS = "_peId", "_peSku", "_peVariants", "_peType", "_peLoc"
OWNED_FIELDS = frozenset({"prices", "inventory"})
PRICED_TYPES = frozenset({"Product", "Variant"})


def _field(alias: str, name: str, selection_set: SelectionSetNode | None = None,
           arguments: tuple = ()) -> FieldNode:
    return FieldNode(alias=NameNode(value=alias), name=NameNode(value=name), arguments=arguments, directives=(),
                     selection_set=selection_set)


PAGE_VARIABLE = "_pePage"  # the injected variants' page size: as large as the complexity limit allows (≤ 50)
VARIANT_PAGE = 50  # BigCommerce's largest page
_VARIANT_PAGE_FIELDS = "pageInfo { hasNextPage endCursor } edges { node { entityId sku } }"


def _variants_selection() -> FieldNode:
    node = parse(f"query($p: Int) {{ v: variants(first: ${PAGE_VARIABLE}) {{ {_VARIANT_PAGE_FIELDS} }} }}").definitions[0]
    variants = node.selection_set.selections[0]  # type: ignore[attr-defined]
    return _field(VARIANTS_ALIAS, "variants", variants.selection_set, variants.arguments)


def variant_page_query(cursors: dict[int, str]) -> str:
    """The next page of variants of each product (``p<id>``), after each one's cursor: for products with more
    variants than the first page, so that ranges and stock cover all of them."""
    parts = [f"p{entity_id}: product(entityId: {entity_id}) {{ variants(first: {VARIANT_PAGE}, "
             f"after: {json.dumps(cursor)}) {{ {_VARIANT_PAGE_FIELDS} }} }}" for entity_id, cursor in cursors.items()]
    return "query PricingEdgeVariants { site { " + " ".join(parts) + " } }"


_VARIANTS_FIELD = _variants_selection()
TAX_IN_ALIAS, TAX_EX_ALIAS = "_peTaxIn", "_peTaxEx"
_PRICE_VALUE = parse("{ price { value } }").definitions[0].selection_set  # type: ignore[attr-defined]


def tax_aliases(node: FieldNode) -> tuple[str, str] | None:
    """For a ``prices(includeTax: …)`` field: the aliases of BigCommerce's inclusive and exclusive values of
    the same object, injected next to it (one pair per currency argument as written); else None."""
    if not any(a.name.value == "includeTax" for a in node.arguments or ()):
        return None
    currency = next((print_ast(a.value) for a in node.arguments or () if a.name.value == "currencyCode"), "")
    suffix = hashlib.sha256(currency.encode()).hexdigest()[:8]
    return TAX_IN_ALIAS + suffix, TAX_EX_ALIAS + suffix


def _tax_pair(node: FieldNode) -> list[FieldNode]:
    """``prices(includeTax: true|false, currencyCode: <as asked>) { price { value } }``: the ratio's two ends."""
    aliases = tax_aliases(node)
    if aliases is None:
        return []
    currency = tuple(a for a in node.arguments or () if a.name.value == "currencyCode")
    return [_field(alias, "prices", _PRICE_VALUE,
                   (ArgumentNode(name=NameNode(value="includeTax"), value=BooleanValueNode(value=flag)), *currency))
            for alias, flag in zip(aliases, (True, False), strict=True)]
CART_ALIAS, DELETED_CART_ALIAS = "_peCart", "_peDeletedCart"


def _cart_identity() -> tuple[FieldNode, FieldNode]:
    """What the cart guard and the cart pricer must see in a cart mutation's answer: the cart's id and
    currency, its lines with SKUs, quantities, product and variant, and list price."""
    root = parse("{ c: cart { entityId currencyCode lineItems { physicalItems { entityId sku quantity productEntityId "
                 "variantEntityId listPrice { value } } } } d: deletedCartEntityId }").definitions[0]
    cart, deleted = root.selection_set.selections  # type: ignore[attr-defined]
    return _field(CART_ALIAS, "cart", cart.selection_set), _field(DELETED_CART_ALIAS, "deletedCartEntityId")


_CART_FIELD, _DELETED_FIELD = _cart_identity()
_CART_RESULTS: dict[str, tuple[FieldNode, ...]] = {
    "CreateCartResult": (_CART_FIELD,), "AddCartLineItemsResult": (_CART_FIELD,),
    "UpdateCartLineItemResult": (_CART_FIELD,), "DeleteCartLineItemResult": (_CART_FIELD, _DELETED_FIELD),
    "DeleteCartResult": (_DELETED_FIELD,), "UpdateCartCurrencyResult": (_CART_FIELD,),
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
            for selection in node.selections:
                if isinstance(selection, FieldNode) and selection.name.value == "prices":
                    extra += _tax_pair(selection)
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
    shareable: bool  # only catalog types on concrete paths, no mutation: answers may be shared by a scope
    # (if the abstract positions of the answer turn out catalog too: edge/sharing.py)
    touches_owned: bool  # selects prices or inventory somewhere
    taxed: bool = False  # asks for prices(includeTax:): answers depend on the buyer's tax zone too
    upstream: DocumentNode | None = None  # what the upstream is sent (upstream_text), parsed
    has_mutation: bool = False  # some operation is a mutation: never cut short by a budget
    # Field collection shared by the document's requests when no @skip/@include takes a variable (edge/fields.py)
    collected: Memo | None = field(default=None, compare=False, repr=False)

    def collector(self, schema: GraphQLSchema, variables: VariableValues | None) -> FieldCollector:
        """A field collector for one request's variables, sharing the document's memo where it may."""
        if self.collected is None:
            return FieldCollector(schema, self.fragments, variables)
        return FieldCollector(schema, self.fragments, variables, self.collected)

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
    """What a document reaches: personal if any field sits on, or returns, a concrete type that is not
    on the catalog allow-list (edge/sharing.py); abstract positions are judged on the answer."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.personal = False
        self.owned = False
        self.taxed = False

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.type_info.get_parent_type()
        if parent is None:
            return
        if not node.name.value.startswith("__"):  # introspection and __typename are the same for everyone
            returned = get_named_type(self.type_info.get_type())
            if (is_object_type(parent) and not is_catalog(parent.name)) or \
                    (is_object_type(returned) and returned is not None and not is_catalog(returned.name)):
                self.personal = True
        if parent.name in PRICED_TYPES and node.name.value in OWNED_FIELDS:
            self.owned = True
            if node.name.value == "prices" and tax_aliases(node) is not None:
                self.taxed = True


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
        self.spreads: set[str] = set()

    def enter_variable_definition(self, *_: object) -> object:
        return SKIP  # a definition is not a use

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        self.used.add(node.name.value)

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.spreads.add(node.name.value)


def _with_page_variable(document: DocumentNode) -> DocumentNode:
    """Every operation declares ``$_pePage`` (default 50; once: a document the edge built itself, such as a
    listing's page of cards, may declare it already); those that do not use it lose it again below."""
    declared = parse(f"query(${PAGE_VARIABLE}: Int = {VARIANT_PAGE}) {{ a }}").definitions[0]
    page = declared.variable_definitions[0]  # type: ignore[attr-defined]
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and not any(
                v.variable.name.value == PAGE_VARIABLE for v in definition.variable_definitions or ()):
            definition = OperationDefinitionNode(
                operation=definition.operation, name=definition.name,
                variable_definitions=(*(definition.variable_definitions or ()), page),
                directives=definition.directives, selection_set=definition.selection_set)
        definitions.append(definition)
    return DocumentNode(definitions=tuple(definitions))


def _drop_unused_variables(document: DocumentNode) -> DocumentNode:
    """Each operation declares only the variables it uses (through the fragments it spreads too): after
    stripping extension fields, and for the injected ``$_pePage``, an unused declaration is an error upstream."""
    uses: dict[str, _UsedVariables] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            uses[definition.name.value] = usage = _UsedVariables()
            visit(definition, usage)

    def used_by(selection_set: SelectionSetNode) -> set[str]:
        own = _UsedVariables()
        visit(selection_set, own)
        used, seen, todo = set(own.used), set(), list(own.spreads)
        while todo:
            name = todo.pop()
            if name in seen or name not in uses:
                continue
            seen.add(name)
            used |= uses[name].used
            todo.extend(uses[name].spreads)
        return used

    definitions = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.variable_definitions:
            used = used_by(definition.selection_set) | {
                v.name.value for d in definition.directives or () for a in d.arguments or ()
                for v in [a.value] if isinstance(v, VariableNode)}
            kept = tuple(v for v in definition.variable_definitions if v.variable.name.value in used)
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
        # The hit path's way in: a document seen before is found by its text, one dict lookup, no hash of the
        # text. Prepared documents only (each holds far more than its text): a refused one is found by its hash,
        # so refused texts up to MAX_QUERY_CHARS long are never kept. Bounded: the oldest goes first.
        self._by_text: dict[str, PreparedDocument] = {}
        self._by_text_size = size

    def prepare(self, text: str) -> PreparedDocument:
        known = self._by_text.get(text)
        if known is not None:
            return known
        key = document_key(text)
        cached = self._cache.get(key)
        if cached is None:
            with tracing.span("graphql.document"):  # parsed and validated once per distinct document
                cached = self._prepare(key, text)
            self._cache[key] = cached
        if isinstance(cached, DocumentError):
            raise cached
        if len(self._by_text) >= self._by_text_size:
            del self._by_text[next(iter(self._by_text))]
        self._by_text[text] = cached
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
            upstream = visit(rewritten, TypeInfoVisitor(type_info, _ExtensionStripper(type_info, self.extension_fields)))
        upstream = _drop_unused_variables(_with_page_variable(upstream))
        return PreparedDocument(key, document, print_ast(upstream), operations, fragments,
                                shareable=not (survey.personal or has_mutation), touches_owned=survey.owned,
                                taxed=survey.taxed, upstream=upstream, has_mutation=has_mutation,
                                collected=None if directives_use_variables(document.definitions) else shared_memo())
