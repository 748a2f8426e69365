"""The miss path of ``/graphql``: an answer computed for a buyer's scope, and a kept answer re-projected.

Compute: catalog skeleton for (visibility scope, …) from L1/L2 or the upstream (or synthesized from the catalog
index) → overlay → records (L1 → L2 → one coalesced ERP read, ``edge/reprojection.look_up``) → bytes, kept with
the tags of the records used and, where it can be, as bytes with holes (``edge/holes.py``).
Re-project: a kept answer with holes after a change, only its changed sites projected again.
Only answers that reach nothing but catalog types are shared (edge/sharing.py: concrete selections when the
document is prepared, the runtime types at abstract positions when it is answered); anything else — customer,
cart, checkout, order, mutations — is forwarded and overlaid for this buyer alone. The hit path, which runs
none of this, is ``edge/graphql_endpoint.py``.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson
from cachetools import LRUCache
from graphql import (
    FieldNode, GraphQLError, GraphQLSchema, NameNode, OperationDefinitionNode, OperationType, get_variable_values,
)
from starlette.requests import Request
from starlette.responses import Response

from pricing_edge.bigcommerce.storefront import COMPLEXITY_HEADER, StorefrontClient, UpstreamUnavailable, forwarded
from pricing_edge.domain.freshness import UsedRecord
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.money import MoneyError
from pricing_edge.domain.reservations import less_reservations
from pricing_edge.domain.scope import Scope
from pricing_edge.edge.answer_flags import STALE_HEADER, Filled, finish, headers_for
from pricing_edge.edge.buyers import BuyerResolver
from pricing_edge.edge.cart_guard import Refuse
from pricing_edge.edge.cart_path import CartCall, CartPath
from pricing_edge.edge.cart_prices import PRICED_MUTATIONS, CartPriceError, CartPrices
from pricing_edge.edge.catalog_index import CatalogIndex
from pricing_edge.edge.clients import Network, RefusedDocuments, client_address
from pricing_edge.edge.credit import CreditService, order_total
from pricing_edge.edge.document import (
    CART_ALIAS,
    PAGE_VARIABLE,
    VARIANT_PAGE,
    DocumentCache,
    PreparedDocument,
    variant_page_query,
)
from pricing_edge.edge.fields import FieldCollector
from pricing_edge.edge.hit_response import HitResponse
from pricing_edge.edge.holes import punch
from pricing_edge.edge.limits import check_limits, complexity, largest_page, operation_named
from pricing_edge.edge.listing.answer import listing_answer
from pricing_edge.edge.listing.merge import PriceListings
from pricing_edge.edge.listing.plan import find_listing
from pricing_edge.edge.overlay import Overlay, Records
from pricing_edge.edge.records import ErpDeadline, Lookup, RecordService
from pricing_edge.edge.reprojection import Looked, ShownStock, look_up, reproject
from pricing_edge.edge.requests import GraphQLRequest, error_response
from pricing_edge.edge.response_cache import CATALOG_AHEAD, ResponseCache, price_tag, stock_tag
from pricing_edge.edge.schema import extension_fields
from pricing_edge.edge.single_flight import SingleFlight
from pricing_edge.edge.skeletons import Skeleton, SkeletonCache
from pricing_edge.edge.synthesis import Synthesizer
from pricing_edge.edge.unreserved import Unreserved
from pricing_edge.jsonio import dumps
from pricing_edge.ops import tracing
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import StoreError

log = logging.getLogger(__name__)
JSON = "application/json"

MAX_VARIANT_PAGES = 20  # BigCommerce allows 600 variants per product: 12 pages of 50
VARIANT_BATCH = 40  # products paged by one upstream request (40 × 152 stays well under the complexity limit)


@dataclass(frozen=True)
class Answer:
    """A computed response, in a form every request waiting for the same answer can be given."""

    body: bytes
    status: int
    stale: bool
    personal: bool  # reached beyond the catalog: only for the buyer it was computed for (edge/sharing.py)
    complexity: str | None = None

    @classmethod
    def of(cls, response: Response) -> Answer:
        return cls(bytes(response.body), response.status_code, STALE_HEADER.lower() in response.headers,
                   isinstance(response, PersonalResponse), response.headers.get(COMPLEXITY_HEADER))

    def response(self) -> Response | HitResponse:
        if self.status == 200:  # sent as a hit is: the same messages, with no Response built around them
            return HitResponse(self.body, self.stale, self.complexity)
        headers = headers_for(self.stale)
        if self.complexity:
            headers[COMPLEXITY_HEADER] = self.complexity
        return Response(self.body, self.status, media_type=JSON, headers=headers or None)


class PersonalResponse(Response):
    """An answer that reached beyond the catalog (a cart, an order, a customer): its buyer's alone."""


def tax_zone_key(scope: Scope, document: PreparedDocument) -> str:
    """What a tax-inclusive answer depends on besides the scope: the buyer's tax zone. BigCommerce finds a
    logged-in customer's zone from that customer's address and a guest's from the store's guest zone; the
    edge knows neither address nor zones, so it keys by what decides the zone — the customer, or "guest".
    Documents without ``includeTax`` do not depend on it and stay shared by the whole scope."""
    if not document.taxed:
        return ""
    return "tz:guest" if scope.customer_id is None else f"tz:c{scope.customer_id}"


def errors_body(errors: list[GraphQLError]) -> bytes:
    return orjson.dumps({"errors": [e.formatted for e in errors]})


@dataclass
class EdgeSettings:
    currency: str = "USD"
    catalog_ttl: float = 300.0
    trusted_proxy_secret: str | None = None
    trusted_proxies: tuple[Network, ...] = ()
    upstream_budget: float = 2.5  # seconds a query waits for BigCommerce in all
    catalog_index_bytes: int = 16 * 2**20  # what the catalog index may hold (edge/catalog_index.py)


class ComputePath:
    """What ``/graphql`` computes when no kept answer serves: the endpoint (``GraphQLEndpoint``) adds the hit path."""

    def __init__(self, schema: GraphQLSchema, upstream: StorefrontClient, buyers: BuyerResolver,
                 records: RecordService, responses: ResponseCache, skeletons: SkeletonCache, metrics: EdgeMetrics,
                 settings: EdgeSettings) -> None:
        self.schema = schema
        self.documents = DocumentCache(schema, extension_fields=extension_fields())
        self.upstream = upstream
        self.buyers = buyers
        self.records = records
        self.responses = responses
        self.skeletons = skeletons
        self.metrics = metrics
        self.settings = settings
        self.index = CatalogIndex(settings.catalog_ttl, settings.catalog_index_bytes, metrics)
        self.synthesizer = Synthesizer(schema, self.index)
        self.cart_path: CartPath | None = None
        self.cart_prices: CartPrices | None = None
        self.credit: CreditService | None = None
        self.listings: PriceListings | None = None  # set by the app: listings by the buyer's price
        self.answers: SingleFlight[Answer] = SingleFlight()
        self.refusals = RefusedDocuments()  # clients whose documents the budget keeps refusing
        # X-Bc-Graphql-Complexity: once the upstream is seen to send it, every answer carries the score of
        # the client's own document (the rewritten one the upstream scored is larger), hits included.
        self.scores_complexity = False
        self._complexity: LRUCache[tuple[Any, ...], str] = LRUCache(maxsize=20_000)
        self.unreserved = Unreserved(records.clock.monotonic)  # told by the app's invalidations (``forget``)
        # by whether the re-projection was kept: a metric's ``labels`` takes a lock and a lookup on every call
        self._reprojections = {kept: metrics.reprojections.labels("kept" if kept else "served") for kept in (True, False)}

    def complexity_of(self, cache_key: tuple[Any, ...]) -> str | None:
        """The client's document's complexity score for an answer (``X-Bc-Graphql-Complexity``), once the upstream
        is seen to send it; None before, or for an answer not scored here."""
        if not self.scores_complexity:
            return None
        try:  # not ``get``: an LRU's is a second lookup, and this is on every hit
            return self._complexity[cache_key]
        except KeyError:
            return None

    @tracing.traced("graphql.answer")
    async def _compute(self, request: Request, gql: GraphQLRequest, scope: Scope, document: PreparedDocument,
                       cache_key: tuple[Any, ...], catalog_due: bool = False, *, fresh_catalog: bool = False
                       ) -> Response:
        """``catalog_due``: a kept answer renewed ahead of its catalog part's end (``response_cache``): a catalog
        part in that last share of its life is asked again, not reused. ``fresh_catalog``: a skeleton past its TTL
        is not used, BigCommerce is asked (the background renewal of one: ``SkeletonCache.renew``)."""
        try:
            operation = document.operation(gql.operation_name)
        except GraphQLError as exc:
            return Response(errors_body([exc]), 200, media_type=JSON)
        if request.method == "GET" and operation.operation is OperationType.MUTATION:
            return error_response("Mutations must be sent with POST.", 405)
        variables = get_variable_values(self.schema, operation.variable_definitions or (), gql.variables)
        if isinstance(variables, list):
            return Response(errors_body(variables), 200, media_type=JSON)
        sent = operation_named(document.document, gql.operation_name)  # limits apply to the client's document
        limit_errors = check_limits(self.schema, document.document, sent, variables) if sent else []
        if limit_errors:
            return Response(errors_body(limit_errors), 200, media_type=JSON)
        if sent is not None and cache_key not in self._complexity:
            self._complexity[cache_key] = str(complexity(self.schema, document.document, sent, variables))
        generation = self.responses.generation
        root = self.schema.mutation_type if operation.operation is OperationType.MUTATION else self.schema.query_type
        assert root is not None
        collector = document.collector(self.schema, variables)
        root_field = FieldNode(name=NameNode(value=root.name), selection_set=operation.selection_set)
        cart_call = None
        headers: dict[str, str] = {}  # the buyer's, as BigCommerce gets them: the cart path asks it on their behalf
        if operation.operation is OperationType.MUTATION and self.cart_path is not None:
            headers = self.forwarded(request)
            cart_call = await self.cart_path.check(root_field, collector, headers)
            if cart_call is not None and isinstance(cart_call.decision, Refuse):
                return Response(dumps(cart_call.refusal()), media_type=JSON)
        # The buyer's token vouched for by a last-good answer only: BigCommerce could not be asked.
        verified = Filled(degraded={"upstream"}) if self.buyers.last_good(request.headers) else Filled()
        if self.listings is not None and document.shareable and sent is not None:
            listing = find_listing(self.schema, collector, root_field)
            if listing is not None:
                answered = await listing_answer(self, request, gql, scope, document, sent, listing, collector,
                                                root_field, cache_key)
                if answered is not None:
                    return answered
        skeleton_key = self._skeleton_key(scope, document, gql)
        skeleton = await self.skeletons.get(skeleton_key) if skeleton_key else None
        if skeleton is None and skeleton_key and document.touches_owned:
            synthesized = self.synthesizer.answer(root_field, collector, scope.visibility_key)
            if synthesized is not None:
                overlay = Overlay(self.schema, collector, scope.currency)
                overlay.records_only = True
                data = overlay.render(synthesized.body["data"], root, [root_field])
                filled = (await self._fill(overlay, scope, self._erp_deadline(request))).merge(verified)
                if filled.complete:
                    self.metrics.synthesized.inc()
                    # Kept with holes until the index would no longer build it: an event re-projects it, as
                    # any other kept answer, rather than dropping it to be built, filled and serialized anew.
                    left = synthesized.ends - self.index.clock()
                    until_ms = self.responses.wall_ms() + int(left * 1000) if left < math.inf else None
                    holes = None if until_ms is None else (overlay, scope.price_list_id, until_ms)
                    return self._respond({"data": data}, document, cache_key, filled, generation, holes)
        catalog_note = Filled()
        fresh_raw: bytes | None = None  # BigCommerce's answer as received, when this request asked for one
        catalog_ms = self.skeletons.wall_ms()  # when the catalog part was learned
        # Past its TTL (within one more): this answer is built on it now, BigCommerce asked again in the background
        # — unless this is such a background computation already (a renewal, or a kept answer renewed ahead).
        renewing = skeleton_key if (skeleton is not None and not fresh_catalog and not catalog_due
                                    and self.skeletons.renewable(skeleton)) else None
        if renewing is not None:
            self.skeletons.renew(renewing, lambda: self._compute(request, gql, scope, document, cache_key,
                                                                 fresh_catalog=True))
        share = 1 - CATALOG_AHEAD if catalog_due else 1.0
        if skeleton is not None and (renewing is not None or self.skeletons.fresh(skeleton, share)):
            body = skeleton.body
            catalog_ms = skeleton.fetched_ms
            if renewing is not None and self.skeletons.renewals.failing(renewing):  # BigCommerce could not renew it
                catalog_note = self._last_good_catalog(skeleton)
        else:
            upstream_body = await self._ask_upstream(request, document, gql, "renewal" if fresh_catalog else "query")
            if operation.operation is OperationType.MUTATION and any(
                    nodes[0].name.value == "logout" for nodes in collector.subfields(root.name, [root_field]).values()):
                await self.buyers.forget_access_token(request.headers)  # revoked: no longer this customer
            if cart_call is not None:
                await cart_call.settle(None if isinstance(upstream_body, Response) else upstream_body[0]["data"])
                if not isinstance(upstream_body, Response) and self.cart_prices is not None:
                    failed = await self._price_cart(cart_call, upstream_body[0]["data"], operation, document, collector,
                                                    gql, scope, headers, self._erp_deadline(request))
                    if failed is not None:
                        return Response(dumps(failed), media_type=JSON)
            if isinstance(upstream_body, Response):
                if skeleton is None or upstream_body.status_code != 503:
                    return upstream_body
                body = skeleton.body  # BigCommerce is down: the last good catalog answer, flagged
                catalog_note = self._last_good_catalog(skeleton)
            else:
                body, fresh_raw = upstream_body
        overlay = Overlay(self.schema, collector, scope.currency)
        overlay.extension_fields = self.documents.extension_fields
        data = overlay.render(body["data"], root, [root_field])
        if overlay.paging:
            await self._page_variants(overlay, request, scope)
        if not overlay.shareable:
            document = replace(document, shareable=False)  # this answer is this buyer's alone
        elif skeleton_key and fresh_raw is not None and not body.get("errors"):
            await self.skeletons.put(skeleton_key, body, fresh_raw)
        self.index.learn(scope.visibility_key, overlay.seen.values())
        filled = (await self._fill(overlay, scope, self._erp_deadline(request))).merge(catalog_note).merge(verified)
        await self._answer_extensions(overlay, scope)
        result: dict[str, Any] = {"data": data}
        if body.get("errors"):
            result["errors"] = body["errors"]
        holes = (overlay, scope.price_list_id, catalog_ms + int(self.skeletons.ttl * 1000))
        return self._respond(result, document, cache_key, filled, generation, holes)

    def _last_good_catalog(self, skeleton: Skeleton) -> Filled:
        """What an answer built on a catalog part BigCommerce could not renew says: stale, upstream degraded."""
        return Filled(used=[UsedRecord(skeleton.fetched_ms, int(self.skeletons.ttl * 1000))], degraded={"upstream"})

    def _respond(self, result: dict[str, Any], document: PreparedDocument, cache_key: tuple[Any, ...],
                 filled: Filled, generation: int, holes: tuple[Overlay, int, int] | None = None) -> Response:
        """The answer, with DESIGN.md's freshness flags (the header if and only if the body says stale);
        only a fresh, whole, shareable answer is kept for reuse, and only until its first record's TTL ends.
        ``holes`` (its overlay, price list, the end of its catalog part): kept so, it is re-projected after a
        change, or once its records are past their TTL, rather than recomputed (``edge/holes.py``) — also when
        its records are already past it (then only its holes are kept), unless BigCommerce could not be asked."""
        done = finish(result, filled, self.records.clock.wall_ms(), self.responses.ttl)
        headers = headers_for(done.stale)
        score = self.complexity_of(cache_key)
        if score:
            headers[COMPLEXITY_HEADER] = score
        if not document.shareable:
            return PersonalResponse(done.body, media_type=JSON, headers=headers)
        spent = done.keep_for is None and holes is not None and "upstream" not in filled.degraded
        if "errors" not in result and (done.keep_for is not None or spent):
            punched = punch(result, *holes, used_by_key=filled.by_key) if holes is not None and filled.complete else None
            if punched is not None and punched.body() != done.body:
                log.error("an answer's bytes with holes differ from its bytes; kept whole")
                punched = None
            self.responses.put(cache_key, done.body, filled.tags, generation, lifetime=done.keep_for, holes=punched,
                               spent=spent)
        return Response(done.body, media_type=JSON, headers=headers)

    async def _reproject(self, request: Request, scope: Scope, cache_key: tuple[Any, ...]) -> Answer | None:
        """A kept answer with holes, its changed sites (or, once its records are past their TTL, all) re-projected
        and its flags anew; None: computed anew (none kept, or its catalog part is due from BigCommerce again)."""
        began = self.responses.reprojectable(cache_key)
        if began is None:
            return None
        verified = {"upstream"} if self.buyers.last_good(request.headers) else set()

        async def look(prices: Mapping[str, set[str]], stock: set[str]) -> Looked | None:
            return await look_up(self.records, self._shown_stock, scope.price_list_id, prices, stock,
                                 self._erp_deadline(request))

        try:
            done = await reproject(began.holes, began.dirty, look, verified, self.records.clock.wall_ms,
                                   self.responses.ttl)
        except BaseException:
            self.responses.abandon(cache_key, began)
            raise
        if done is None:
            self.responses.abandon(cache_key, began)
            return None
        kept = self.responses.reprojected(cache_key, began, done.holes, done.body, done.keep_for)
        self._reprojections[kept].inc()
        self.metrics.reprojected_sites.inc(done.sites)
        return Answer(done.body, 200, done.stale, False, self.complexity_of(cache_key))

    async def _ask_upstream(self, request: Request, document: PreparedDocument, gql: GraphQLRequest,
                            purpose: str = "query") -> tuple[dict[str, Any], bytes] | Response:
        """BigCommerce's answer (parsed exactly, and raw), or the response to give when there is none. ``purpose``:
        the calls' metric label — "query" for a request's, "renewal" for a stale catalog part's in the background."""
        headers = self.forwarded(request)
        variables = gql.variables
        operation = operation_named(document.upstream, gql.operation_name) if document.upstream else None
        if operation is not None and any(v.variable.name.value == PAGE_VARIABLE for v in operation.variable_definitions or ()):
            assert document.upstream is not None
            page = largest_page(self.schema, document.upstream, operation, gql.variables, PAGE_VARIABLE, VARIANT_PAGE)
            variables = {**gql.variables, PAGE_VARIABLE: page}  # the rewrite stays within BigCommerce's limit
        deadline = None if document.has_mutation else getattr(request.state, "upstream_deadline", None)
        try:
            async with asyncio.timeout_at(deadline):  # a mutation is never cut short: it may have happened
                answer = await self.upstream.execute(document.upstream_text, variables, gql.operation_name, headers)
        except TimeoutError:
            self.metrics.upstream_calls.labels(purpose, "over_budget").inc()
            log.warning("upstream did not answer within the budget")
            return error_response("The storefront API is unavailable; try again shortly.", 503)
        except UpstreamUnavailable as exc:
            self.metrics.upstream_calls.labels(purpose, "unavailable").inc()
            log.warning("upstream unavailable: %s", exc)
            return error_response("The storefront API is unavailable; try again shortly.", 503)
        self.metrics.upstream_calls.labels(purpose, "ok" if answer.status == 200 else str(answer.status)).inc()
        self.scores_complexity = self.scores_complexity or answer.complexity is not None
        body = answer.json() if answer.status == 200 else None
        if not isinstance(body, dict) or body.get("data") is None:
            return Response(answer.body, answer.status, media_type=JSON)
        return body, answer.body

    async def _price_cart(self, call: CartCall, data: dict[str, Any], operation: OperationDefinitionNode,
                          document: PreparedDocument, collector: FieldCollector, gql: GraphQLRequest, scope: Scope,
                          headers: dict[str, str], deadline: ErpDeadline) -> dict[str, Any] | None:
        """Set the cart's lines to the buyer's prices and put the re-read cart into ``data``; the error answer
        to give instead when that cannot be done (``edge/cart_prices.py``)."""
        assert self.cart_prices is not None
        value = (data.get(call.cart_key) or {}).get(call.field_key)
        identity = value.get(CART_ALIAS) if isinstance(value, dict) else None
        if call.mutation not in PRICED_MUTATIONS or not isinstance(identity, dict) or value is None:
            return None
        try:
            if await self.cart_prices.apply(identity, scope.price_list_id, deadline):
                for key, nodes in collector.subfields(call.payload_type, list(call.nodes)).items():
                    if nodes[0].name.value == "cart":
                        value[key] = await self.cart_prices.reread(identity["entityId"], nodes, operation,
                                                                   document.fragments, gql.variables, headers)
        except CartPriceError as exc:
            self.metrics.cart_repricing.labels("failed").inc()
            return {"data": {call.cart_key: {call.field_key: None}},
                    "errors": [{"message": str(exc), "path": [call.cart_key, call.field_key]}]}
        self.metrics.cart_repricing.labels("ok").inc()
        return None

    def forwarded(self, request: Request) -> dict[str, str]:
        """The headers sent on to BigCommerce for ``request`` (``forwarded``), with the client it counts as."""
        return forwarded(request.headers, self.client_of(request) if request.client else None,
                         self.settings.trusted_proxy_secret)

    def client_of(self, request: Request, headers: Mapping[str, str] | None = None) -> str:
        """Who the request counts against: True-Client-IP from a trusted proxy, else the peer address."""
        peer = request.scope.get("client")
        return client_address(peer[0] if peer else None, request.headers if headers is None else headers,
                              self.settings.trusted_proxies)

    def _skeleton_key(self, scope: Scope, document: PreparedDocument, gql: GraphQLRequest) -> str | None:
        if not document.shareable:
            return None
        variables = hashlib.sha256(gql.variables_key).hexdigest()[:24]
        zone = tax_zone_key(scope, document)
        return f"sk:{scope.visibility_key}{':' + zone if zone else ''}:{document.key}:{gql.operation_name or ''}:{variables}"

    async def _page_variants(self, overlay: Overlay, request: Request, scope: Scope) -> None:
        """Products with more variants than one page: the rest, page after page, from the upstream (or from
        what the catalog index already learned of them), so that ranges and stock cover every variant.
        Should the upstream fail meanwhile, a product keeps the variants known so far."""
        for entity_id in list(overlay.paging):
            known = self.index.visible(scope.visibility_key, entity_id=entity_id)
            if known is not None and len(known.variants) > len(overlay.paging[entity_id].variants):
                overlay.complete(entity_id, known.variants)
        headers = self.forwarded(request)
        for _ in range(MAX_VARIANT_PAGES):
            cursors = {entity_id: paging.cursor for entity_id, paging in list(overlay.paging.items())[:VARIANT_BATCH]
                       if paging.cursor}
            if not cursors:
                break
            try:
                answer = await self.upstream.execute(variant_page_query(cursors), None, "PricingEdgeVariants", headers)
            except UpstreamUnavailable as exc:
                log.warning("cannot page through variants: %s", exc)
                break
            body = answer.json() if answer.status == 200 else None
            site = (body.get("data") or {}).get("site") if isinstance(body, dict) else None
            if not isinstance(site, dict):
                break
            for entity_id in cursors:
                connection = (site.get(f"p{entity_id}") or {}).get("variants") or {}
                paging = overlay.paging[entity_id]
                edges = [e["node"] for e in connection.get("edges") or [] if e and e.get("node")]
                paging.variants += [(n["entityId"], n["sku"]) for n in edges if n.get("sku")]
                info = connection.get("pageInfo") or {}
                paging.cursor = info.get("endCursor") if info.get("hasNextPage") and edges else None
                if paging.cursor is None:
                    overlay.complete(entity_id, tuple(paging.variants))
        for entity_id in list(overlay.paging):
            overlay.complete(entity_id, tuple(overlay.paging[entity_id].variants))

    async def _answer_extensions(self, overlay: Overlay, scope: Scope) -> None:
        """Our extension fields: the buyer's own company's credit (from the verified scope, never a header)."""
        for site in overlay.extension_sites:
            if (site.owner, site.name) != ("Customer", "b2bCredit") or scope.company_id is None or self.credit is None:
                continue
            try:
                total = order_total(site.args.get("orderTotal"))
            except MoneyError:
                total = None  # GraphQL validation already refused non-numbers; keep the conservative answer
            view = replace(await self.credit.view(scope.company_id), order_total=total)
            site.out[site.key] = overlay.project("B2BCredit", view, None, site.nodes)

    async def _shown_stock(self, lookup: Lookup[str, dict[int, StockLevel]]) -> dict[str, dict[int, StockLevel]]:
        """Shown stock is sellable stock, fresh or stale: on hand − allocated − safety stock − live reservations,
        the reservations taken from the locations in order (``less_reservations``)."""
        if self.cart_path is None or not lookup.found:
            return lookup.found
        guard = self.cart_path.guard
        # SKUs lately read with no hold are not asked again (``edge/unreserved.py``) — unless this process has
        # promised units while Redis was down: then Redis, or the Redis-down rule, says.
        known = self.unreserved.known(lookup.found) if not guard.redis_down.promised else set()
        wanted = [sku for sku in lookup.found if sku not in known]
        generation, read_at = self.unreserved.generation, self.unreserved.clock()
        try:
            reserved = await guard.reservations.reserved_many(wanted) if wanted else {}
        except StoreError:  # Redis unreachable: less what this process last saw held and promised since
            reserved = {sku: guard.redis_down.last_seen.get(sku, 0) + guard.redis_down.promised.get(sku, 0)
                        for sku in lookup.found}
        else:
            guard.redis_down.seen(reserved)
            self.unreserved.learn(reserved, generation, read_at)
        return {sku: {level.location_id: level for level in less_reservations(list(levels.values()), reserved[sku])}
                if reserved.get(sku, 0) > 0 else levels for sku, levels in lookup.found.items()}

    def _erp_deadline(self, request: Request) -> ErpDeadline:
        """The request's one ERP budget, shared by every lookup it makes (listing, overlay, a second try)."""
        deadline = getattr(request.state, "erp_deadline", None)
        if deadline is None:
            deadline = request.state.erp_deadline = self.records.deadline()
        return deadline

    async def _fill(self, overlay: Overlay, scope: Scope, deadline: ErpDeadline) -> Filled:
        return await fill(overlay, self.records, self._shown_stock, scope.price_list_id, deadline)


async def fill(overlay: Overlay, records: RecordService, shown_stock: ShownStock, price_list_id: int,
               deadline: ErpDeadline) -> Filled:
    """Fetch the records ``overlay`` needs (with their freshness) and project them: the same lookups a
    re-projection makes (``reprojection.look_up``: prices per currency and stock together, until the request's
    one ERP deadline, so a never-seen key waits at most one ERP budget in all). The answer is tagged with every
    record it asked for, found or not: a change to any of them must reach it."""
    needs = overlay.needs
    filled = Filled(touched=bool(overlay.sites))
    filled.tags += [price_tag(price_list_id, sku) for skus in needs.prices.values() for sku in skus]
    filled.tags += [stock_tag(sku) for sku in needs.stock]
    looked = await look_up(records, shown_stock, price_list_id, needs.prices, needs.stock, deadline)
    if looked is None:  # records it cannot tell apart: none used, as if the ERP could not be asked
        filled.degraded.add("erp")
        overlay.fill(Records())
        filled.complete = False
        return filled
    filled.used += looked.used.values()
    filled.by_key = looked.used
    filled.degraded |= looked.degraded
    filled.complete = not overlay.fill(looked.records)
    return filled
