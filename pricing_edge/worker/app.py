"""The worker process's app: router and flow runners as background tasks; on its own port only
``/healthz``, ``/metrics``, the ops API and the ops dashboard (``/ops/``, for operators only)."""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pricing_edge.bigcommerce.admin import BigCommerceAdmin
from pricing_edge.config import Settings
from pricing_edge.domain.orders import OrderSettings
from pricing_edge.erp.change_source import run_under_lease
from pricing_edge.erp.protocol import ErpAdapter
from pricing_edge.ops.access import UNSAFE_METHODS, OpsAccess, OpsToken
from pricing_edge.ops.dashboard import dashboard_routes
from pricing_edge.ops.durability import check_durability
from pricing_edge.ops.edge_snapshot import EdgeBoard
from pricing_edge.ops.tracing import TracingMiddleware
from pricing_edge.ops.metrics import CONTENT_TYPE
from pricing_edge.runtime import Grace, cancel_and_wait, run_loops
from pricing_edge.store.base import Store
from pricing_edge.store.bc_mirror import mirror_state
from pricing_edge.store.keys import BIGCOMMERCE_INTAKE, ERP_INTAKE, ERP_SIGNALS
from pricing_edge.store.ledger import Ledger
from pricing_edge.store.work_queue import WorkQueue
from pricing_edge.worker.engine import EngineSettings, Flow, FlowRunner, RetryPolicy
from pricing_edge.worker.change_sources import RunningSource, open_change_source
from pricing_edge.worker.flows.bc_sync import BigCommerceSyncFlow
from pricing_edge.worker.flows.erp_signals import ErpSignalFlow
from pricing_edge.worker.flows.orders import OrderFlow
from pricing_edge.worker.metrics import WorkerMetrics
from pricing_edge.worker.order_poller import OrderPoller
from pricing_edge.worker.ops_api import OpsApi
from pricing_edge.worker.router import Router
from pricing_edge.worker.webhooks import keep_hooks_active

log = logging.getLogger(__name__)
GAUGE_REFRESH_SECONDS = 2.0


@dataclass
class Worker:
    """Everything one worker process runs; on ``app.state.worker`` for tests."""

    store: Store
    queue: WorkQueue
    ledger: Ledger
    flows: Sequence[Flow]
    metrics: WorkerMetrics
    engine: EngineSettings
    dedup_ttl: float
    changes: RunningSource | None = None  # the ERP connector's change source, when it has one
    poller: OrderPoller | None = None  # orders whose webhook never came
    hook_keeper: Callable[[asyncio.Event], Coroutine[Any, Any, None]] | None = None  # re-activates our webhooks
    _loops: list[Router | FlowRunner] = field(default_factory=list, init=False, repr=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    async def run(self) -> None:
        wakeup = asyncio.Event()
        streams = (BIGCOMMERCE_INTAKE, ERP_INTAKE) + ((ERP_SIGNALS,) if self.changes else ())
        router = Router(self.store, self.queue, self.flows, self.metrics, dedup_ttl=self.dedup_ttl,
                        lease_ms=self.engine.lease_ms, wakeup=wakeup, streams=streams)
        runners = [FlowRunner(flow, self.queue, self.metrics, self.engine, wakeup) for flow in self.flows]
        self._loops = [router, *runners]
        loops = [router.run(), *(runner.run() for runner in runners)]
        names = ["router", *(f"flow:{runner.flow.name}" for runner in runners)]
        if self.changes is not None:
            loops.append(run_under_lease(self.changes.source, self.queue.hold_lease, interval=self.changes.interval,
                                         lease_ms=self.changes.lease_ms, metrics=self.changes.metrics,
                                         stop=self._stopping))
            names.append("erp-change-source")
        if self.poller is not None:
            loops.append(self.poller.run(self.queue.hold_lease, self.engine.lease_ms, self._stopping))
            names.append("order-poller")
        if self.hook_keeper is not None:
            loops.append(self.hook_keeper(self._stopping))
            names.append("hook-keeper")
        await run_loops(loops, stop=self.stop, names=names)

    def stop(self) -> None:
        """Route and take no more work; what is in hand may finish (see :func:`create_worker_app`)."""
        self._stopping.set()
        for loop in self._loops:
            loop.stop()


def engine_settings(settings: Settings) -> EngineSettings:
    retry = RetryPolicy(max_attempts=settings.worker_max_attempts, base_seconds=settings.worker_retry_base,
                        cap_seconds=settings.worker_retry_cap, give_up_after_seconds=settings.worker_give_up_after)
    return EngineSettings(concurrency=settings.worker_concurrency, lease_ms=int(settings.worker_lease_ttl * 1000),
                          retry=retry)


def build_worker(settings: Settings, store: Store, erp: ErpAdapter, admin: BigCommerceAdmin,
                 metrics: WorkerMetrics | None = None) -> Worker:
    metrics = metrics or WorkerMetrics()
    engine = engine_settings(settings)
    ledger = store.ledger()
    assignments = settings.assignments
    orders = OrderFlow(admin, erp, ledger, assignments,
                       OrderSettings(store_hash=settings.store_hash, document_type=settings.order_document_type),
                       metrics, claim_ms=engine.lease_ms, store=store, dedup_ttl=settings.dedup_ttl)
    flows: list[Flow] = [orders]
    if settings.bc_sync:  # off: another tool owns BigCommerce's price lists and inventory
        flows.append(BigCommerceSyncFlow(
            admin, erp, store, mirror_state(store, settings.store_hash), store_hash=settings.store_hash,
            currencies=settings.currencies, locations=settings.inventory_locations, batch_size=settings.bc_sync_batch,
            queue=store.work_queue()))
    changes = open_change_source(settings, store, erp, metrics.registry)
    if changes is not None and changes.prefix:
        flows.append(ErpSignalFlow(changes.source, changes.prefix))
    poller = OrderPoller(admin, store, ledger, metrics, store_hash=settings.store_hash,
                         interval=settings.order_poll_interval, lookback=settings.order_poll_lookback,
                         dedup_ttl=settings.dedup_ttl)
    keeper = None
    if settings.webhook_destination:
        keeper = functools.partial(keep_hooks_active, admin, settings.webhook_destination, settings, metrics,
                                   settings.hook_check_interval)
    return Worker(store, store.work_queue(), ledger, flows, metrics, engine, settings.dedup_ttl, changes,
                  poller=poller, hook_keeper=keeper)


def create_worker_app(worker: Worker, *, close: Sequence[object] = (), require_durable: bool = False,
                      background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
                      ops_tokens: Sequence[OpsToken] = (), ops_session_ttl: float = 12 * 3600,
                      grace: Grace | None = None) -> Starlette:
    """``close``: things with ``aclose()`` the app owns (store, adapters), closed at shutdown. The
    durability check runs first: with ``require_durable`` a Redis that can lose queued orders stops
    the start. ``ops_tokens``: who may use ``/ops/*`` (none: nobody). At shutdown the messages in hand get
    half of ``grace.tasks`` to finish; then every loop is cancelled (a message cut short is retaken when its
    lease runs out: handlers are idempotent)."""
    grace = grace or Grace()
    access = OpsAccess(ops_tokens, worker.store.audit_log(), session_ttl=ops_session_ttl)
    edges = EdgeBoard()
    ops = OpsApi(worker.queue, worker.ledger, [flow.name for flow in worker.flows], worker.metrics,
                 access=access, store=worker.store, edges=edges)
    if not ops_tokens:
        log.warning("no PRICING_EDGE_OPS_TOKENS: the ops API and dashboard refuse everyone")

    stopping = asyncio.Event()

    async def refresh_gauges() -> None:
        while not stopping.is_set():
            with contextlib.suppress(Exception):
                await ops.snapshot()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(GAUGE_REFRESH_SECONDS):
                    await stopping.wait()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await check_durability(worker.store, require=require_durable)
        running = asyncio.create_task(worker.run(), name="worker")
        tasks = [running, asyncio.create_task(refresh_gauges(), name="worker-gauges"),
                 asyncio.create_task(edges.run(worker.store), name="edge-snapshots"),
                 *(asyncio.create_task(job(), name=getattr(job, "__name__", "worker-job")) for job in background)]
        try:
            yield
        finally:
            stopping.set()
            worker.stop()
            await asyncio.wait([running], timeout=grace.tasks / 2)
            await cancel_and_wait(tasks, grace.tasks)
            if worker.changes is not None:
                await worker.changes.emitter.aclose()
            for resource in close:
                with contextlib.suppress(Exception):
                    await resource.aclose()  # type: ignore[attr-defined]

    async def healthz(request: Request) -> Response:
        redis_ok = await worker.store.ping()
        return JSONResponse({"status": "ok" if redis_ok else "degraded", "service": "worker",
                             "store": worker.store.kind, "store_reachable": redis_ok},
                            status_code=200 if redis_ok else 503)

    async def metrics(request: Request) -> Response:
        return Response(worker.metrics.render(), media_type=CONTENT_TYPE)

    app = Starlette(routes=[Route("/healthz", healthz), Route("/metrics", metrics), *ops.routes(),
                            *dashboard_routes()],
                    lifespan=lifespan, middleware=[Middleware(TracingMiddleware, methods=UNSAFE_METHODS)])
    app.state.worker = worker
    return app
