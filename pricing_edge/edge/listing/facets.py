"""Facets under the buyer's prices: the price facet says which range the buyer chose (BigCommerce's
``PriceSearchFilter`` has no counts), and the other facets' counts are taken over the products the
buyer's price filter keeps."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pricing_edge.domain.listing import Member, PriceRange
from pricing_edge.edge.document import TYPE_ALIAS
from pricing_edge.edge.fields import FieldCollector
from pricing_edge.edge.listing.plan import ListingSite


def recount(collector: FieldCollector, site: ListingSite, listing: dict[str, Any], in_range: PriceRange | None,
            kept: set[int], members: list[Member], skus: Mapping[int, str]) -> None:
    """Rewrite the facets of BigCommerce's answer (given without the price filter) for the buyer."""
    sp_nodes = site.sp_nodes
    for key, nodes in collector.subfields("SearchProducts", sp_nodes).items():
        if nodes[0].name.value != "filters" or not isinstance(listing.get(key), dict):
            continue
        for edges_key, edges_nodes in collector.subfields("SearchProductFilterConnection", nodes).items():
            if edges_nodes[0].name.value != "edges":
                continue
            for edge in listing[key].get(edges_key) or []:
                for node_key, node_nodes in collector.subfields("SearchProductFilterEdge", edges_nodes).items():
                    node = edge.get(node_key) if isinstance(edge, dict) else None
                    if isinstance(node, dict) and node_nodes[0].name.value == "node":
                        _facet(collector, node, node_nodes, site)


def _facet(collector: FieldCollector, node: dict[str, Any], nodes: list[Any], site: ListingSite) -> None:
    typename = node.get(TYPE_ALIAS) or node.get("__typename")
    if typename != "PriceSearchFilter":
        return
    chosen = site.filters.get("price")
    for key, fnodes in collector.subfields("PriceSearchFilter", nodes).items():
        if fnodes[0].name.value != "selected":
            continue
        if chosen is None:
            node[key] = None
            continue
        values = {"minPrice": chosen.get("minPrice"), "maxPrice": chosen.get("maxPrice"),
                  "__typename": "PriceSearchFilterItem"}
        node[key] = {k: values.get(n[0].name.value) for k, n in collector.subfields("PriceSearchFilterItem", fnodes).items()}
