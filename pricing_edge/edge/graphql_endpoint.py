"""``/graphql``: the hit path answers stored bytes; the miss path forwards (or reuses) BigCommerce's
answer for the buyer's visibility scope and overlays the ERP's prices and stock on it.

Hit:  buyer → scope → prepared document → answer bytes by (scope, document, operation, variables).
Miss: catalog skeleton for (visibility scope, …) from L1/L2 or the upstream → overlay → records
      (L1 → L2 → one coalesced ERP read) → bytes, kept with the tags of the records used.
Personal documents (customer, cart, checkout, mutations) are never shared: forwarded and overlaid.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import orjson
from graphql import FieldNode, GraphQLError, GraphQLSchema, NameNode, OperationType, get_variable_values
from starlette.requests import Request
from starlette.responses import Response

from pricing_edge.bigcommerce.storefront import StorefrontClient, UpstreamUnavailable, forwarded
from pricing_edge.domain.scope import Scope
from pricing_edge.domain.freshness import UsedRecord
from pricing_edge.edge.answer_flags import STALE_HEADER, Filled, finish, headers_for
from pricing_edge.edge.buyers import BuyerResolver, Refusal
from pricing_edge.edge.clients import Network, TooManyTokens, client_address
from pricing_edge.edge.cart_guard import Refuse
from pricing_edge.edge.cart_path import CartPath
from pricing_edge.edge.catalog_index import CatalogIndex
from pricing_edge.edge.credit import CreditService, order_total
from pricing_edge.edge.schema import extension_fields
from pricing_edge.edge.document import DocumentCache, DocumentError, PreparedDocument
from pricing_edge.edge.fields import FieldCollector
from pricing_edge.edge.limits import check_limits, operation_named
from pricing_edge.edge.overlay import Overlay, Records
from pricing_edge.edge.records import Lookup, RecordService
from pricing_edge.edge.single_flight import SingleFlight
from pricing_edge.edge.skeletons import SkeletonCache
from pricing_edge.edge.response_cache import ResponseCache, price_tag, stock_tag
from pricing_edge.edge.synthesis import Synthesizer
from pricing_edge.edge.requests import BadRequest, GraphQLRequest, error_response, read_graphql_request
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.money import MoneyError
from pricing_edge.domain.reservations import less_reservations
from pricing_edge.store.base import StoreError
from pricing_edge.jsonio import dumps
from pricing_edge.ops import tracing
from pricing_edge.ops.metrics import EdgeMetrics

log = logging.getLogger(__name__)
JSON = "application/json"


@dataclass(frozen=True)
class Answer:
    """A computed response, in a form every request waiting for the same answer can be given."""

    body: bytes
    status: int
    stale: bool

    @classmethod
    def of(cls, response: Response) -> Answer:
        return cls(bytes(response.body), response.status_code, STALE_HEADER.lower() in response.headers)

    def response(self) -> Response:
        return Response(self.body, self.status, media_type=JSON, headers=headers_for(self.stale))


def _errors_body(errors: list[GraphQLError]) -> bytes:
    return orjson.dumps({"errors": [e.formatted for e in errors]})


@dataclass
class EdgeSettings:
    currency: str = "USD"
    catalog_ttl: float = 300.0
    trusted_proxy_secret: str | None = None
    trusted_proxies: tuple[Network, ...] = ()
    upstream_budget: float = 2.5  # seconds a query waits for BigCommerce in all


class GraphQLEndpoint:
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
        self.index = CatalogIndex(settings.catalog_ttl)
        self.synthesizer = Synthesizer(schema, self.index)
        self.cart_path: CartPath | None = None
        self.credit: CreditService | None = None
        self.answers: SingleFlight[Answer] = SingleFlight()

    async def __call__(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            return await self._answer(request)
        except BadRequest as exc:
            return exc.response()
        finally:
            self.metrics.graphql_seconds.observe(time.perf_counter() - started)

    async def _answer(self, request: Request) -> Response:
        gql = await read_graphql_request(request)
        # One budget for every wait on BigCommerce a query makes: the token check, then the document.
        request.state.upstream_deadline = asyncio.get_running_loop().time() + self.settings.upstream_budget
        try:
            async with asyncio.timeout_at(request.state.upstream_deadline):
                scope = await self.buyers.resolve(request.headers, self.client_of(request))
        except TooManyTokens as exc:
            self.metrics.client_limited.labels("unknown_tokens").inc()
            return Response(exc.body(), 429, media_type=JSON, headers=exc.headers())
        except TimeoutError:
            self.metrics.upstream_calls.labels("token", "over_budget").inc()
            log.warning("cannot resolve the buyer within the upstream budget")
            return error_response("The storefront API is unavailable; try again shortly.", 503)
        except UpstreamUnavailable as exc:
            log.warning("cannot resolve the buyer: %s", exc)
            return error_response("The storefront API is unavailable; try again shortly.", 503)
        if isinstance(scope, Refusal):
            return Response(scope.answer.body, scope.answer.status, media_type=JSON)
        try:
            document = self.documents.prepare(gql.query)
        except DocumentError as exc:
            return Response(_errors_body(exc.errors), 200, media_type=JSON)
        cache_key = (scope.key, document.key, gql.operation_name, gql.variables_key)
        if not document.shareable:
            return await self._compute(request, gql, scope, document, cache_key)

        async def compute() -> Answer:
            return Answer.of(await self._compute(request, gql, scope, document, cache_key))

        cached = self.responses.get(cache_key)
        if cached is not None:
            self.metrics.response_hit.inc()
            tracing.annotate(cache="hit")  # the hit path makes no span of its own: it is too cheap to split
            if not cached.fresh:  # expired, not invalidated: serve it (flagged stale) while one recompute runs
                self.answers.start(cache_key, compute)
            return Response(cached.body, media_type=JSON, headers=headers_for(cached.stale))
        self.metrics.response_miss.inc()
        return (await self.answers.run(cache_key, compute)).response()

    @tracing.traced("graphql.answer")
    async def _compute(self, request: Request, gql: GraphQLRequest, scope: Scope, document: PreparedDocument,
                       cache_key: tuple[Any, ...]) -> Response:
        try:
            operation = document.operation(gql.operation_name)
        except GraphQLError as exc:
            return Response(_errors_body([exc]), 200, media_type=JSON)
        if request.method == "GET" and operation.operation is OperationType.MUTATION:
            return error_response("Mutations must be sent with POST.", 405)
        variables = get_variable_values(self.schema, operation.variable_definitions or (), gql.variables)
        if isinstance(variables, list):
            return Response(_errors_body(variables), 200, media_type=JSON)
        sent = operation_named(document.document, gql.operation_name)  # limits apply to the client's document
        limit_errors = check_limits(self.schema, document.document, sent, variables) if sent else []
        if limit_errors:
            return Response(_errors_body(limit_errors), 200, media_type=JSON)
        generation = self.responses.generation
        root = self.schema.mutation_type if operation.operation is OperationType.MUTATION else self.schema.query_type
        assert root is not None
        collector = FieldCollector(self.schema, document.fragments, variables)
        root_field = FieldNode(name=NameNode(value=root.name), selection_set=operation.selection_set)
        cart_call = None
        if operation.operation is OperationType.MUTATION and self.cart_path is not None:
            cart_call = await self.cart_path.check(root_field, collector)
            if cart_call is not None and isinstance(cart_call.decision, Refuse):
                return Response(dumps(cart_call.refusal()), media_type=JSON)
        # The buyer's token vouched for by a last-good answer only: BigCommerce could not be asked.
        verified = Filled(degraded={"upstream"}) if self.buyers.last_good(request.headers) else Filled()
        skeleton_key = self._skeleton_key(scope, document, gql)
        skeleton = await self.skeletons.get(skeleton_key) if skeleton_key else None
        if skeleton is None and skeleton_key and document.touches_owned:
            synthesized = self.synthesizer.answer(root_field, collector, scope.visibility_key)
            if synthesized is not None:
                overlay = Overlay(self.schema, collector, scope.currency)
                data = overlay.render(synthesized["data"], root, [root_field])
                filled = (await self._fill(overlay, scope)).merge(verified)
                if filled.complete:
                    self.metrics.synthesized.inc()
                    return self._respond({"data": data}, document, cache_key, filled, generation)
        catalog_note = Filled()
        if skeleton is not None and skeleton.fresh(self.skeletons.ttl):
            body = skeleton.body
        else:
            upstream_body = await self._ask_upstream(request, document, gql)
            if cart_call is not None:
                await cart_call.settle(None if isinstance(upstream_body, Response) else upstream_body[0]["data"])
            if isinstance(upstream_body, Response):
                if skeleton is None or upstream_body.status_code != 503:
                    return upstream_body
                body = skeleton.body  # BigCommerce is down: the last good catalog answer, flagged
                catalog_note = Filled(used=[UsedRecord(skeleton.fetched_ms, int(self.skeletons.ttl * 1000))],
                                      degraded={"upstream"})
            else:
                body, raw = upstream_body
                if skeleton_key and not body.get("errors"):
                    await self.skeletons.put(skeleton_key, body, raw)
        overlay = Overlay(self.schema, collector, scope.currency)
        overlay.extension_fields = self.documents.extension_fields
        data = overlay.render(body["data"], root, [root_field])
        self.index.learn(scope.visibility_key, overlay.seen.values())
        filled = (await self._fill(overlay, scope)).merge(catalog_note).merge(verified)
        await self._answer_extensions(overlay, scope)
        result: dict[str, Any] = {"data": data}
        if body.get("errors"):
            result["errors"] = body["errors"]
        return self._respond(result, document, cache_key, filled, generation)

    def _respond(self, result: dict[str, Any], document: PreparedDocument, cache_key: tuple[Any, ...],
                 filled: Filled, generation: int) -> Response:
        """The answer, with DESIGN.md's freshness flags (the header if and only if the body says stale);
        only a fresh, whole answer is kept for reuse, and only until its first record's TTL ends."""
        done = finish(result, filled, self.records.clock.wall_ms(), self.responses.ttl)
        if document.shareable and "errors" not in result and done.keep_for is not None:
            self.responses.put(cache_key, done.body, filled.tags, generation, lifetime=done.keep_for)
        return Response(done.body, media_type=JSON, headers=headers_for(done.stale))

    async def _ask_upstream(self, request: Request, document: PreparedDocument,
                            gql: GraphQLRequest) -> tuple[dict[str, Any], bytes] | Response:
        """BigCommerce's answer (parsed exactly, and raw), or the response to give when there is none."""
        headers = forwarded(request.headers, self.client_of(request) if request.client else None,
                            self.settings.trusted_proxy_secret)
        deadline = None if document.has_mutation else getattr(request.state, "upstream_deadline", None)
        try:
            async with asyncio.timeout_at(deadline):  # a mutation is never cut short: it may have happened
                answer = await self.upstream.execute(document.upstream_text, gql.variables, gql.operation_name,
                                                     headers)
        except TimeoutError:
            self.metrics.upstream_calls.labels("query", "over_budget").inc()
            log.warning("upstream did not answer within the budget")
            return error_response("The storefront API is unavailable; try again shortly.", 503)
        except UpstreamUnavailable as exc:
            self.metrics.upstream_calls.labels("query", "unavailable").inc()
            log.warning("upstream unavailable: %s", exc)
            return error_response("The storefront API is unavailable; try again shortly.", 503)
        self.metrics.upstream_calls.labels("query", "ok" if answer.status == 200 else str(answer.status)).inc()
        body = answer.json() if answer.status == 200 else None
        if not isinstance(body, dict) or body.get("data") is None:
            return Response(answer.body, answer.status, media_type=JSON)
        return body, answer.body

    def client_of(self, request: Request) -> str:
        """Who the request counts against: True-Client-IP from a trusted proxy, else the peer address."""
        return client_address(request.client.host if request.client else None, request.headers,
                              self.settings.trusted_proxies)

    def _skeleton_key(self, scope: Scope, document: PreparedDocument, gql: GraphQLRequest) -> str | None:
        if not document.shareable:
            return None
        variables = hashlib.sha256(gql.variables_key).hexdigest()[:24]
        return f"sk:{scope.visibility_key}:{document.key}:{gql.operation_name or ''}:{variables}"

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
        """Stale stock is shown less the live reservations: never more than last known minus what is held."""
        if not lookup.stale or self.cart_path is None or not lookup.found:
            return lookup.found
        try:
            reserved = await self.cart_path.guard.reservations.reserved_many(list(lookup.found))
        except StoreError:
            return lookup.found
        return {sku: {level.location_id: level for level in less_reservations(list(levels.values()),
                                                                               reserved.get(sku, 0))}
                for sku, levels in lookup.found.items()}

    async def _fill(self, overlay: Overlay, scope: Scope) -> Filled:
        """Fetch the records the overlay needs (with their freshness) and compute it. Prices and stock are
        looked up together, so a never-seen key waits at most one ERP budget in all, not one per kind."""
        records = Records()
        filled = Filled(touched=bool(overlay.sites))
        wanted = list(overlay.needs.prices.items())
        lookups = await asyncio.gather(
            *(self.records.price_lookup(scope.price_list_id, currency, skus) for currency, skus in wanted),
            *([self.records.stock_lookup(overlay.needs.stock)] if overlay.needs.stock else []))
        for (currency, skus), lookup in zip(wanted, lookups, strict=False):
            records.prices.update({(currency, key[2]): record for key, record in lookup.found.items()})
            filled.tags += [price_tag(scope.price_list_id, sku) for sku in skus]
            filled.note(lookup)
        if overlay.needs.stock:
            lookup_stock = lookups[-1]
            records.stock.update(await self._shown_stock(lookup_stock))
            filled.tags += [stock_tag(sku) for sku in overlay.needs.stock]
            filled.note(lookup_stock)
        filled.complete = not overlay.fill(records)
        return filled
