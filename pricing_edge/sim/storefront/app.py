"""The simulated BigCommerce Storefront GraphQL API: ``/graphql`` (POST and GET, introspection on),
BigCommerce's buyer headers, its page-size and depth limits, a normal latency, and the fault API."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from cachetools import LRUCache
from graphql import DocumentNode, GraphQLError, execute, parse, validate
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pricing_edge.edge.document import depth_of
from pricing_edge.jsonio import dumps
from pricing_edge.sim.dataset import Dataset
from pricing_edge.sim.faults import FaultMiddleware, Faults, fault_routes
from pricing_edge.sim.storefront.auth import AuthError, Authenticator
from pricing_edge.sim.storefront.catalog import StorefrontCatalog
from pricing_edge.sim.storefront.resolvers import Context
from pricing_edge.sim.storefront.schema import build

MAX_DEPTH = 16


def _errors(errors: list[GraphQLError] | list[dict[str, Any]], status: int = 200) -> Response:
    body = [e.formatted if isinstance(e, GraphQLError) else e for e in errors]
    return Response(orjson.dumps({"errors": body}), status_code=status, media_type="application/json")


def create_app(dataset: Dataset, *, storefront_token: str, impersonation_token: str, latency_ms: float = 150.0,
               tax_rate: Decimal = Decimal("0.10"), customer_token_secret: str = "demo-customer-token-secret",
               max_depth: int = MAX_DEPTH) -> Starlette:
    schema = build()
    catalog = StorefrontCatalog(dataset, tax_rate)
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
            buyer = auth.buyer(request.headers)
        except AuthError as exc:
            if exc.code:
                return _errors([{"message": str(exc), "extensions": {"code": exc.code}}])
            return JSONResponse({"status": exc.status, "title": str(exc)}, status_code=exc.status)
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
        result = execute(schema, prepared, context_value=Context(catalog, buyer, shared_state),
                         variable_values=payload.get("variables") or {},
                         operation_name=payload.get("operationName") or request.query_params.get("operation"))
        assert not hasattr(result, "__await__"), "the simulator's resolvers are synchronous"
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        # An error raised before execution (variable coercion, unknown operation) has no path, and then
        # the GraphQL spec says the response has no "data" entry at all; after execution began, it has one.
        if result.data is not None or not result.errors or any(e.path for e in result.errors):
            body["data"] = result.data
        return Response(dumps(body), media_type="application/json")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": "bigcommerce-sim", "seed": dataset.seed})

    app = Starlette(
        routes=[Route("/graphql", graphql, methods=["GET", "POST"]), Route("/healthz", healthz), *fault_routes(faults)],
        middleware=[Middleware(FaultMiddleware, faults=faults)],
    )
    app.state.faults = faults
    app.state.catalog = catalog
    return app
