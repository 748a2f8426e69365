"""The edge process: ``/graphql``, ``/events/erp``, health and metrics, and the background tasks
that keep its caches true (the shared cache updater and this process's invalidation listener)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.bigcommerce.storefront import StorefrontClient
from pricing_edge.clock import SYSTEM_CLOCK, Clock
from pricing_edge.config import Settings, listed
from pricing_edge.domain.scope import PriceListAssignments
from pricing_edge.domain.reservations import KnownStock
from pricing_edge.edge.assignments import ChannelAssignments, store_currencies
from pricing_edge.edge.buyers import BuyerResolver
from pricing_edge.edge.cart_guard import CartGuard
from pricing_edge.edge.cart_path import CartPath
from pricing_edge.edge.cart_prices import CartPrices
from pricing_edge.edge.catalog_index import CatalogIndex
from pricing_edge.edge.line_skus import LineSkus
from pricing_edge.edge.credit import CreditService
from pricing_edge.edge.cache_updater import CacheUpdater, Invalidation, ReservationSignals, listen_for_invalidations
from pricing_edge.edge.answer_flags import restale
from pricing_edge.edge.clients import RefusedDocuments, TokenLimit, networks
from pricing_edge.edge.graphql_endpoint import EdgeSettings, GraphQLEndpoint
from pricing_edge.edge.listing.membership import MembershipCache
from pricing_edge.edge.listing.merge import PriceListings
from pricing_edge.edge.skeletons import SkeletonCache
from pricing_edge.edge.records import RecordService
from pricing_edge.edge.response_cache import MISS_REASONS, ResponseCache, Tag, price_tag, stock_tag
from pricing_edge.edge.schema import load_schema
from pricing_edge.edge.warm import warm
from pricing_edge.erp.errors import ErpError
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.intake.bigcommerce_webhooks import BigCommerceWebhookIntake
from pricing_edge.erp.registry import connector
from pricing_edge.intake.erp_events import ErpEventIntake
from pricing_edge.intake.erp_signals import ErpSignalIntake
from pricing_edge.intake.envelope import SECRET_PREFIX
from pricing_edge.ops.durability import check_durability
from pricing_edge.ops.metrics import CONTENT_TYPE, EdgeMetrics
from pricing_edge.ops.edge_snapshot import SnapshotPublisher
from pricing_edge.ops.hot_route import HotRouteApp
from pricing_edge.ops.instance import InstanceHeaderMiddleware, instance_id
from pricing_edge.ops.tracing import TracingMiddleware
from pricing_edge.runtime import Grace, cancel_and_wait, freeze_start_up_objects
from pricing_edge.store.base import Store, StoreError
from pricing_edge.store.keys import BIGCOMMERCE_INTAKE, ERP_INTAKE, ERP_SIGNALS, WORKER_GROUP

log = logging.getLogger(__name__)
CART_STOCK_PATIENCE = 4  # ERP budgets a cart decision may wait for a stock read already under way


@dataclass
class EdgeParts:
    """What one edge process is made of, for tests and the demo to look into."""

    settings: Settings
    store: Store
    erp: ErpAdapter
    upstream: StorefrontClient
    metrics: EdgeMetrics
    responses: ResponseCache
    records: RecordService
    graphql: GraphQLEndpoint | None = None
    buyers: BuyerResolver | None = None
    memberships: MembershipCache | None = None  # listings by the buyer's price: BigCommerce's membership
    channels: ChannelAssignments | None = None  # BigCommerce's price-list and currency assignments per channel


class _GraphQLRoute:
    """``/graphql``: the endpoint built at start-up, as the ASGI app it is (Starlette would wrap a function in a
    ``Request`` and exception handling of its own: a hit's CPU is counted in microseconds)."""

    def __init__(self, parts: EdgeParts) -> None:
        self.parts = parts

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        endpoint = self.parts.graphql
        assert endpoint is not None, "the edge is still starting"
        return endpoint(scope, receive, send)  # its coroutine, awaited by the router: no frame of our own


def consumer_name() -> str:
    return f"edge-{socket.gethostname()}-{os.getpid()}-{id(object()) & 0xFFFF:x}"


async def _warm_in_background(store: Store, erp: ErpAdapter, assignments: PriceListAssignments,
                              admin: BigCommerceAdmin, currencies: Sequence[str]) -> None:
    """Warm without delaying start-up: requests meanwhile read through as usual. In the currencies the store
    sells in (BigCommerce's; ``currencies``, the configured, only when it cannot say)."""
    try:
        report = await warm(store, erp, assignments, await store_currencies(store, admin, currencies))
        log.info("warmed at start: %s", report)
    except (ErpError, StoreError) as exc:
        log.warning("warming at start failed (requests read through instead): %s", exc)


async def _write_back_loop(guard: CartGuard, stopping: Callable[[], bool], every: float = 1.0) -> None:
    """Reservations promised while Redis was unreachable are held in Redis as soon as it answers again."""
    while not stopping():
        await guard.redis_down.try_write_back(guard.reservations, guard.ttl)
        await asyncio.sleep(every)


def cart_guard(parts: EdgeParts, index: CatalogIndex,
               on_change: Callable[[Sequence[str]], None] | None = None) -> CartGuard:
    """Soft reservations in the same store (Redis: shared by every edge process), stock from the records path."""
    reservations = parts.store.reservations()

    async def stock_lookup(skus: list[str]) -> dict[str, KnownStock]:
        """A cart decision is worth a little more patience than a page: while the one ERP read for a SKU is
        still running past the budget, wait for it a few budgets more before the line is refused as unknown."""
        found: dict[str, KnownStock] = {}
        wanted = list(skus)
        for _ in range(CART_STOCK_PATIENCE):
            lookup = await parts.records.stock_lookup(wanted)
            found |= {sku: KnownStock.of(list(levels.values()), stale=lookup.stale)
                      for sku, levels in lookup.found.items()}
            wanted = [sku for sku in wanted if sku not in found]
            if not wanted or not parts.records.reading_stock(wanted):
                break
        return found

    return CartGuard(reservations, stock_lookup, LineSkus(index, parts.upstream), ttl=parts.settings.reservation_ttl,
                     redis_down_factor=parts.settings.redis_down_stock_factor,
                     metrics_counter_callable=lambda outcome: parts.metrics.redis_down_carts.labels(outcome).inc(),
                     refusal_counter=lambda reason: parts.metrics.cart_refusals.labels(reason).inc(),
                     on_change=on_change)


def create_edge_app(settings: Settings, store: Store, erp: ErpAdapter,
                    upstream: StorefrontClient | None = None, clock: Clock = SYSTEM_CLOCK) -> Starlette:
    """``clock`` judges freshness (records, credit); tests pass one that moves when they say."""
    secret = settings.event_secret or ""
    if not listed(secret) or not all(one.startswith(SECRET_PREFIX) for one in listed(secret)):
        raise ValueError("PRICING_EDGE_EVENT_SECRET must be a whsec_<base64> secret (or several, comma-separated)")
    metrics = EdgeMetrics()
    missed = {reason: metrics.answer_misses.labels(reason) for reason in MISS_REASONS}
    responses = ResponseCache(ttl=min(settings.price_ttl, settings.stock_ttl), restale=restale,
                              max_bytes=int(settings.answer_cache_mb * 2**20), on_miss=lambda why: missed[why].inc())
    metrics.cache_bytes.labels("answer").set_function(lambda: responses.bytes)

    def on_refreshed(kind: str, keys: list[Any]) -> None:
        """A background refresh renewed records: answers built from their stale copies must go."""
        if kind == "price":
            responses.invalidate([price_tag(key[0], key[2]) for key in keys])
        else:
            responses.invalidate([stock_tag(key) for key in keys])

    parts = EdgeParts(
        settings, store, erp,
        upstream or StorefrontClient(settings.upstream_url, timeout=settings.upstream_timeout,
                                     breaker_threshold=settings.breaker_threshold, breaker_reset=settings.breaker_reset),
        metrics, responses,
        RecordService(store, erp, metrics, price_ttl=settings.price_ttl, stock_ttl=settings.stock_ttl,
                      erp_budget=settings.erp_budget_ms / 1000, breaker_threshold=settings.breaker_threshold,
                      breaker_reset=settings.breaker_reset, on_refreshed=on_refreshed, clock=clock,
                      l1_bytes=int(settings.l1_max_mb * 2**20), erp_timeout=settings.erp_timeout))
    intake = ErpEventIntake(store, secret, metrics)
    signals = ErpSignalIntake(store, secret=secret, prefix=connector(settings.erp).signal_prefix,
                              basic=settings.erp_signal_auth)
    webhooks = BigCommerceWebhookIntake(store, metrics, client_secret=settings.client_secret,
                                        webhook_header=settings.webhook_header, dedup_ttl=settings.dedup_ttl)
    assignments = settings.assignments
    reserved_signals = ReservationSignals(store)
    admin = BigCommerceAdmin(settings.admin_url, store_hash=settings.store_hash, access_token=settings.admin_token,
                             timeout=settings.upstream_timeout, max_rate_limit_wait=settings.cart_price_budget,
                             quota=store.rest_quota(settings.store_hash))
    channels = ChannelAssignments(store, admin, store_hash=settings.store_hash, channel_ids=settings.channels,
                                  default_channel=settings.channel_id, fallback=assignments,
                                  fallback_currency=settings.currency, every=settings.assignments_refresh)
    parts.channels = channels
    webhooks.on_assignment_change = channels.refresh_soon
    parts.memberships = MembershipCache(store, parts.upstream, settings.catalog_ttl, metrics=metrics,
                                        max_bytes=int(settings.listing_cache_mb * 2**20))
    webhooks.on_catalog_change = parts.memberships.catalog_changed

    def on_change(change: Invalidation) -> None:
        # The records the event wrote replace L1's (no store read before the re-projection); the others go.
        parts.records.changed(change.prices, change.stock, change.learned())
        parts.records.renewed(change.renewed_prices, change.renewed_stock)  # wakes reads waiting for them
        tags: list[Tag] = [price_tag(price_list_id, sku) for price_list_id, _, sku in change.prices]
        tags += [stock_tag(sku) for sku in change.stock]
        tags += [stock_tag(sku) for sku in change.reserved]  # the records stand; the stock shown moved
        if change.reserved and parts.graphql:
            parts.graphql.unreserved.forget(change.reserved)  # read from Redis again by the re-projections
        for customer_id in change.customers:
            if parts.buyers:
                parts.buyers.forget_customer(customer_id)
        if change.tokens and parts.buyers:
            parts.buyers.forget_access_digests(change.tokens)
        if tags:  # a message naming no answer's tag (renewals, customers) leaves the answers' log alone
            metrics.invalidations.labels("response").inc(parts.responses.invalidate(tags))

    def on_lost() -> None:
        """The invalidation channel was down: what this process holds may have missed changes."""
        parts.records.drop_all()
        parts.responses.clear()
        if parts.graphql:
            parts.graphql.unreserved.clear()
        if parts.buyers:
            parts.buyers.forget_customers()
        log.warning("invalidation channel restored: dropped this process's records and kept answers")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # First: a refusal (NotDurable) stops start-up before anything is served or started.
        await check_durability(store, require=bool(settings.require_durable))
        # The worker's groups exist from the first accepted event: trimming waits for the worker
        # (even one not started yet) to acknowledge what its flows need.
        with contextlib.suppress(StoreError):
            for stream in (ERP_INTAKE, BIGCOMMERCE_INTAKE, ERP_SIGNALS):
                await store.ensure_group(stream, WORKER_GROUP)
        headers = {"authorization": f"Bearer {settings.storefront_token}"}
        schema = await load_schema(parts.upstream, headers, Path(settings.schema_cache))
        await channels.refresh()  # BigCommerce's assignments (else the kept ones, else the configured fallback)
        parts.buyers = BuyerResolver(parts.upstream, store, erp, channels, channel_id=settings.channel_id,
                                     currency=settings.currency, impersonation_token=settings.impersonation_token,
                                     ttl=settings.buyer_ttl,
                                     token_limit=TokenLimit(store, settings.unknown_tokens_per_minute),
                                     channel_of=channels.channel_for)
        parts.graphql = GraphQLEndpoint(
            schema, parts.upstream, parts.buyers, parts.records, parts.responses,
            SkeletonCache(store, metrics, settings.catalog_ttl, max_bytes=int(settings.skeleton_cache_mb * 2**20)),
            metrics,
            EdgeSettings(settings.currency, settings.catalog_ttl, settings.trusted_proxy_secret,
                         networks(settings.trusted_proxies), settings.upstream_budget_ms / 1000,
                         int(settings.catalog_index_mb * 2**20)))
        assert parts.memberships is not None
        parts.graphql.listings = PriceListings(schema, parts.graphql.documents, parts.upstream, parts.records,
                                               parts.memberships, parts.graphql.skeletons)
        parts.graphql.refusals = RefusedDocuments(settings.refused_documents_per_minute)
        parts.graphql.cart_path = CartPath(schema, cart_guard(parts, parts.graphql.index, reserved_signals))
        if settings.cart_prices:
            parts.graphql.cart_prices = CartPrices(admin, parts.records, parts.upstream)
        parts.graphql.credit = CreditService(store, erp, parts.records.gate, ttl=settings.credit_ttl,
                                             max_age=settings.credit_max_age, budget=settings.erp_budget_ms / 1000,
                                             currency=settings.currency, clock=clock)
        guard = parts.graphql.cart_path.guard
        stopping = asyncio.Event()  # loops check it too: a swallowed cancellation must not keep one running
        tasks = [asyncio.create_task(CacheUpdater(store, metrics, consumer_name()).run(stopping.is_set),
                                     name="cache-updater"),
                 asyncio.create_task(listen_for_invalidations(store, on_change, stopping.is_set, on_lost),
                                     name="invalidations"),
                 asyncio.create_task(_write_back_loop(guard, stopping.is_set), name="reservation-write-back"),
                 asyncio.create_task(channels.run(stopping.is_set), name="channel-assignments"),
                 asyncio.create_task(SnapshotPublisher(store, metrics, instance_id(), lambda: {
                     "erp": parts.records.gate.state, "upstream": parts.upstream.state}).run(), name="ops-snapshots")]
        if settings.warm_at_start:
            warmed = channels.setup(settings.channel_id).assignments  # BigCommerce's, once read
            tasks.append(asyncio.create_task(_warm_in_background(store, erp, warmed, admin, settings.currencies),
                                             name="warm"))
        freeze_start_up_objects()
        try:
            yield
        finally:
            stopping.set()
            await cancel_and_wait([*tasks, *reserved_signals.tasks, *parts.records.background()], Grace(settings.shutdown_grace).tasks)
            await parts.upstream.aclose()
            await admin.aclose()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        """Ready once it can answer; a dependency that is down is reported as degraded, not as unready:
        the edge keeps serving from its caches (DESIGN.md: degrades, never goes dark)."""
        store_ok = await store.ping()
        # No upstream or ERP call per probe: what the requests' own calls say (last outcome, breaker, speed).
        upstream, erp_gate = parts.upstream, parts.records.gate
        upstream_ok = not upstream.health.failing and upstream.state == "closed"
        erp_ok = erp_gate.state == "closed"
        degraded = [name for name, ok in (("erp", erp_ok), ("redis", store_ok), ("upstream", upstream_ok)) if not ok]
        slow = [name for name, health in (("erp", erp_gate.health), ("upstream", upstream.health)) if health.slow]
        for name in ("erp", "redis", "upstream"):
            metrics.degraded.labels(name).set(1 if name in degraded else 0)
        ready = parts.graphql is not None
        publish_breakers()
        return JSONResponse({"ready": ready, "degraded": degraded, "slow": slow,
                             "median_ms": {"erp": erp_gate.health.median_ms, "upstream": upstream.health.median_ms},
                             "store": store_ok, "upstream": upstream_ok,
                             "erp_breaker": parts.records.gate.state, "upstream_breaker": parts.upstream.state,
                             "store_kind": store.kind},
                            status_code=200 if ready else 503)

    def publish_breakers() -> None:
        for dependency, state in (("erp", parts.records.gate.state), ("upstream", parts.upstream.state)):
            for name in ("closed", "half-opened", "opened"):
                metrics.breaker.labels(dependency, name).set(1 if name == state else 0)

    async def metrics_endpoint(request: Request) -> Response:
        publish_breakers()
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    app = HotRouteApp(hot="/graphql", routes=[
        Route("/graphql", _GraphQLRoute(parts), methods=["GET", "POST"]),
        Route("/events/erp", intake, methods=["POST"]),
        Route("/events/erp/signals", signals, methods=["POST"]),
        Route("/webhooks/bigcommerce", webhooks, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
    ], lifespan=lifespan, middleware=[Middleware(TracingMiddleware), Middleware(InstanceHeaderMiddleware)])
    app.state.parts = parts
    return app
