"""The merge: BigCommerce's membership, the buyer's prices from the records, the order and the page
computed here (``domain/listing.py``), the product cards and everything else of the document from
BigCommerce. The result is an upstream-shaped body; the overlay then puts the buyer's prices on it.
"""
from __future__ import annotations

import asyncio
import copy
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from graphql import FieldNode, GraphQLError, GraphQLSchema, OperationDefinitionNode

from pricing_edge.bigcommerce.storefront import StorefrontClient, UpstreamUnavailable
from pricing_edge.domain.listing import CursorError, Member, Page, arrange, page, price_range
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.edge.document import ID_ALIAS, DocumentCache, PreparedDocument
from pricing_edge.edge.fields import FieldCollector
from pricing_edge.edge.listing.facets import FacetCounts
from pricing_edge.edge.listing.membership import Membership, MembershipCache
from pricing_edge.edge.listing.plan import (
    FILTERS_VAR,
    FIRST_VAR,
    IDS_VAR,
    PAGE_ALIAS,
    ListingSite,
    ProductsField,
    page_document,
    without_price,
)
from pricing_edge.edge.records import ErpDeadline, Lookup, RecordService
from pricing_edge.edge.response_cache import Tag, price_tag
from pricing_edge.edge.skeletons import Skeleton, SkeletonCache
from pricing_edge.jsonio import dumps


class ListingError(Exception):
    """BigCommerce refused or failed one of the merge's requests: its answer is passed on."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"upstream answered {status}")
        self.status = status
        self.body = body


@dataclass
class Composed:
    body: dict[str, Any]
    tags: list[Tag] = field(default_factory=list)
    lookup: Lookup[Any, Any] | None = None
    changed: bool = False  # a cursor's side of the listing changed since it was issued
    stale: bool = False  # BigCommerce down: an answer of its kept from before was used
    oldest_ms: int | None = None


class PriceListings:
    def __init__(self, schema: GraphQLSchema, documents: DocumentCache, upstream: StorefrontClient,
                 records: RecordService, memberships: MembershipCache, skeletons: SkeletonCache | None = None) -> None:
        self.schema = schema
        self.skeletons = skeletons
        self.documents = documents
        self.upstream = upstream
        self.records = records
        self.memberships = memberships

    async def compose(self, site: ListingSite, document: PreparedDocument, sent: OperationDefinitionNode,
                      variables: Mapping[str, Any], collector: FieldCollector, price_list_id: int,
                      visibility_key: str, default_currency: str, headers: Mapping[str, str],
                      erp_deadline: ErpDeadline | None = None) -> Composed:
        """Raises ``GraphQLError`` (a bad cursor), ``ListingError``, the membership's errors. ``erp_deadline``:
        the request's one ERP budget, shared with the overlay's lookups."""
        membership = await self.memberships.get(visibility_key, site.member_filters, site.member_sort, headers)
        currency = site.currency or default_currency
        lookup = await self.records.price_lookup(price_list_id, currency, [sku for _, sku in membership.products],
                                                 erp_deadline)
        members = [Member(pid, rank, _price(lookup.found.get((price_list_id, currency, sku))))
                   for rank, (pid, sku) in enumerate(membership.products)]
        in_range = price_range(site.filters.get("price"))
        ordered = arrange(members, site.sort, in_range)
        try:
            pages = {p.key: page(ordered, site.sort, first=p.args.get("first"), last=p.args.get("last"),
                                 after=p.args.get("after"), before=p.args.get("before")) for p in site.products}
        except CursorError as exc:
            raise GraphQLError(str(exc)) from None
        last_good: list[int] = []  # BigCommerce down: when the answers used instead were fetched
        main, cards = await asyncio.gather(
            self._rest(site, document, sent, variables, headers, visibility_key, last_good),
            self._cards(site, document, sent, variables, list(pages.values()), _ahead(ordered, pages.values()),
                        headers, visibility_key, last_good))
        main = copy.deepcopy(main)  # the listing is rewritten in place; BigCommerce's answer stays as kept
        listing = _at(main.get("data"), site.path)
        counted: list[str] = []  # SKUs whose prices the facet counts used
        if isinstance(listing, dict):
            for products in site.products:
                listing[products.key] = _connection(collector, products, pages[products.key], cards)
            facets = FacetCounts(collector, site)
            facets.survey(listing)
            if in_range is not None:  # without a price filter, BigCommerce's counts are the buyer's

                async def members_of(filters: dict[str, Any]) -> Membership:
                    return await self.memberships.get(visibility_key, filters, None, headers)

                async def prices_of(skus: list[str]) -> dict[str, Decimal | None]:
                    found = await self.records.price_lookup(price_list_id, currency, skus, erp_deadline)
                    counted.extend(skus)
                    return {sku: _price(found.found.get((price_list_id, currency, sku))) for sku in skus}

                await facets.recount(in_range, members_of, prices_of)
        skus = dict.fromkeys([*(sku for _, sku in membership.products), *counted])
        oldest = min([membership.fetched_ms, *(t for t in last_good if t)])
        return Composed(main, [price_tag(price_list_id, sku) for sku in skus], lookup,
                        any(p.changed for p in pages.values()), bool(last_good), oldest)

    async def _ask(self, text: str, variables: dict[str, Any], operation_name: str | None,
                   headers: Mapping[str, str], visibility_key: str, last_good: list[int]) -> dict[str, Any]:
        """BigCommerce's answer, kept per visibility scope for the catalog TTL (a price event reorders a listing
        without asking again); while BigCommerce is down, the last good one (its time noted in ``last_good``)."""
        prepared = self.documents.prepare(text)
        op = prepared.operation(operation_name)
        declared = {v.variable.name.value for v in op.variable_definitions or ()}
        sent = {k: v for k, v in variables.items() if k in declared}
        digest = hashlib.sha256(prepared.key.encode() + orjson.dumps(sent, option=orjson.OPT_SORT_KEYS)).hexdigest()
        key = f"lk:{visibility_key}:{digest[:32]}"
        kept = await self.skeletons.get(key) if self.skeletons is not None else None
        if kept is not None and self.skeletons is not None and self.skeletons.fresh(kept):
            return kept.body
        try:
            answer = await self.upstream.execute(prepared.upstream_text, sent, operation_name, headers)
            self.memberships.count("ok" if answer.status == 200 else str(answer.status))
        except UpstreamUnavailable:
            self.memberships.count("unavailable")
            if kept is None:
                raise
            last_good.append(kept.fetched_ms)
            return kept.body
        body = answer.json() if answer.status == 200 else None
        if not isinstance(body, dict) or body.get("data") is None:
            raise ListingError(answer.status, answer.body)
        if self.skeletons is not None and not body.get("errors"):
            await self.skeletons.put(key, body, answer.body)
        return body

    async def _rest(self, site: ListingSite, document: PreparedDocument, sent: OperationDefinitionNode,
                    variables: Mapping[str, Any], headers: Mapping[str, str], visibility_key: str,
                    last_good: list[int]) -> dict[str, Any]:
        text = without_price(self.schema, document.document, sent, site)
        name = sent.name.value if sent.name else None
        return await self._ask(text, {**variables, FILTERS_VAR: site.member_filters}, name, headers, visibility_key,
                               last_good)

    async def _cards(self, site: ListingSite, document: PreparedDocument, sent: OperationDefinitionNode,
                     variables: Mapping[str, Any], pages: list[Page], ahead: list[int], headers: Mapping[str, str],
                     visibility_key: str, last_good: list[int]) -> dict[int, Any]:
        """The page's product cards (edges as the client selects them), by product id. Each card is kept on its
        own per visibility scope, and the cards of the next page are fetched along with missing ones, so a
        price event that shifts a page rarely needs BigCommerce; while it is down every card seen is shown."""
        wanted = list(dict.fromkeys(m.entity_id for p in pages for m in p.items))
        if not wanted:
            return {}
        operation = document.operation(sent.name.value if sent.name else None)
        prepared = self.documents.prepare(page_document(operation, list(document.fragments.values()), site.products))
        op = prepared.operation("_pePageProducts")
        declared = {v.variable.name.value for v in op.variable_definitions or ()} - {IDS_VAR, FIRST_VAR}
        sent_vars = {k: v for k, v in variables.items() if k in declared}
        digest = hashlib.sha256(prepared.key.encode() + orjson.dumps(sent_vars, option=orjson.OPT_SORT_KEYS))
        prefix = f"lc:{visibility_key}:{digest.hexdigest()[:32]}:"
        looked = list(dict.fromkeys([*wanted, *ahead]))
        kept = dict(zip(looked, await asyncio.gather(*(self._card(prefix, pid) for pid in looked)), strict=True))
        cards = {pid: card.body for pid, card in kept.items() if card is not None and self._fresh(card)}
        if all(pid in cards for pid in wanted):
            return cards
        missing = [pid for pid in looked if pid not in cards]
        size = max(len(p.items) for p in pages)  # no larger a page than the client asked: the same complexity

        async def fetch(chunk: list[int]) -> None:
            answer = await self.upstream.execute(prepared.upstream_text,
                                                 {**sent_vars, IDS_VAR: chunk, FIRST_VAR: len(chunk)},
                                                 "_pePageProducts", headers)
            self.memberships.count("ok" if answer.status == 200 else str(answer.status))
            body = answer.json() if answer.status == 200 else None
            if not isinstance(body, dict) or body.get("data") is None:
                raise ListingError(answer.status, answer.body)
            for edge in ((body["data"].get("site") or {}).get(PAGE_ALIAS) or {}).get("edges") or []:
                product_id = _edge_product_id(edge)
                if product_id is not None:
                    cards[product_id] = edge
                    if self.skeletons is not None:
                        await self.skeletons.put(prefix + str(product_id), edge, dumps(edge))

        try:
            await asyncio.gather(*(fetch(missing[i:i + size]) for i in range(0, len(missing), size)))
        except UpstreamUnavailable:
            self.memberships.count("unavailable")
            for pid in wanted:
                card = kept.get(pid)
                if pid not in cards and card is not None:
                    cards[pid] = card.body
                    last_good.append(card.fetched_ms)
            if any(pid not in cards for pid in wanted):
                last_good.append(0)  # a product never seen: left out of the page, the answer flagged
        return cards

    async def _card(self, prefix: str, product_id: int) -> Skeleton | None:
        return await self.skeletons.get(prefix + str(product_id)) if self.skeletons is not None else None

    def _fresh(self, kept: Skeleton) -> bool:
        return self.skeletons is not None and self.skeletons.fresh(kept)


def _ahead(ordered: list[Member], pages: Iterable[Page]) -> list[int]:
    """The products right after each page (as many as it holds): where a price event's shift comes from."""
    position = {m.entity_id: i for i, m in enumerate(ordered)}
    found: list[int] = []
    for listed in pages:
        if listed.items:
            last = position[listed.items[-1].entity_id]
            found += [m.entity_id for m in ordered[last + 1:last + 1 + len(listed.items)]]
    return found


def _price(record: PriceRecord | None) -> Decimal | None:
    return None if record is None else record.effective_price


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _edge_product_id(edge: Any) -> int | None:
    if not isinstance(edge, dict):
        return None
    for value in edge.values():
        if isinstance(value, dict) and isinstance(value.get(ID_ALIAS), int):
            return int(value[ID_ALIAS])
    return None


def _connection(collector: FieldCollector, products: ProductsField, listed: Page, cards: dict[int, Any]) -> dict[str, Any]:
    """The client's ``products`` connection over the buyer's page (a product gone since is left out)."""
    out: dict[str, Any] = {}
    shown = [(member, cursor) for member, cursor in zip(listed.items, listed.cursors, strict=True)
             if member.entity_id in cards]
    for key, nodes in collector.subfields("ProductConnection", products.nodes).items():
        name = nodes[0].name.value
        if name == "edges":
            out[key] = [_edge(collector, nodes, cards[m.entity_id], cursor) for m, cursor in shown]
        elif name == "pageInfo":
            out[key] = _page_info(collector, nodes, listed, shown)
        elif name == "collectionInfo":
            out[key] = {k: listed.total if n[0].name.value == "totalItems" else "CollectionInfo"
                        for k, n in collector.subfields("CollectionInfo", nodes).items()}
        elif name == "__typename":
            out[key] = "ProductConnection"
    return out


def _edge(collector: FieldCollector, nodes: list[FieldNode], card: dict[str, Any], cursor: str) -> dict[str, Any]:
    edge = dict(card)
    for key, fnodes in collector.subfields("ProductEdge", nodes).items():
        if fnodes[0].name.value == "cursor":
            edge[key] = cursor
    return edge


def _page_info(collector: FieldCollector, nodes: list[FieldNode], listed: Page,
               shown: list[tuple[Member, str]]) -> dict[str, Any]:
    values = {"hasNextPage": listed.has_next, "hasPreviousPage": listed.has_previous,
              "startCursor": shown[0][1] if shown else None, "endCursor": shown[-1][1] if shown else None,
              "__typename": "PageInfo"}
    return {key: values.get(fnodes[0].name.value) for key, fnodes in collector.subfields("PageInfo", nodes).items()}
