"""The simulated BigCommerce Storefront GraphQL API: ``/graphql`` (POST and GET, introspection on),
BigCommerce's buyer headers, its limits (depth, page size, one mutation, complexity — the same check
as the edge's, docs/limits.md — with the estimate in ``X-Bc-Graphql-Complexity``), a normal latency,
and the fault API.
The REST Admin API (orders, shipments, hooks, webhooks, rate limit) is mounted next to it, from
``pricing_edge.sim.admin``; its state is ``app.state.admin``."""
from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson
from cachetools import LRUCache
from graphql import (DocumentNode, FieldNode, GraphQLError, OperationDefinitionNode, execute, get_operation_ast,
                     get_variable_values, parse, validate)
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pricing_edge.config import DEMO_ADMIN_TOKEN, DEMO_CLIENT_SECRET, DEMO_STORE_HASH
from pricing_edge.edge.document import depth_of
from pricing_edge.edge.limits import check_limits, complexity
from pricing_edge.jsonio import dumps
from pricing_edge.sim.admin.carts import cart_routes
from pricing_edge.sim.admin.channels import ChannelBook
from pricing_edge.sim.admin import DEFAULT_CLIENT_ID, AdminState, DeliveryPolicy, RateLimitMiddleware, admin_routes
from pricing_edge.sim.dataset import Dataset
from pricing_edge.sim.faults import FaultMiddleware, Faults, fault_routes
from pricing_edge.sim.storefront.auth import AuthError, Authenticator
from pricing_edge.sim.storefront.catalog import StorefrontCatalog
from pricing_edge.sim.storefront.context import Context
from pricing_edge.sim.storefront.orders import ORDER_BOOK
from pricing_edge.sim.storefront.schema import build

MAX_DEPTH = 16
COMPLEXITY_HEADER = "X-Bc-Graphql-Complexity"


# Answers to introspection-only operations, by (query, operation name, variables): they depend on the schema
# alone, which every simulator in the process shares, and each edge that starts asks the same (~80 ms of CPU).
_INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename"})
_introspections: dict[tuple[str, str | None, bytes], tuple[bytes, str]] = {}


def _introspection_only(operation: OperationDefinitionNode) -> bool:
    return all(isinstance(s, FieldNode) and s.name.value in _INTROSPECTION_FIELDS
               for s in operation.selection_set.selections)


def _errors(errors: list[GraphQLError] | list[dict[str, Any]], status: int = 200) -> Response:
    body = [e.formatted if isinstance(e, GraphQLError) else e for e in errors]
    return Response(orjson.dumps({"errors": body}), status_code=status, media_type="application/json")


def create_app(dataset: Dataset, *, storefront_token: str, impersonation_token: str, latency_ms: float = 150.0,
               tax_rate: Decimal = Decimal("0.10"), customer_token_secret: str = "demo-customer-token-secret",
               max_depth: int = MAX_DEPTH, admin_token: str = DEMO_ADMIN_TOKEN, store_hash: str = DEMO_STORE_HASH,
               client_secret: str = DEMO_CLIENT_SECRET, client_id: str = DEFAULT_CLIENT_ID,
               store_id: str | None = None, rate_limit: tuple[int, float] = (150, 30.0),
               webhook_retry: DeliveryPolicy | None = None,
               tax_zones: Mapping[int, Decimal] | None = None) -> Starlette:
    """``admin_token`` (X-Auth-Token), ``store_hash``, ``client_secret`` (signs webhooks), ``rate_limit``
    (quota, window seconds) and ``webhook_retry`` configure the REST Admin side (``app.state.admin``).
    ``tax_rate`` is the store's tax zone (guests'); ``tax_zones`` names customers whose address is in another
    zone, with its rate."""
    schema = build()
    channels = ChannelBook(dataset, store_hash)
    catalog = StorefrontCatalog(dataset, tax_rate, tax_zones, channels)
    auth = Authenticator(dataset, storefront_token, impersonation_token, customer_token_secret)
    documents: LRUCache[str, DocumentNode | list[GraphQLError]] = LRUCache(maxsize=1024)
    shared_state: dict[str, Any] = {}
    faults = Faults(base_latency_ms=latency_ms)

    def prepare(query: str) -> DocumentNode | list[GraphQLError]:
        cached = documents.get(query)
        if cached is None:
            try:
                document = parse(query)
            except GraphQLError as exc:
                cached = [exc]
            else:
                errors = validate(schema, document)
                depth = depth_of(document)
                if not errors and depth > max_depth:
                    errors = [GraphQLError(f"Query depth of {depth} exceeds the maximum allowed depth of {max_depth}.")]
                cached = errors or document
            documents[query] = cached
        return cached

    async def graphql(request: Request) -> Response:
        try:
            buyer, access_token = auth.buyer(request.headers)
        except AuthError as exc:
            if exc.code:
                return _errors([{"message": str(exc), "extensions": {"code": exc.code}}])
            return JSONResponse({"status": exc.status, "title": str(exc)}, status_code=exc.status)
        channel_id = channels.channel_for_host(request.headers.get("host", ""))
        if channel_id is None:  # a channel-specific host of a channel the store does not have
            return JSONResponse({"status": 404, "title": "No such channel."}, status_code=404)
        buyer = replace(buyer, channel_id=channel_id)
        if request.method == "GET":
            params = request.query_params
            try:
                variables = orjson.loads(params["variables"]) if params.get("variables") else None
            except orjson.JSONDecodeError:
                return _errors([{"message": "Variables are not valid JSON."}], 400)
            payload: Any = {"query": params.get("query"), "operationName": params.get("operationName"),
                            "variables": variables}
        else:
            try:
                payload = orjson.loads(await request.body())
            except orjson.JSONDecodeError:
                return _errors([{"message": "Request body is not valid JSON."}], 400)
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return _errors([{"message": "Must provide query string."}], 400)
        if payload.get("variables") is not None and not isinstance(payload["variables"], dict):
            return _errors([{"message": "Variables must be a JSON object."}], 400)
        prepared = prepare(payload["query"])
        if isinstance(prepared, list):
            return _errors(prepared)
        operation_name = payload.get("operationName") or request.query_params.get("operation")
        operation = get_operation_ast(prepared, operation_name)
        if operation is None:
            return _errors([GraphQLError(f"Unknown operation named '{operation_name}'." if operation_name else
                                         "Must provide operation name if query contains multiple operations.")])
        variables = get_variable_values(schema, operation.variable_definitions or (), payload.get("variables") or {})
        if isinstance(variables, list):
            return _errors(variables)
        introspection = None
        if _introspection_only(operation):
            introspection = (payload["query"], operation_name, orjson.dumps(payload.get("variables") or {}))
            known = _introspections.get(introspection)
            if known is not None:
                return Response(known[0], media_type="application/json", headers={COMPLEXITY_HEADER: known[1]})
        limit_errors = check_limits(schema, prepared, operation, variables)
        if limit_errors:
            return _errors(limit_errors)
        context = Context(catalog, buyer, shared_state, access_token, "origin" not in request.headers, auth)
        result = execute(schema, prepared, context_value=context, variable_values=payload.get("variables") or {},
                         operation_name=operation_name)
        assert not hasattr(result, "__await__"), "the simulator's resolvers are synchronous"
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        # An error raised before execution (variable coercion, unknown operation) has no path, and then
        # the GraphQL spec says the response has no "data" entry at all; after execution began, it has one.
        if result.data is not None or not result.errors or any(e.path for e in result.errors):
            body["data"] = result.data
        answer = (dumps(body), str(complexity(schema, prepared, operation, variables)))
        if introspection is not None and not result.errors and len(_introspections) < 16:
            _introspections[introspection] = answer
        return Response(answer[0], media_type="application/json", headers={COMPLEXITY_HEADER: answer[1]})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": "bigcommerce-sim", "seed": dataset.seed})

    admin = AdminState.build(dataset, store_hash=store_hash, admin_token=admin_token, client_secret=client_secret,
                             client_id=client_id, store_id=store_id, tax_rate=tax_rate, rate_limit=rate_limit,
                             webhook_retry=webhook_retry, channels=channels)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await admin.aclose()  # stop webhook deliveries still retrying

    app = Starlette(
        routes=[Route("/graphql", graphql, methods=["GET", "POST"]), Route("/healthz", healthz), *fault_routes(faults),
                *admin_routes(admin), *cart_routes(admin, shared_state, catalog)],
        middleware=[Middleware(FaultMiddleware, faults=faults),
                    Middleware(RateLimitMiddleware, limiter=admin.limiter, store_hash=store_hash)],
        lifespan=lifespan,
    )
    shared_state[ORDER_BOOK] = admin.orders  # node(id: "Order:…") answers a buyer's own orders
    app.state.faults = faults
    app.state.admin = admin
    app.state.catalog = catalog
    return app
