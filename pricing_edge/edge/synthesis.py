"""Answering a prices-only document without BigCommerce: build the upstream-shaped answer from the
catalog index, then the overlay fills the owned fields as usual.

Only a narrow, safe shape is built here: ``site { product(entityId:) { identifiers, prices,
inventory, variants { edges { node { identifiers, prices, inventory } } } } }``, with owned leaves
the ERP fully decides (not catalog-level bulk tiers, not tax-inclusive values, not warning levels).
Anything else — or a product not yet shown to this visibility scope — returns None: ask upstream.
"""
from __future__ import annotations

import base64
import math
from typing import Any, NamedTuple

from graphql import FieldNode, GraphQLObjectType, GraphQLSchema, get_named_type

from pricing_edge.edge.catalog_index import CatalogIndex, KnownProduct
from pricing_edge.edge.document import ID_ALIAS, SKU_ALIAS, VARIANTS_ALIAS
from pricing_edge.edge.fields import FieldCollector

# Leaves whose every value comes from ERP records (see edge.owned).
_OWNED_LEAVES: dict[str, set[str]] = {
    "Prices": {"price", "salePrice", "basePrice", "retailPrice", "mapPrice", "saved", "priceRange",
               "retailPriceRange"},
    "Money": {"currencyCode", "value", "formattedV2", "formatted"},
    "MoneyRange": {"min", "max"},
    "ProductInventory": {"isInStock", "aggregated"},
    "VariantInventory": {"isInStock", "aggregated"},
    "AggregatedInventory": {"availableToSell"},
    "Aggregated": {"availableToSell"},
}


class CannotSynthesize(Exception):
    pass


def global_id(kind: str, entity_id: int) -> str:
    return base64.b64encode(f"{kind}:{entity_id}".encode()).decode()


class Synthesized(NamedTuple):
    """An upstream-shaped answer built from the catalog index, and when it ends: the index's clock seconds at
    which the first product it shows is no longer known as shown to the scope (a kept answer is then computed
    anew, as its catalog part would be; ``edge/holes.py``)."""

    body: dict[str, Any]
    ends: float


class Synthesizer:
    def __init__(self, schema: GraphQLSchema, index: CatalogIndex) -> None:
        self.schema = schema
        self.index = index
        self._ends = math.inf  # of the answer being built: the earliest end of the products it showed

    def answer(self, operation_selection: FieldNode, collector: FieldCollector, visibility_key: str) -> Synthesized | None:
        self._ends = math.inf
        try:
            data = self._object("Query", [operation_selection], collector, visibility_key, None)
        except CannotSynthesize:
            return None
        return Synthesized({"data": data}, self._ends)

    def _object(self, type_name: str, nodes: list[FieldNode], collector: FieldCollector, visibility_key: str,
                source: Any) -> dict[str, Any]:
        gtype = self.schema.get_type(type_name)
        assert isinstance(gtype, GraphQLObjectType)
        out: dict[str, Any] = {}
        for key, fnodes in collector.subfields(type_name, nodes).items():
            name = fnodes[0].name.value
            if name == "__typename":
                out[key] = type_name
            elif type_name == "Query" and name == "site":
                out[key] = self._object("Site", fnodes, collector, visibility_key, None)
            elif type_name == "Site" and name == "product":
                args = collector.arguments(gtype.fields[name], fnodes[0])
                if set(k for k, v in args.items() if v not in (None, [], False)) != {"entityId"}:
                    raise CannotSynthesize
                product = self.index.visible(visibility_key, entity_id=args["entityId"])
                if product is None:
                    raise CannotSynthesize
                self._ends = min(self._ends, product.ends)
                out[key] = self._object("Product", fnodes, collector, visibility_key, product)
            elif type_name in ("Product", "Variant"):
                out[key] = self._priced_field(type_name, key, name, fnodes, collector, visibility_key, source)
            else:
                raise CannotSynthesize
        return out

    def _priced_field(self, type_name: str, key: str, name: str, fnodes: list[FieldNode], collector: FieldCollector,
                      visibility_key: str, source: Any) -> Any:
        entity_id, sku = (source.entity_id, source.sku) if isinstance(source, KnownProduct) else source
        if key == ID_ALIAS or name == "entityId":
            return entity_id
        if key == SKU_ALIAS or name == "sku":
            return sku
        if name == "id":
            return global_id(type_name, entity_id)
        if key == VARIANTS_ALIAS:
            return {"edges": [{"node": {"entityId": vid, "sku": vsku}} for vid, vsku in source.variants]}
        if name in ("prices", "inventory"):
            self._check_owned(type_name, name, fnodes, collector)
            return None
        if name == "variants" and isinstance(source, KnownProduct):
            return self._variants(fnodes, collector, visibility_key, source)
        raise CannotSynthesize

    def _variants(self, fnodes: list[FieldNode], collector: FieldCollector, visibility_key: str,
                  product: KnownProduct) -> dict[str, Any]:
        field_def = self.schema.get_type("Product").fields["variants"]  # type: ignore[union-attr]
        args = collector.arguments(field_def, fnodes[0])
        if any(args.get(a) for a in ("before", "after", "last", "optionValueIds", "skus", "isPurchasable")):
            raise CannotSynthesize
        variants = [v for v in product.variants if not args.get("entityIds") or v[0] in args["entityIds"]]
        variants = variants[: args.get("first") or len(variants)]
        connection: dict[str, Any] = {}
        for key, conn_nodes in collector.subfields("VariantConnection", fnodes).items():
            if conn_nodes[0].name.value != "edges":
                raise CannotSynthesize
            edges = []
            for variant in variants:
                edge: dict[str, Any] = {}
                for edge_key, edge_nodes in collector.subfields("VariantEdge", conn_nodes).items():
                    if edge_nodes[0].name.value != "node":
                        raise CannotSynthesize
                    edge[edge_key] = self._object("Variant", edge_nodes, collector, visibility_key, variant)
                edges.append(edge)
            connection[key] = edges
        return connection

    def _check_owned(self, type_name: str, name: str, fnodes: list[FieldNode], collector: FieldCollector) -> None:
        field_def = self.schema.get_type(type_name).fields[name]  # type: ignore[union-attr]
        if collector.arguments(field_def, fnodes[0]).get("includeTax"):
            raise CannotSynthesize
        self._check_leaves(get_named_type(field_def.type).name, fnodes, collector)

    def _check_leaves(self, type_name: str, fnodes: list[FieldNode], collector: FieldCollector) -> None:
        allowed = _OWNED_LEAVES.get(type_name)
        gtype = self.schema.get_type(type_name)
        if allowed is None or not isinstance(gtype, GraphQLObjectType):
            raise CannotSynthesize
        for _key, nodes in collector.subfields(type_name, fnodes).items():
            name = nodes[0].name.value
            if name == "__typename":
                continue
            if name not in allowed:
                raise CannotSynthesize
            child = get_named_type(gtype.fields[name].type)
            if isinstance(child, GraphQLObjectType):
                self._check_leaves(child.name, nodes, collector)
