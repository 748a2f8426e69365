"""The SKU a cart line names, resolved *before* the cart guard decides on it.

Why: a reservation is keyed by SKU, and a line may name its item by product id (with option choices) or
variant id only. The catalog index knows what this process has already served; anything else — a product
this process never showed, or a product whose variant is picked by ``selectedOptions`` — is asked of
BigCommerce with the buyer's own headers (what the buyer can see is what the buyer can add), using
BigCommerce's own variant selection: ``product(entityId, optionValueIds, useDefaultOptionSelections)``,
whose ``sku`` is the selected variant's. A line guessed from the product's default variant would reserve
the wrong SKU and let the right one oversell.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pricing_edge.bigcommerce.storefront import StorefrontClient, UpstreamError
from pricing_edge.edge.catalog_index import CatalogIndex

# Option kinds whose values may pick a variant (the rest are modifiers: text, numbers, dates).
_VALUE_KINDS = ("multipleChoices", "checkboxes")
_BY_OPTIONS = """query PricingEdgeLineSku($p: Int!, $ov: [OptionValueId!]) { site {
  product(entityId: $p, optionValueIds: $ov, useDefaultOptionSelections: true) {
    entityId sku variants(first: 50) { edges { node { entityId sku } } } } } }"""
_BY_VARIANT = """query PricingEdgeVariantSku($v: Int!) { site { product(variantEntityId: $v) {
  entityId sku variants(first: 50) { edges { node { entityId sku } } } } } }"""


class SkuUnavailable(Exception):
    """BigCommerce could not be asked which SKU a line names (it is down or answered an error)."""


def option_values(line: Mapping[str, Any]) -> list[dict[str, int]]:
    """The (option, value) pairs a line's ``selectedOptions`` choose: the ones that can pick a variant."""
    selected = line.get("selectedOptions") or {}
    pairs = []
    for kind in _VALUE_KINDS:
        for entry in selected.get(kind) or []:
            option, value = entry.get("optionEntityId"), entry.get("optionValueEntityId")
            if isinstance(option, int) and isinstance(value, int):
                pairs.append({"optionEntityId": option, "valueEntityId": value})
    return pairs


class LineSkus:
    """``await line_skus(line, headers)``: the SKU, None when BigCommerce knows no such item (it refuses the
    line itself), ``SkuUnavailable`` when it could not be asked."""

    def __init__(self, index: CatalogIndex, upstream: StorefrontClient) -> None:
        self.index = index
        self.upstream = upstream

    async def __call__(self, line: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
        if isinstance(line.get("sku"), str):
            return str(line["sku"])
        product, variant = line.get("productEntityId"), line.get("variantEntityId")
        if not isinstance(product, int) and not isinstance(variant, int):
            return None
        pairs = option_values(line)
        if isinstance(variant, int):
            known = self.index.sku_for(product if isinstance(product, int) else None, variant)
            if known is not None:
                return known
            return await self._ask(_BY_VARIANT, {"v": variant}, headers)
        if not pairs:
            known = self.index.sku_for(product, None)
            if known is not None:
                return known
        return await self._ask(_BY_OPTIONS, {"p": product, "ov": pairs or None}, headers)

    async def _ask(self, query: str, variables: dict[str, Any], headers: Mapping[str, str]) -> str | None:
        try:
            answer = await self.upstream.execute(query, variables, None, headers)
        except UpstreamError as exc:
            raise SkuUnavailable(str(exc)) from exc
        body = answer.json() if answer.status == 200 else None
        if not isinstance(body, dict) or body.get("data") is None:
            raise SkuUnavailable(f"the storefront API answered {answer.status} without data")
        product = ((body["data"] or {}).get("site") or {}).get("product")
        if not isinstance(product, dict):
            return None  # no such product or variant for this buyer: BigCommerce refuses the line itself
        edges = (product.get("variants") or {}).get("edges") or []
        variants = tuple((e["node"]["entityId"], e["node"]["sku"]) for e in edges
                         if e and isinstance(e.get("node"), dict) and isinstance(e["node"].get("entityId"), int)
                         and isinstance(e["node"].get("sku"), str))
        if isinstance(product.get("entityId"), int) and variants:
            self.index.learn_skus(product["entityId"], variants)
        sku = product.get("sku")
        return sku if isinstance(sku, str) and sku else None
