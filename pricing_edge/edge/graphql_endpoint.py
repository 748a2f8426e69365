"""``/graphql``: the hit path answers stored bytes; anything else is computed (``edge/compute.py``).

Hit:  client limits → body → buyer → scope (cached) → prepared document (cached) → answer bytes by (scope,
tax zone, document, operation, variables), sent as they are (``HitResponse``). Nothing else runs for a hit: no
GraphQL, no span of its own, no upstream or store call (a kept answer that is due is renewed in the background,
one at a time: re-projected, or — its catalog part near its end — computed anew with that part asked again).
Miss: one computation per answer key however many requests wait for it (single flight); an answer that turns
out personal is computed again for each buyer.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope as ASGIScope, Send

from pricing_edge.bigcommerce.storefront import UpstreamUnavailable
from pricing_edge.edge.budget import BUDGET_CODES
from pricing_edge.edge.buyers import Refusal
from pricing_edge.edge.clients import TARPIT_SECONDS, TooManyTokens
from pricing_edge.edge.compute import JSON, Answer, ComputePath, EdgeSettings, errors_body, tax_zone_key
from pricing_edge.domain.scope import Scope
from pricing_edge.edge.document import DocumentError, PreparedDocument
from pricing_edge.edge.hit_response import HitResponse
from pricing_edge.edge.requests import BadRequest, GraphQLRequest, error_response, header_map, read_graphql_request
from pricing_edge.ops import tracing

__all__ = ["EdgeSettings", "GraphQLEndpoint"]
log = logging.getLogger(__name__)


class GraphQLEndpoint(ComputePath):
    """An ASGI app (no ``request_response`` around it): one ``Request`` per request, and a hit sent as its bytes."""

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        try:
            response = await self._answer(Request(scope, receive))
        except BadRequest as exc:
            response = exc.response()
        finally:
            self.metrics.graphql_seconds.observe(time.perf_counter() - started)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response | HitResponse:
        headers = header_map(request)  # read a few times each: one pass, then dict lookups
        client = self.client_of(request, headers)
        if (penalty := self.refusals.penalized(client)) is not None:  # before the body is even read
            self.metrics.client_limited.labels("refused_documents").inc()
            await asyncio.sleep(TARPIT_SECONDS)
            return Response(penalty.body(), 429, media_type=JSON, headers=penalty.headers())
        gql = await read_graphql_request(request, headers)
        # One budget for every wait on BigCommerce a query makes: the token check, then the document.
        upstream_deadline = asyncio.get_running_loop().time() + self.settings.upstream_budget
        scope = self.buyers.held(headers, client)  # a known buyer: no wait, no timer
        if scope is None:
            request.state.upstream_deadline = upstream_deadline
            try:
                async with asyncio.timeout_at(upstream_deadline):
                    scope = await self.buyers.resolve(headers, client)
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
            if any((e.extensions or {}).get("code") in BUDGET_CODES for e in exc.errors):
                self.refusals.refused(client)
            return Response(errors_body(exc.errors), 200, media_type=JSON)
        cache_key = (scope.key, tax_zone_key(scope, document), document.key, gql.operation_name, gql.variables_key)
        if not document.shareable:
            request.state.upstream_deadline = upstream_deadline
            return await self._compute(request, gql, scope, document, cache_key)

        cached = self.responses.get(cache_key)
        if cached is not None:
            self.metrics.response_hit.inc()
            tracing.annotate(cache="hit")  # the hit path makes no span of its own: it is too cheap to split
            if not cached.fresh or cached.due:  # expired or nearly: serve it while one recompute runs
                request.state.upstream_deadline = upstream_deadline
                renew = _Computation(self, request, gql, scope, document, cache_key, catalog_due=cached.catalog_due)
                self.responses.refresh(cache_key, lambda: self.answers.run(cache_key, renew))
            return HitResponse(cached.body, cached.stale, self.complexity_of(cache_key))
        self.metrics.response_miss.inc()
        request.state.upstream_deadline = upstream_deadline
        compute = _Computation(self, request, gql, scope, document, cache_key)
        answer = await self.answers.run(cache_key, compute)
        if answer.personal and not compute.here:
            # Another buyer's computation turned out personal (a node that is a cart, an order): ours is ours.
            return await self._compute(request, gql, scope, document, cache_key)
        return answer.response()


class _Computation:
    """One request's computation of a shareable answer (made only when there is no hit, or a hit is due):
    re-projected when a kept one can be, else computed anew; ``here`` says whether this request's ran.
    ``catalog_due``: a kept answer whose catalog part nears its end, computed anew with that part asked again."""

    def __init__(self, endpoint: GraphQLEndpoint, request: Request, gql: GraphQLRequest, scope: Scope,
                 document: PreparedDocument, cache_key: tuple[Any, ...], catalog_due: bool = False) -> None:
        self.endpoint, self.request, self.gql, self.scope = endpoint, request, gql, scope
        self.document, self.cache_key, self.catalog_due = document, cache_key, catalog_due
        self.here = False

    async def __call__(self) -> Answer:
        self.here = True
        endpoint = self.endpoint
        if not self.catalog_due:
            reprojected = await endpoint._reproject(self.request, self.scope, self.cache_key)
            if reprojected is not None:
                return reprojected
        endpoint.metrics.answers_computed.inc()
        return Answer.of(await endpoint._compute(self.request, self.gql, self.scope, self.document, self.cache_key,
                                                 catalog_due=self.catalog_due))
