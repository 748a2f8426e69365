"""Facets under the buyer's prices.

BigCommerce's ``PriceSearchFilter`` has no counts: it says which range was chosen, so the edge puts the
client's range back (BigCommerce was asked without it). Every other facet counts, for each item, the
products matching the other filters *and the price range* (faceted search is disjunctive). BigCommerce
cannot count under the buyer's prices, so the edge asks it for each item's products without the price
— the item's own filter in place of its facet's — and counts those whose buyer's price is in the range.
Each such membership is cached like the listing's own. An item left with no product is dropped, as
BigCommerce drops one, unless it is selected.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import FieldNode

from pricing_edge.domain.listing import PriceRange
from pricing_edge.edge.document import TYPE_ALIAS
from pricing_edge.edge.fields import FieldCollector
from pricing_edge.edge.listing.membership import Membership
from pricing_edge.edge.listing.plan import FACET_ID, ListingSite

CATEGORY_FILTERS = ("categoryEntityId", "categoryEntityIds", "categoryIdsFilter", "searchSubCategories")
OTHER_FILTERS = {"freeShipping": "isFreeShipping", "isFeatured": "isFeatured", "isInStock": "hideOutOfStock"}
CONCURRENCY = 8
Members = Callable[[dict[str, Any]], Awaitable[Membership]]
Prices = Callable[[list[str]], Awaitable[Mapping[str, Any]]]  # sku -> the buyer's price (None: unknown)


@dataclass
class _Count:
    """One ``productCount`` to redo: where it is, and the filters that list the item's products."""

    item: dict[str, Any]
    keys: list[str]
    filters: dict[str, Any]
    selected: bool
    drop: Callable[[], None]


def _without(filters: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in filters.items() if k not in names}


def _keys(collector: FieldCollector, type_name: str, nodes: list[FieldNode], name: str) -> list[str]:
    return [k for k, n in collector.subfields(type_name, nodes).items() if n[0].name.value == name]


def _children(collector: FieldCollector, type_name: str, nodes: list[FieldNode], owner: dict[str, Any],
              connection_field: str, item_type: str) -> list[tuple[dict[str, Any], list[FieldNode], list[Any]]]:
    """The items of a facet's connection field: (item, its field nodes, the edge list holding it)."""
    found = []
    for key, fnodes in collector.subfields(type_name, nodes).items():
        if fnodes[0].name.value != connection_field or not isinstance(owner.get(key), dict):
            continue
        for edges_key in _keys(collector, f"{item_type}Connection", fnodes, "edges"):
            edge_nodes = [n for k, ns in collector.subfields(f"{item_type}Connection", fnodes).items()
                          if k == edges_key for n in ns]
            edges = owner[key].get(edges_key) or []
            for edge in edges:
                for node_key in _keys(collector, f"{item_type}Edge", edge_nodes, "node"):
                    node_nodes = collector.subfields(f"{item_type}Edge", edge_nodes)[node_key]
                    if isinstance(edge, dict) and isinstance(edge.get(node_key), dict):
                        found.append((edge[node_key], node_nodes, edges))
    return found


def _dropper(edges: list[Any], item: dict[str, Any]) -> Callable[[], None]:
    def drop() -> None:
        edges[:] = [e for e in edges if not (isinstance(e, dict) and any(v is item for v in e.values()))]
    return drop


def _unsetter(owner: dict[str, Any], key: str) -> Callable[[], None]:
    def unset() -> None:
        owner[key] = None
    return unset


class FacetCounts:
    def __init__(self, collector: FieldCollector, site: ListingSite) -> None:
        self.collector = collector
        self.site = site
        self.base = site.member_filters
        self.counts: list[_Count] = []

    def _count(self, item: dict[str, Any], item_type: str, nodes: list[FieldNode], filters: dict[str, Any],
               drop: Callable[[], None]) -> None:
        keys = _keys(self.collector, item_type, nodes, "productCount")
        selected = bool(item.get(next(iter(_keys(self.collector, item_type, nodes, "isSelected")), ""), False))
        self.counts.append(_Count(item, keys, filters, selected, drop))

    def survey(self, listing: dict[str, Any]) -> None:
        """Find every count in BigCommerce's facets, and the filters listing each item's products."""
        for facet, facet_nodes, _ in _children(self.collector, "SearchProducts", self.site.sp_nodes, listing,
                                               "filters", "SearchProductFilter"):
            self._facet(facet, facet_nodes)

    def _facet(self, facet: dict[str, Any], nodes: list[FieldNode]) -> None:
        typename = facet.get(TYPE_ALIAS) or facet.get("__typename")
        c = self.collector
        if typename == "PriceSearchFilter":
            self._price(facet, nodes)
        elif typename == "BrandSearchFilter":
            for item, item_nodes, edges in _children(c, typename, nodes, facet, "brands", "BrandSearchFilterItem"):
                filters = {**_without(self.base, "brandEntityIds"), "brandEntityIds": [item.get(FACET_ID)]}
                self._count(item, "BrandSearchFilterItem", item_nodes, filters, _dropper(edges, item))
        elif typename == "CategorySearchFilter":
            for item, item_nodes, edges in _children(c, typename, nodes, facet, "categories",
                                                     "CategorySearchFilterItem"):
                self._category(item, "CategorySearchFilterItem", item_nodes, edges)
        elif typename == "RatingSearchFilter":
            for item, item_nodes, edges in _children(c, typename, nodes, facet, "ratings", "RatingSearchFilterItem"):
                filters = {**_without(self.base, "rating"), "rating": {"minRating": float(item.get(FACET_ID) or 0)}}
                self._count(item, "RatingSearchFilterItem", item_nodes, filters, _dropper(edges, item))
        elif typename == "ProductAttributeSearchFilter":
            name = facet.get(FACET_ID)
            others = [a for a in self.base.get("productAttributes") or [] if a.get("attribute") != name]
            for item, item_nodes, edges in _children(c, typename, nodes, facet, "attributes",
                                                     "ProductAttributeSearchFilterItem"):
                filters = {**self.base, "productAttributes": [*others, {"attribute": name,
                                                                        "values": [item.get(FACET_ID)]}]}
                self._count(item, "ProductAttributeSearchFilterItem", item_nodes, filters, _dropper(edges, item))
        elif typename == "OtherSearchFilter":
            for key, fnodes in c.subfields("OtherSearchFilter", nodes).items():
                option = fnodes[0].name.value
                if option in OTHER_FILTERS and isinstance(facet.get(key), dict):
                    name = OTHER_FILTERS[option]
                    self._count(facet[key], "OtherSearchFilterItem", fnodes, {**_without(self.base, name), name: True},
                                _unsetter(facet, key))

    def _category(self, item: dict[str, Any], item_type: str, nodes: list[FieldNode], edges: list[Any]) -> None:
        filters = {**_without(self.base, *CATEGORY_FILTERS), "categoryEntityIds": [item.get(FACET_ID)]}
        self._count(item, item_type, nodes, filters, _dropper(edges, item))
        for child, child_nodes, child_edges in _children(self.collector, item_type, nodes, item, "subCategories",
                                                         "SubCategorySearchFilterItem"):
            self._category(child, "SubCategorySearchFilterItem", child_nodes, child_edges)

    def _price(self, facet: dict[str, Any], nodes: list[FieldNode]) -> None:
        chosen = self.site.filters.get("price")
        for key in _keys(self.collector, "PriceSearchFilter", nodes, "selected"):
            if chosen is None:
                facet[key] = None
                continue
            values = {"minPrice": chosen.get("minPrice"), "maxPrice": chosen.get("maxPrice"),
                      "__typename": "PriceSearchFilterItem"}
            fnodes = self.collector.subfields("PriceSearchFilter", nodes)[key]
            facet[key] = {k: values.get(n[0].name.value)
                          for k, n in self.collector.subfields("PriceSearchFilterItem", fnodes).items()}

    async def recount(self, in_range: PriceRange, members: Members, prices: Prices) -> None:
        """Each item's count under the buyer's price range (BigCommerce asked once per distinct item)."""
        if not self.counts:
            return
        gate = asyncio.Semaphore(CONCURRENCY)
        distinct = {_key(c.filters): c.filters for c in self.counts}

        async def one(filters: dict[str, Any]) -> Membership:
            async with gate:
                return await members(filters)

        found = dict(zip(distinct, await asyncio.gather(*(one(f) for f in distinct.values())), strict=True))
        price_of = await prices(list(dict.fromkeys(sku for m in found.values() for _, sku in m.products)))
        for count in self.counts:
            total = sum(1 for _, sku in found[_key(count.filters)].products if in_range.contains(price_of.get(sku)))
            for key in count.keys:
                count.item[key] = total
            if total == 0 and not count.selected:
                count.drop()


def _key(filters: Mapping[str, Any]) -> str:
    return orjson.dumps(filters, option=orjson.OPT_SORT_KEYS).decode()
