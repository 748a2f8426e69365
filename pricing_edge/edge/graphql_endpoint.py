"""``/graphql``: the hit path answers stored bytes; the miss path forwards (or reuses) BigCommerce's
answer for the buyer's visibility scope and overlays the ERP's prices and stock on it.

Hit:  buyer → scope → prepared document → answer bytes by (scope, document, operation, variables).
Miss: catalog skeleton for (visibility scope, …) from L1/L2 or the upstream → overlay → records
      (L1 → L2 → one coalesced ERP read) → bytes, kept with the tags of the records used.
Personal documents (customer, cart, checkout, mutations) are never shared: forwarded and overlaid.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson
from cachetools import TTLCache
from graphql import FieldNode, GraphQLError, GraphQLSchema, NameNode, OperationType, get_variable_values
from starlette.requests import Request
from starlette.responses import Response

from pricing_edge.bigcommerce.storefront import StorefrontClient, UpstreamUnavailable, forwarded
from pricing_edge.domain.scope import Scope
from pricing_edge.edge.buyers import BuyerResolver, Refusal
from pricing_edge.edge.catalog_index import CatalogIndex
from pricing_edge.edge.document import DocumentCache, DocumentError, PreparedDocument
from pricing_edge.edge.fields import FieldCollector
from pricing_edge.edge.overlay import Overlay, Records
from pricing_edge.edge.records import RecordService
from pricing_edge.edge.response_cache import ResponseCache, Tag, price_tag, stock_tag
from pricing_edge.edge.synthesis import Synthesizer
from pricing_edge.edge.requests import BadRequest, GraphQLRequest, error_response, read_graphql_request
from pricing_edge.jsonio import dumps, loads_exact
from pricing_edge.ops.metrics import EdgeMetrics
from pricing_edge.store.base import Store, StoreError

log = logging.getLogger(__name__)
JSON = "application/json"


def _errors_body(errors: list[GraphQLError]) -> bytes:
    return orjson.dumps({"errors": [e.formatted for e in errors]})


@dataclass
class EdgeSettings:
    currency: str = "USD"
    catalog_ttl: float = 300.0
    trusted_proxy_secret: str | None = None


class SkeletonCache:
    """BigCommerce's own answer per (visibility scope, document, operation, variables): L1, then the store."""

    def __init__(self, store: Store, metrics: EdgeMetrics, ttl: float, size: int = 5_000) -> None:
        self.store = store
        self.ttl = ttl
        self._l1: TTLCache[str, Any] = TTLCache(maxsize=size, ttl=ttl)
        self._hit = {t: metrics.cache.labels(t, "skeleton", "hit") for t in ("l1", "l2")}
        self._miss = metrics.cache.labels("l2", "skeleton", "miss")

    async def get(self, key: str) -> Any | None:
        found = self._l1.get(key)
        if found is not None:
            self._hit["l1"].inc()
            return found
        try:
            raw = await self.store.get_value(key)
        except StoreError:
            raw = None
        if raw is None:
            self._miss.inc()
            return None
        self._hit["l2"].inc()
        found = loads_exact(raw)
        self._l1[key] = found
        return found

    async def put(self, key: str, body: Any, raw: bytes) -> None:
        self._l1[key] = body
        try:
            await self.store.set_value(key, raw, self.ttl)
        except StoreError as exc:
            log.warning("could not keep a catalog answer in the store: %s", exc)


class GraphQLEndpoint:
    def __init__(self, schema: GraphQLSchema, upstream: StorefrontClient, buyers: BuyerResolver,
                 records: RecordService, responses: ResponseCache, skeletons: SkeletonCache, metrics: EdgeMetrics,
                 settings: EdgeSettings) -> None:
        self.schema = schema
        self.documents = DocumentCache(schema)
        self.upstream = upstream
        self.buyers = buyers
        self.records = records
        self.responses = responses
        self.skeletons = skeletons
        self.metrics = metrics
        self.settings = settings
        self.index = CatalogIndex(settings.catalog_ttl)
        self.synthesizer = Synthesizer(schema, self.index)

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
        try:
            scope = await self.buyers.resolve(request.headers)
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
        if document.shareable:
            body = self.responses.get(cache_key)
            if body is not None:
                self.metrics.response_hit.inc()
                return Response(body, media_type=JSON)
            self.metrics.response_miss.inc()
        return await self._compute(request, gql, scope, document, cache_key)

    async def _compute(self, request: Request, gql: GraphQLRequest, scope: Scope, document: PreparedDocument,
                       cache_key: tuple[Any, ...]) -> Response:
        try:
            operation = document.operation(gql.operation_name)
        except GraphQLError as exc:
            return Response(_errors_body([exc]), 200, media_type=JSON)
        variables = get_variable_values(self.schema, operation.variable_definitions or (), gql.variables)
        if isinstance(variables, list):
            return Response(_errors_body(variables), 200, media_type=JSON)
        generation = self.responses.generation
        root = self.schema.mutation_type if operation.operation is OperationType.MUTATION else self.schema.query_type
        assert root is not None
        collector = FieldCollector(self.schema, document.fragments, variables)
        root_field = FieldNode(name=NameNode(value=root.name), selection_set=operation.selection_set)
        skeleton_key = self._skeleton_key(scope, document, gql)
        body = await self.skeletons.get(skeleton_key) if skeleton_key else None
        if body is None and skeleton_key and document.touches_owned:
            synthesized = self.synthesizer.answer(root_field, collector, scope.visibility_key)
            if synthesized is not None:
                overlay = Overlay(self.schema, collector, scope.currency)
                data = overlay.render(synthesized["data"], root, [root_field])
                tags, complete = await self._fill(overlay, scope)
                if complete:
                    self.metrics.synthesized.inc()
                    return self._respond({"data": data}, document, cache_key, tags, generation)
        if body is None:
            upstream_body = await self._ask_upstream(request, document, gql)
            if isinstance(upstream_body, Response):
                return upstream_body
            body, raw = upstream_body
            if skeleton_key and not body.get("errors"):
                await self.skeletons.put(skeleton_key, body, raw)
        overlay = Overlay(self.schema, collector, scope.currency)
        data = overlay.render(body["data"], root, [root_field])
        self.index.learn(scope.visibility_key, overlay.seen.values())
        tags, _ = await self._fill(overlay, scope)
        result: dict[str, Any] = {"data": data}
        if body.get("errors"):
            result["errors"] = body["errors"]
        return self._respond(result, document, cache_key, tags, generation)

    def _respond(self, result: dict[str, Any], document: PreparedDocument, cache_key: tuple[Any, ...],
                 tags: list[Tag], generation: int) -> Response:
        encoded = dumps(result)
        if document.shareable and "errors" not in result:
            self.responses.put(cache_key, encoded, tags, generation)
        return Response(encoded, media_type=JSON)

    async def _ask_upstream(self, request: Request, document: PreparedDocument,
                            gql: GraphQLRequest) -> tuple[dict[str, Any], bytes] | Response:
        """BigCommerce's answer (parsed exactly, and raw), or the response to give when there is none."""
        headers = forwarded(request.headers, request.client.host if request.client else None,
                            self.settings.trusted_proxy_secret)
        try:
            answer = await self.upstream.execute(document.upstream_text, gql.variables, gql.operation_name, headers)
        except UpstreamUnavailable as exc:
            self.metrics.upstream_calls.labels("query", "unavailable").inc()
            log.warning("upstream unavailable: %s", exc)
            return error_response("The storefront API is unavailable; try again shortly.", 503)
        self.metrics.upstream_calls.labels("query", "ok" if answer.status == 200 else str(answer.status)).inc()
        body = answer.json() if answer.status == 200 else None
        if not isinstance(body, dict) or body.get("data") is None:
            return Response(answer.body, answer.status, media_type=JSON)
        return body, answer.body

    def _skeleton_key(self, scope: Scope, document: PreparedDocument, gql: GraphQLRequest) -> str | None:
        if not document.shareable:
            return None
        variables = hashlib.sha256(gql.variables_key).hexdigest()[:24]
        return f"sk:{scope.visibility_key}:{document.key}:{gql.operation_name or ''}:{variables}"

    async def _fill(self, overlay: Overlay, scope: Scope) -> tuple[list[Tag], bool]:
        """Fetch the records the overlay needs and compute it; also says whether every site had its records."""
        records = Records()
        tags: list[Tag] = []
        for currency, skus in overlay.needs.prices.items():
            found = await self.records.prices(scope.price_list_id, currency, skus)
            records.prices.update({(currency, sku): record for sku, record in found.items()})
            tags += [price_tag(scope.price_list_id, sku) for sku in skus]
        if overlay.needs.stock:
            records.stock.update(await self.records.stock(overlay.needs.stock))
            tags += [stock_tag(sku) for sku in overlay.needs.stock]
        kept = overlay.fill(records)
        return tags, not kept
