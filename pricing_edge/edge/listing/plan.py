"""Where a document asks for a listing by price, and the two documents the edge sends BigCommerce instead.

A listing by price is a ``SearchQueries.searchProducts`` field with ``sort: LOWEST_PRICE | HIGHEST_PRICE``
or a ``price`` filter. The edge then sends BigCommerce

- the client's document with that field's price filter and sort taken out (``filters: $_peFilters``) and
  its ``products`` page shrunk to one product: everything but the product list (facets, settings, …);
- a *page* document: ``site { products(entityIds: $_peIds) { <the client's products selection> } }``
  for the products of the buyer's page, in whatever order; the edge puts them in the buyer's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    IntValueNode,
    ListTypeNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

from pricing_edge.domain.listing import PRICE_SORTS
from pricing_edge.edge.document import PAGE_VARIABLE, VARIANT_PAGE
from pricing_edge.edge.fields import FieldCollector

FACET_ID = "_peFacetId"
FACET_IDENTITY = {"BrandSearchFilterItem": (FACET_ID, "entityId"), "CategorySearchFilterItem": (FACET_ID, "entityId"),
                  "SubCategorySearchFilterItem": (FACET_ID, "entityId"),
                  "ProductAttributeSearchFilterItem": (FACET_ID, "value"), "RatingSearchFilterItem": (FACET_ID, "value"),
                  "ProductAttributeSearchFilter": (FACET_ID, "filterKey")}
FILTERS_VAR, IDS_VAR, FIRST_VAR, PAGE_ALIAS = "_peFilters", "_peIds", "_peFirst", "_pePage"


@dataclass(frozen=True)
class ProductsField:
    """One ``products`` selection under the listing (a response key), with its paging arguments."""

    key: str
    nodes: list[FieldNode]
    args: dict[str, Any]


@dataclass
class ListingSite:
    """The listing in one operation: its response-key path, filters, sort and product selections."""

    path: tuple[str, str, str]  # site, search, searchProducts response keys
    filters: dict[str, Any]
    sort: str | None
    sp_nodes: list[FieldNode]
    products: list[ProductsField] = field(default_factory=list)
    currency: str | None = None  # the ``currencyCode`` the product cards ask their prices in
    include_tax: bool = False

    @property
    def member_filters(self) -> dict[str, Any]:
        """The filters BigCommerce answers: all but the price."""
        return {k: v for k, v in self.filters.items() if k != "price"}

    @property
    def member_sort(self) -> str | None:
        """BigCommerce's order matters only when the sort is not by price."""
        return None if self.sort in PRICE_SORTS else self.sort


def find_listing(schema: GraphQLSchema, collector: FieldCollector, root: FieldNode) -> ListingSite | None:
    """The first ``searchProducts`` of the operation that sorts or filters by price (None: there is none)."""
    query = schema.query_type
    assert query is not None
    for site_key, site_nodes in collector.subfields(query.name, [root]).items():
        if site_nodes[0].name.value != "site":
            continue
        for search_key, search_nodes in collector.subfields("Site", site_nodes).items():
            if search_nodes[0].name.value != "search":
                continue
            for sp_key, sp_nodes in collector.subfields("SearchQueries", search_nodes).items():
                if sp_nodes[0].name.value != "searchProducts":
                    continue
                field_def = schema.get_type("SearchQueries").fields["searchProducts"]  # type: ignore[union-attr]
                args = collector.arguments(field_def, sp_nodes[0])
                filters, sort = dict(args.get("filters") or {}), args.get("sort")
                if sort not in PRICE_SORTS and filters.get("price") is None:
                    continue
                return _site(schema, collector, (site_key, search_key, sp_key), filters, sort, sp_nodes)
    return None


def _site(schema: GraphQLSchema, collector: FieldCollector, path: tuple[str, str, str], filters: dict[str, Any],
          sort: str | None, sp_nodes: list[FieldNode]) -> ListingSite:
    site = ListingSite(path, filters, sort, sp_nodes)
    products_def = schema.get_type("SearchProducts").fields["products"]  # type: ignore[union-attr]
    prices_def = schema.get_type("Product").fields["prices"]  # type: ignore[union-attr]
    for key, nodes in collector.subfields("SearchProducts", sp_nodes).items():
        if nodes[0].name.value != "products":
            continue
        site.products.append(ProductsField(key, nodes, collector.arguments(products_def, nodes[0])))
        for edges in _named(collector.subfields("ProductConnection", nodes), "edges"):
            for node in _named(collector.subfields("ProductEdge", edges), "node"):
                for prices in _named(collector.subfields("Product", node), "prices"):
                    if site.currency is None:
                        args = collector.arguments(prices_def, prices[0])
                        site.currency = args.get("currencyCode")
                        site.include_tax = bool(args.get("includeTax"))
    return site


def _named(grouped: dict[str, list[FieldNode]], name: str) -> list[list[FieldNode]]:
    return [nodes for nodes in grouped.values() if nodes[0].name.value == name]


def _named_type(name: str, non_null: bool = False) -> Any:
    named = NamedTypeNode(name=NameNode(value=name))
    return NonNullTypeNode(type=named) if non_null else named


class _WithoutPrice(Visitor):
    """The listing's ``searchProducts(filters: $_peFilters)`` (no sort) and its ``products(first: 1)``."""

    def __init__(self, type_info: TypeInfo, key: str) -> None:
        super().__init__()
        self.type_info = type_info
        self.key = key
        self.depth = 0  # > 0: inside the listing's searchProducts

    def enter_field(self, node: FieldNode, *_: object) -> FieldNode | None:
        parent = self.type_info.get_parent_type()
        if self.depth:
            self.depth += 1
        if parent is None:
            return None
        response_key = (node.alias or node.name).value
        if (parent.name, node.name.value) == ("SearchQueries", "searchProducts") and response_key == self.key:
            self.depth = 1
            filters = ArgumentNode(name=NameNode(value="filters"), value=VariableNode(name=NameNode(value=FILTERS_VAR)))
            return _with_arguments(node, (filters,))
        if self.depth == 2 and (parent.name, node.name.value) == ("SearchProducts", "products"):
            return _with_arguments(node, (ArgumentNode(name=NameNode(value="first"), value=IntValueNode(value="1")),))
        return None

    def leave_field(self, *_: object) -> None:
        if self.depth:
            self.depth -= 1

    def leave_selection_set(self, node: SelectionSetNode, *_: object) -> SelectionSetNode | None:
        """Facet items name themselves (whatever the client selects): their counts are redone for the buyer."""
        parent = self.type_info.get_parent_type()
        identity = FACET_IDENTITY.get(parent.name) if self.depth and parent is not None else None
        if identity is None:
            return None
        alias, name = identity
        extra = FieldNode(alias=NameNode(value=alias), name=NameNode(value=name), arguments=(), directives=())
        return SelectionSetNode(selections=(*node.selections, extra))


def _with_arguments(node: FieldNode, arguments: tuple[ArgumentNode, ...]) -> FieldNode:
    return FieldNode(alias=node.alias, name=node.name, arguments=arguments, directives=node.directives,
                     selection_set=node.selection_set)


def without_price(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
                  site: ListingSite) -> str:
    """The client's operation for BigCommerce: the listing's price filter and sort out, its page shrunk."""
    declared = VariableDefinitionNode(variable=VariableNode(name=NameNode(value=FILTERS_VAR)),
                                      type=_named_type("SearchProductsFiltersInput", True), directives=())
    chosen = _operation(operation, (*(operation.variable_definitions or ()), declared), operation.selection_set)
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    type_info = TypeInfo(schema)
    rewritten = visit(DocumentNode(definitions=(chosen, *fragments)),
                      TypeInfoVisitor(type_info, _WithoutPrice(type_info, site.path[2])))
    return print_ast(_tidy(rewritten))


def page_document(operation: OperationDefinitionNode, fragments: list[FragmentDefinitionNode],
                  products: list[ProductsField]) -> str:
    """``site { _pePage: products(entityIds: $_peIds, first: $_peFirst) { … } }`` with the client's selections
    (a page no larger than the client's: the same complexity)."""
    selections = tuple(s for p in products for n in p.nodes if n.selection_set for s in n.selection_set.selections)
    ids_type = NonNullTypeNode(type=ListTypeNode(type=_named_type("Int", True)))
    ids = VariableDefinitionNode(variable=VariableNode(name=NameNode(value=IDS_VAR)), type=ids_type, directives=())
    first = VariableDefinitionNode(variable=VariableNode(name=NameNode(value=FIRST_VAR)), type=_named_type("Int", True),
                                   directives=())
    page = FieldNode(alias=NameNode(value=PAGE_ALIAS), name=NameNode(value="products"), directives=(),
                     arguments=(ArgumentNode(name=NameNode(value="entityIds"),
                                             value=VariableNode(name=NameNode(value=IDS_VAR))),
                                ArgumentNode(name=NameNode(value="first"),
                                             value=VariableNode(name=NameNode(value=FIRST_VAR)))),
                     selection_set=SelectionSetNode(selections=selections))
    site = FieldNode(name=NameNode(value="site"), arguments=(), directives=(),
                     selection_set=SelectionSetNode(selections=(page,)))
    # The cards may carry the variants page the edge adds under products (``$_pePage``): declared here, and
    # dropped by the tidy below where the client's selection has none.
    declares = parse(f"query(${PAGE_VARIABLE}: Int = {VARIANT_PAGE}) {{ a }}").definitions[0]
    variant_page = tuple(declares.variable_definitions or ()) if isinstance(declares, OperationDefinitionNode) else ()
    query = _operation(operation, (*(operation.variable_definitions or ()), ids, first, *variant_page),
                       SelectionSetNode(selections=(site,)), name="_pePageProducts")
    return print_ast(_tidy(DocumentNode(definitions=(query, *fragments))))


def _operation(operation: OperationDefinitionNode, variables: tuple[VariableDefinitionNode, ...],
               selection_set: SelectionSetNode, name: str | None = None) -> OperationDefinitionNode:
    return OperationDefinitionNode(operation=OperationType.QUERY if name else operation.operation,
                                   name=NameNode(value=name) if name else operation.name,
                                   variable_definitions=variables, directives=() if name else operation.directives,
                                   selection_set=selection_set)


class _Uses(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.variables: set[str] = set()
        self.fragments: set[str] = set()
        self.in_definition = False

    def enter_variable_definition(self, *_: object) -> None:
        self.in_definition = True

    def leave_variable_definition(self, *_: object) -> None:
        self.in_definition = False

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        if not self.in_definition:
            self.variables.add(node.name.value)

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.fragments.add(node.name.value)


def _tidy(document: DocumentNode) -> DocumentNode:
    """Drop variables and fragments nothing uses any more (BigCommerce refuses unused ones)."""
    while True:
        uses = _Uses()
        visit(document, uses)
        definitions: list[Any] = []
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode) and definition.name.value not in uses.fragments:
                continue
            if isinstance(definition, OperationDefinitionNode):
                kept = tuple(v for v in definition.variable_definitions or ()
                             if v.variable.name.value in uses.variables)
                definition = OperationDefinitionNode(operation=definition.operation, name=definition.name,
                                                     variable_definitions=kept, directives=definition.directives,
                                                     selection_set=definition.selection_set)
            definitions.append(definition)
        tidied = DocumentNode(definitions=tuple(definitions))
        if len(tidied.definitions) == len(document.definitions):
            return tidied
        document = tidied
