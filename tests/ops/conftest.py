"""Fixtures for traces and the ops surface: every span in memory (the SDK's own in-memory exporter), and
the simulators behind a wire recorder, so a test can see which ``traceparent`` each hop really received."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.types import ASGIApp, Receive, Scope, Send

from pricing_edge.config import Settings
from pricing_edge.demo import bigcommerce_sim_app, demo_settings, edge_app, erp_sim_app
from pricing_edge.ops import tracing
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.fixtures import DemoLayout, demo_fixtures
from tests.support.redis_server import free_port
from tests.support.servers import ServerThread, serve


class Spans:
    """What the in-memory exporter holds, asked the way the tests need it."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter

    def all(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def of_trace(self, trace_id: str) -> list[ReadableSpan]:
        return [s for s in self.all() if s.context is not None and format(s.context.trace_id, "032x") == trace_id]

    def named(self, name: str, trace_id: str | None = None) -> list[ReadableSpan]:
        return [s for s in (self.of_trace(trace_id) if trace_id else self.all()) if s.name == name]

    @staticmethod
    def children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
        assert parent.context is not None
        return [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]

    @staticmethod
    def traceparent(span: ReadableSpan) -> str:
        assert span.context is not None
        return f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-01"


@pytest.fixture
def spans() -> Iterator[Spans]:
    with tracing.recording(InMemorySpanExporter()) as exporter:
        assert isinstance(exporter, InMemorySpanExporter)
        yield Spans(exporter)


@dataclass
class Wire:
    """An ASGI wrapper keeping (method, path, headers) of every request that reached ``app``."""

    app: ASGIApp
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            with self.lock:
                self.seen.append((scope["method"], scope["path"], headers))
        await self.app(scope, receive, send)

    def requests(self, path_part: str) -> list[tuple[str, str, dict[str, str]]]:
        with self.lock:
            return [r for r in self.seen if path_part in r[1]]


@dataclass
class TracedEdge:
    settings: Settings
    fixtures: dict[str, object]
    edge: ServerThread
    bigcommerce: Wire
    erp: Wire


@pytest.fixture
def traced_edge(tmp_path: Path) -> Iterator[TracedEdge]:
    """BigCommerce and ERP simulators (behind recorders) and an edge, on the embedded store."""
    port, bc_port, erp_port = free_port(), free_port(), free_port()
    settings = demo_settings(Settings.from_env({}), DemoLayout(port))
    settings = replace(settings, upstream_url=f"http://127.0.0.1:{bc_port}/graphql",
                       erp_url=f"http://127.0.0.1:{erp_port}", schema_cache=str(tmp_path / "schema.json"),
                       bc_latency_ms=0.0, erp_latency_ms=0.0)
    bigcommerce, erp = Wire(bigcommerce_sim_app(settings)), Wire(erp_sim_app(settings))
    with serve(bigcommerce, bc_port), serve(erp, erp_port), serve(edge_app(settings), port) as edge:
        yield TracedEdge(settings, demo_fixtures(build_dataset(settings.seed), DemoLayout(port), settings), edge,
                         bigcommerce, erp)
