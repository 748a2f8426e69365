"""The fields the edge owns: how each value of ``prices`` and ``inventory`` is computed from ERP records.

Each resolver gets its source, the field's arguments and the upstream's value for that field, and
returns a value, an ``Obj`` (a composite to project further) or ``KEEP`` (the upstream's value stands).
A field with no resolver here is not ours: the upstream's value stands (BigCommerce adds fields over time).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.money import format_money
from pricing_edge.domain.pricing import PriceView, TierKind
from pricing_edge.edge.credit import CREDIT_RESOLVERS
from pricing_edge.edge.projection import KEEP, Obj, Resolver

@dataclass(frozen=True)
class PricesSource:
    view: PriceView
    own_tiers: bool  # the ERP record has its own volume breaks (else the catalog's stand)


@dataclass(frozen=True)
class StockSource:
    levels: Mapping[int, StockLevel]  # by location id, summed over the SKUs concerned

    @property
    def available(self) -> int:
        return sum(level.available_to_sell for level in self.levels.values())

    @property
    def in_stock(self) -> bool:
        return self.available > 0 or any(level.backorder for level in self.levels.values())



def _money(value: Decimal | None, currency: str) -> Obj | None:
    return None if value is None else Obj("Money", (value, currency))


def _range(bounds: tuple[Decimal, Decimal] | None, currency: str) -> Obj | None:
    return None if bounds is None else Obj("MoneyRange", (bounds, currency))


def _tiers(source: PricesSource, _: dict[str, Any], __: Any) -> Any:
    if not source.own_tiers:
        return KEEP
    return [Obj(tier.kind.value, tier) for tier in source.view.bulk_tiers]


def _location_edges(source: StockSource, _: dict[str, Any], upstream: Any) -> Any:
    if not isinstance(upstream, list):
        return KEEP
    return [Obj("LocationEdge", source, edge, True) for edge in upstream]


def _location_node(source: StockSource, _: dict[str, Any], upstream: Any) -> Any:
    from pricing_edge.edge.document import LOCATION_ALIAS

    location = upstream.get(LOCATION_ALIAS) if isinstance(upstream, dict) else None
    level = source.levels.get(location) if isinstance(location, int) else None
    return KEEP if level is None else Obj("InventoryByLocations", StockSource({level.location_id: level}))


def _tier_amount(kind: TierKind) -> Resolver:
    return lambda tier, _, __: tier.amount if tier.kind is kind else KEEP


_TIER_FIELDS: dict[str, Resolver] = {
    "minimumQuantity": lambda tier, _, __: tier.min_quantity,
    "maximumQuantity": lambda tier, _, __: tier.max_quantity,
}

RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Prices": {
        "price": lambda s, _, __: _money(s.view.price, s.view.currency),
        "salePrice": lambda s, _, __: _money(s.view.sale_price, s.view.currency),
        "basePrice": lambda s, _, __: _money(s.view.base_price, s.view.currency),
        "retailPrice": lambda s, _, __: _money(s.view.retail_price, s.view.currency),
        "mapPrice": lambda s, _, __: _money(s.view.map_price, s.view.currency),
        "saved": lambda s, _, __: _money(s.view.saved, s.view.currency),
        "priceRange": lambda s, _, __: _range(s.view.range, s.view.currency),
        "retailPriceRange": lambda s, _, __: _range(s.view.retail_price_range, s.view.currency),
        "bulkPricing": _tiers,
    },
    "Money": {
        "currencyCode": lambda m, _, __: m[1],
        "value": lambda m, _, __: m[0],
        "formattedV2": lambda m, _, __: format_money(m[0], m[1]),
        "formatted": lambda m, _, __: format_money(m[0], m[1]),
    },
    "MoneyRange": {
        "min": lambda r, _, __: Obj("Money", (r[0][0], r[1])),
        "max": lambda r, _, __: Obj("Money", (r[0][1], r[1])),
    },
    TierKind.FIXED_PRICE.value: {**_TIER_FIELDS, "price": _tier_amount(TierKind.FIXED_PRICE)},
    TierKind.PERCENT_OFF.value: {**_TIER_FIELDS, "percentOff": _tier_amount(TierKind.PERCENT_OFF)},
    TierKind.PRICE_ADJUSTMENT.value: {**_TIER_FIELDS, "priceAdjustment": _tier_amount(TierKind.PRICE_ADJUSTMENT)},
    "ProductInventory": {
        "isInStock": lambda s, _, __: s.in_stock,
        "aggregated": lambda s, _, __: Obj("AggregatedInventory", s),
    },
    "AggregatedInventory": {"availableToSell": lambda s, _, __: s.available},
    "VariantInventory": {
        "isInStock": lambda s, _, __: s.in_stock,
        "aggregated": lambda s, _, __: Obj("Aggregated", s),
        "byLocation": lambda s, _, up: KEEP if up is None else Obj("LocationConnection", s),
    },
    "Aggregated": {"availableToSell": lambda s, _, __: s.available},
    "LocationConnection": {"edges": _location_edges},
    "LocationEdge": {"node": _location_node},
    "InventoryByLocations": {
        "availableToSell": lambda s, _, __: s.available,
        "isInStock": lambda s, _, __: s.in_stock,
    },
    "B2BCredit": CREDIT_RESOLVERS,
}
