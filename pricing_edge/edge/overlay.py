"""Rebuild an upstream answer along the document, putting the ERP's ``prices`` and ``inventory`` on
every Product and Variant wherever the schema reaches them, keyed on the types rather than on paths.

Two steps: ``render`` walks the upstream data (dropping our identity aliases) and notes every owned
field as a *site* and the records it needs; after those records are fetched in one batch, ``fill``
computes each site. A site whose records are missing keeps the upstream's value.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, NamedTuple

from graphql import (
    FieldNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    is_abstract_type,
    is_leaf_type,
)

from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import PriceRecord, view_of, with_ranges
from pricing_edge.domain.tax import currency_places, rate_between
from pricing_edge.edge.document import ID_ALIAS, SKU_ALIAS, TYPE_ALIAS, VARIANTS_ALIAS, tax_aliases
from pricing_edge.edge.fields import FieldCollector
from pricing_edge.edge.owned import RESOLVERS, PricesSource, StockSource
from pricing_edge.edge.projection import KEEP, Obj, Resolver
from pricing_edge.edge.sharing import always_catalog, is_catalog
from pricing_edge.jsonio import loads_exact


@dataclass(frozen=True, slots=True)
class Packed:
    """An upstream value kept as its JSON bytes, as a kept answer's sites hold it (``edge/holes.py``): a few
    hundred bytes instead of ~10× that as dicts and Decimals. Parsed exactly (Decimals) each time a
    re-projection projects the site; the hit path never does."""

    raw: bytes

    def value(self) -> Any:
        return loads_exact(self.raw)


@dataclass(frozen=True, slots=True)
class Site:
    """One owned field of one Product/Variant in the answer, waiting for its records (slots: a kept answer
    holds one per owned field)."""

    out: dict[str, Any]
    key: str
    owner: str  # "Product" or "Variant"
    name: str  # "prices" or "inventory"
    nodes: list[FieldNode]
    upstream: Any  # BigCommerce's value as parsed, or ``Packed`` in a kept answer
    skus: tuple[str, ...]  # the shown variant first (the default, or the one the query selected)
    currency: str
    include_tax: bool
    tax_rate: Decimal | None = None  # for include_tax: the rate BigCommerce applies for this buyer (domain/tax.py)


class Step(NamedTuple):
    """One field of a projected object: its key, type (None: ``__typename``), resolver, coerced arguments
    (read by resolvers, never changed) and nodes."""

    key: str
    field_type: GraphQLOutputType | None
    resolver: Resolver | None
    args: dict[str, Any]
    nodes: list[FieldNode]


@dataclass(frozen=True)
class ExtensionSite:
    """A field of our extension SDL in the answer (e.g. ``Customer.b2bCredit``), answered by the edge."""

    out: dict[str, Any]
    key: str
    owner: str
    name: str
    nodes: list[FieldNode]
    args: dict[str, Any]


@dataclass
class Needs:
    prices: dict[str, set[str]] = field(default_factory=dict)  # currency -> skus
    stock: set[str] = field(default_factory=set)


@dataclass
class Records:
    prices: dict[tuple[str, str], PriceRecord] = field(default_factory=dict)  # (currency, sku)
    stock: dict[str, Mapping[int, StockLevel]] = field(default_factory=dict)  # sku -> location -> level


@dataclass
class Paging:
    """A product whose variants span more than one page: where the next page starts, what is known so far,
    and the sites (index, the SKU the answer showed) waiting for the rest."""

    cursor: str | None
    variants: list[tuple[int, str]]
    sites: list[tuple[int, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class SeenProduct:
    """A product an upstream answer showed to a buyer's visibility scope, with its variants (id, sku)."""

    entity_id: int
    sku: str
    variants: tuple[tuple[int, str], ...]


class Overlay:
    """One answer's overlay for one scope (its price list and default currency)."""

    def __init__(self, schema: GraphQLSchema, collector: FieldCollector, default_currency: str) -> None:
        self.schema = schema
        self.collector = collector
        self.default_currency = default_currency
        self.sites: list[Site] = []
        self.needs = Needs()
        self.seen: dict[int, SeenProduct] = {}
        self.paging: dict[int, Paging] = {}  # products whose variants the edge must page through (by entity id)
        self.extension_sites: list[ExtensionSite] = []  # fields of our extension SDL, answered by the edge itself
        self.extension_fields: frozenset[tuple[str, str]] = frozenset()
        # Runtime types outside the catalog allow-list met at abstract positions (edge/sharing.py).
        self.personal_types: set[str] = set()
        # Its sites' upstream values are not BigCommerce's (a synthesized answer, ``edge/synthesis.py``): a site
        # without its records has nothing to show, and the answer is asked of BigCommerce instead.
        self.records_only = False
        # ``project``'s plans by (type, id of the field nodes): the nodes are kept with each plan, so an id reused
        # by other nodes never finds a plan that is not theirs.
        self._plans: dict[tuple[str, int], tuple[list[FieldNode], list[Step]]] = {}

    @property
    def shareable(self) -> bool:
        """Every abstract position of the answer held a catalog type: it may be shared within the scope."""
        return not self.personal_types

    # -- step 1: walk the upstream data ---------------------------------------------------------

    def render(self, value: Any, gtype: GraphQLOutputType, nodes: list[FieldNode]) -> Any:
        if value is None:
            if is_abstract_type(gtype) and not always_catalog(self.schema, gtype):
                self.personal_types.add("null")  # maybe another buyer's cart: this buyer's answer alone
            return None
        if isinstance(gtype, GraphQLNonNull):
            return self.render(value, gtype.of_type, nodes)
        if isinstance(gtype, GraphQLList):
            return [self.render(item, gtype.of_type, nodes) for item in value] if isinstance(value, list) else value
        if is_leaf_type(gtype) or not isinstance(value, dict):
            return value
        runtime = gtype
        if is_abstract_type(gtype):
            type_name = value.get(TYPE_ALIAS) or value.get("__typename") or ""
            if not is_catalog(type_name):
                self.personal_types.add(type_name or "unknown")
            runtime = self.schema.get_type(type_name)  # type: ignore[assignment]
            if not isinstance(runtime, GraphQLObjectType):
                return {k: v for k, v in value.items() if not k.startswith("_pe")}
        assert isinstance(runtime, GraphQLObjectType)
        return self._render_object(value, runtime, nodes)

    def _render_object(self, value: dict[str, Any], runtime: GraphQLObjectType, nodes: list[FieldNode]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        priced = runtime.name in ("Product", "Variant")
        for key, fnodes in self.collector.subfields(runtime.name, nodes).items():
            if key.startswith("_pe"):
                continue
            name = fnodes[0].name.value
            if name == "__typename":
                out[key] = value.get(key, runtime.name)
                continue
            if name.startswith("__"):  # introspection (__schema, __type): BigCommerce's answer as it is
                out[key] = value.get(key)
                continue
            field_def = runtime.fields[name]
            if (runtime.name, name) in self.extension_fields:
                out[key] = None
                args = self.collector.arguments(field_def, fnodes[0])
                self.extension_sites.append(ExtensionSite(out, key, runtime.name, name, fnodes, args))
                continue
            if priced and name in ("prices", "inventory"):
                out[key] = None
                self._note_site(value, runtime.name, name, key, fnodes, field_def, out)
                continue
            out[key] = self.render(value.get(key), field_def.type, fnodes)
        return out

    def _note_site(self, value: dict[str, Any], owner: str, name: str, key: str, fnodes: list[FieldNode],
                   field_def: Any, out: dict[str, Any]) -> None:
        args = self.collector.arguments(field_def, fnodes[0])
        currency = args.get("currencyCode") or self.default_currency
        include_tax = bool(args.get("includeTax"))
        rate = _tax_rate(value, fnodes[0], str(currency)) if include_tax and name == "prices" else None
        index = len(self.sites)
        self.sites.append(Site(out, key, owner, name, fnodes, value.get(key), (), str(currency), include_tax, rate))
        sku, entity_id = value.get(SKU_ALIAS), value.get(ID_ALIAS)
        if owner == "Variant":
            self._settle(index, sku, (), None)
            return
        connection = value.get(VARIANTS_ALIAS) or {}
        variants = tuple((e["node"]["entityId"], e["node"]["sku"]) for e in connection.get("edges") or []
                         if e and e.get("node") and e["node"].get("sku") and isinstance(e["node"].get("entityId"), int))
        page_info = connection.get("pageInfo") or {}
        if page_info.get("hasNextPage") and isinstance(entity_id, int):
            # More variants than the first page: settled once the edge has paged through the rest.
            paging = self.paging.setdefault(entity_id, Paging(page_info.get("endCursor"), list(variants)))
            paging.sites.append((index, sku))
            return
        self._settle(index, sku, variants, entity_id)

    def complete(self, entity_id: int, variants: tuple[tuple[int, str], ...]) -> None:
        """A paged product's whole variant list is known (or as much as could be had): settle its sites."""
        paging = self.paging.pop(entity_id, None)
        for index, sku in paging.sites if paging else ():
            self._settle(index, sku, variants, entity_id)

    def _settle(self, index: int, sku: Any, variants: tuple[tuple[int, str], ...], entity_id: Any) -> None:
        """A site's SKUs — the shown variant first — and the records it needs."""
        site = self.sites[index]
        skus = _site_skus(site.owner, site.name, sku, variants)
        if isinstance(entity_id, int) and isinstance(sku, str) and variants and (len(variants) == 1 or sku not in
                                                                                 (v for _, v in variants)):
            self.seen[entity_id] = SeenProduct(entity_id, sku, variants)  # the product's own SKU only
        site = self.sites[index] = replace(site, skus=skus)
        if not skus or (site.include_tax and site.tax_rate is None):  # no rate to apply: BigCommerce's value stands
            return
        if site.name == "prices":
            self.needs.prices.setdefault(site.currency, set()).update(skus)
        else:
            self.needs.stock.update(skus)

    # -- step 2: compute every site from the fetched records -------------------------------------

    def fill(self, records: Records) -> list[Site]:
        """Compute every site; returns the sites that kept the upstream's value (no records)."""
        kept = []
        for site in self.sites:
            site.out[site.key], projected = self.site_value(site, records)
            if not projected:
                kept.append(site)
        return kept

    def site_value(self, site: Site, records: Records) -> tuple[Any, bool]:
        """One site's value from the records, and whether it came from them (else it is the upstream's)."""
        source = None if site.include_tax and site.tax_rate is None else self._source(site, records)
        field_def = self.schema.get_type(site.owner).fields[site.name]  # type: ignore[union-attr]
        upstream = site.upstream.value() if isinstance(site.upstream, Packed) else site.upstream
        if source is None:
            return self.render(upstream, field_def.type, site.nodes), False
        type_name = "Prices" if site.name == "prices" else f"{site.owner}Inventory"
        return self.project(type_name, source, upstream, site.nodes), True

    def _source(self, site: Site, records: Records) -> PricesSource | StockSource | None:
        if site.name == "prices":
            found = [records.prices.get((site.currency, sku)) for sku in site.skus]
            default = found[0] if found else None
            if default is None:
                return None
            rate, places = site.tax_rate, currency_places(site.currency)
            own_view = view_of(default, tax_rate=rate, places=places)
            view = with_ranges(own_view, [view_of(r, tax_rate=rate, places=places) for r in found if r is not None])
            return PricesSource(view, bool(default.bulk_tiers))
        levels: dict[int, StockLevel] = {}
        for sku in site.skus:
            for location_id, level in (records.stock.get(sku) or {}).items():
                previous = levels.get(location_id)
                levels[location_id] = level if previous is None else _sum_levels(previous, level)
        return StockSource(levels) if levels else None

    def _plan(self, type_name: str, nodes: list[FieldNode]) -> list[Step]:
        """How ``project`` fills ``type_name`` under ``nodes``: made once per overlay (the same for every site,
        every Money of the page), not once per object — field collection and argument coercion were most of a
        site's projection."""
        planned = self._plans.get((type_name, id(nodes)))
        if planned is not None and planned[0] is nodes:
            return planned[1]
        gtype = self.schema.get_type(type_name)
        assert isinstance(gtype, GraphQLObjectType), type_name
        resolvers = RESOLVERS.get(type_name, {})
        steps: list[Step] = []
        for key, fnodes in self.collector.subfields(type_name, nodes).items():
            if key.startswith("_pe"):
                continue
            name = fnodes[0].name.value
            if name == "__typename":
                steps.append(Step(key, None, None, {}, fnodes))
                continue
            field_def = gtype.fields[name]
            resolver = resolvers.get(name)
            args = {} if resolver is None else self.collector.arguments(field_def, fnodes[0])
            steps.append(Step(key, field_def.type, resolver, args, fnodes))
        self._plans[(type_name, id(nodes))] = (nodes, steps)
        return steps

    def project(self, type_name: str, source: Any, upstream: Any, nodes: list[FieldNode]) -> dict[str, Any]:
        upstream_dict = upstream if isinstance(upstream, dict) else {}
        out: dict[str, Any] = {}
        for key, field_type, resolver, args, fnodes in self._plan(type_name, nodes):
            if field_type is None:  # __typename
                out[key] = type_name
                continue
            up = upstream_dict.get(key)
            result = KEEP if resolver is None else resolver(source, args, up)
            if result is KEEP:
                out[key] = self.render(up, field_type, fnodes)
            elif isinstance(result, Obj):
                out[key] = self.project(result.type_name, result.source, result.upstream if result.has_upstream else up,
                                        fnodes)
            elif isinstance(result, list):
                out[key] = [self.project(o.type_name, o.source, o.upstream, fnodes) if isinstance(o, Obj) else o
                            for o in result]
            else:
                out[key] = result
        return out


def _site_skus(owner: str, name: str, sku: Any, variants: tuple[tuple[int, str], ...]) -> tuple[str, ...]:
    """The SKUs a site is computed from, the one shown first (its prices; the range over all)."""
    if owner == "Variant":
        return (sku,) if isinstance(sku, str) and sku else ()
    variant_skus = tuple(v_sku for _, v_sku in variants)
    if isinstance(sku, str) and sku in variant_skus and len(variant_skus) > 1:
        # BigCommerce's variant overlay: product(variantEntityId:|optionValueIds:|sku:) answers the selected
        # variant's SKU on the product, and that variant's prices and stock (the range stays the product's).
        # A product's own SKU is never one of its variants' unless it has only one.
        return (sku,) if name == "inventory" else (sku, *(v for v in variant_skus if v != sku))
    return variant_skus or ((sku,) if isinstance(sku, str) and sku else ())


def _tax_rate(value: dict[str, Any], node: FieldNode, currency: str) -> Decimal | None:
    """The rate BigCommerce applied to this object's price for this buyer: from its own inclusive and
    exclusive values, which the rewritten document asked for next to ``node`` (document.tax_aliases)."""
    aliases = tax_aliases(node)
    if aliases is None:
        return None
    inclusive, exclusive = (((value.get(alias) or {}).get("price") or {}).get("value") for alias in aliases)
    if inclusive is None or exclusive is None:
        return None
    return rate_between(Decimal(str(exclusive)), Decimal(str(inclusive)), currency_places(currency))


def _sum_levels(a: StockLevel, b: StockLevel) -> StockLevel:
    """Two SKUs' stock at one location, summed for a product-level figure."""
    return StockLevel(a.sku, a.location_id, a.available_to_sell + b.available_to_sell, 0, 0,
                      a.backorder or b.backorder, None, max(a.version, b.version))
