"""Traces you can follow: the span tree of one ``/graphql`` request and of one ERP change, the
``traceparent`` each hop really received (a child's, never the shopper's unchanged), and spans that leave
the process through OTLP when — and only when — the standard ``OTEL_*`` variables ask for it."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pricing_edge.ops import tracing
from tests.ops.conftest import Spans, TracedEdge
from tests.support.polling import wait_until
from tests.support.servers import serve

SHOPPER_TRACE = "0af7651916cd43dd8448eb211c80319c"
SHOPPER_SPAN = "b7ad6b7169203331"
QUERY = ("query P($id: Int!) { site { product(entityId: $id) { name prices { price { value } } "
         "inventory { aggregated { availableToSell } } } } }")


def ask(system: TracedEdge, product_id: int, traceparent: str) -> httpx.Response:
    buyer: dict[str, Any] = system.fixtures["buyers"][0]  # type: ignore[index]
    response = httpx.post(system.edge.base_url + "/graphql", json={"query": QUERY, "variables": {"id": product_id}},
                          headers={**buyer["headers"], "traceparent": traceparent}, timeout=30)
    assert response.status_code == 200, response.text
    return response


def only(found: list[ReadableSpan], what: str) -> ReadableSpan:
    assert len(found) == 1, f"{what}: {[s.name for s in found]}"
    return found[0]


def test_one_graphql_request_is_one_tree_and_each_hop_gets_its_own_childs_traceparent(
        traced_edge: TracedEdge, spans: Spans) -> None:
    product = traced_edge.fixtures["products"][3]  # type: ignore[index]
    ask(traced_edge, product["entity_id"], f"00-{SHOPPER_TRACE}-{SHOPPER_SPAN}-01")

    def tree_complete() -> list[ReadableSpan]:
        found = spans.of_trace(SHOPPER_TRACE)
        names = {s.name for s in found}
        return found if {"POST /graphql", "erp GET /api/v1/price-lists/{id}/prices",
                         "erp GET /api/v1/stock"} <= names else []

    trace = wait_until(tree_complete, timeout=30, what="the request's spans, ERP reads included")
    server = only([s for s in trace if s.name == "POST /graphql"], "the request's SERVER span")
    assert server.kind is SpanKind.SERVER and server.parent is not None
    assert format(server.parent.span_id, "016x") == SHOPPER_SPAN  # it continues the shopper's trace
    under_server = {s.name for s in spans.children(trace, server)}
    assert {"graphql.document", "graphql.answer"} <= under_server

    answer = only([s for s in trace if s.name == "graphql.answer"], "the answer span")
    under_answer = spans.children(trace, answer)
    upstream = only([s for s in under_answer if s.name == "bigcommerce POST /graphql"], "the upstream call")
    assert upstream.kind is SpanKind.CLIENT and upstream.attributes["http.response.status_code"] == 200
    prices = only([s for s in under_answer if s.name == "records.price"], "the price records")
    stock = only([s for s in under_answer if s.name == "records.stock"], "the stock records")
    erp_prices = only(spans.children(trace, prices), "the ERP price read")
    erp_stock = only(spans.children(trace, stock), "the ERP stock read")
    assert erp_prices.kind is SpanKind.CLIENT and erp_prices.attributes["peer.service"] == "erp"

    # What BigCommerce and the ERP received: our CLIENT spans' contexts, never the shopper's header.
    clients = {spans.traceparent(s) for s in trace if s.kind is SpanKind.CLIENT}
    upstream_parents = {r[2].get("traceparent") for r in traced_edge.bigcommerce.requests("/graphql")
                        if SHOPPER_TRACE in r[2].get("traceparent", "")}
    assert spans.traceparent(upstream) in upstream_parents and upstream_parents <= clients
    assert not any(SHOPPER_SPAN in parent for parent in upstream_parents)
    erp_parents = {r[2].get("traceparent") for r in traced_edge.erp.requests("/api/v1/")}
    assert {spans.traceparent(erp_prices), spans.traceparent(erp_stock)} <= erp_parents

    # The same question again is a hit: one span, no upstream, no ERP, no re-parse.
    again = "1f5d1e2c3b4a59687766554433221100"
    ask(traced_edge, product["entity_id"], f"00-{again}-{SHOPPER_SPAN}-01")
    hit = wait_until(lambda: spans.of_trace(again), timeout=15, what="the second request's span")
    assert [s.name for s in hit] == ["POST /graphql"]
    assert hit[0].attributes["pricing_edge.cache"] == "hit"


def test_an_erp_change_is_one_trace_from_the_change_source_to_every_invalidation(
        traced_edge: TracedEdge, spans: Spans) -> None:
    product = traced_edge.fixtures["products"][2]  # type: ignore[index]
    sku = product["variants"][0]["sku"]
    changed = httpx.post(f"{traced_edge.settings.erp_url}/_sim/changes/price", timeout=30,
                         json={"price_list_id": 2, "sku": sku, "currency": "USD", "price": "19.19"})
    assert changed.status_code == 200, changed.text

    def chain() -> list[ReadableSpan]:
        sources = [s for s in spans.named("erp.change")]
        if not sources:
            return []
        trace = spans.of_trace(format(sources[-1].context.trace_id, "032x"))  # type: ignore[union-attr]
        return trace if "invalidate apply" in {s.name for s in trace} else []

    trace = wait_until(chain, timeout=30, what="the change's trace down to the invalidation")
    by_name = {s.name: s for s in trace}
    steps = ["erp.change", "receiver POST /events/erp", "POST /events/erp", "intake:erp append", "intake:erp process",
             "invalidate publish", "invalidate apply"]
    assert set(steps) <= set(by_name), sorted(by_name)
    for parent, child in zip(steps, steps[1:], strict=False):
        assert by_name[child].parent is not None and by_name[parent].context is not None
        assert by_name[child].parent.span_id == by_name[parent].context.span_id, f"{child} under {parent}"
    assert by_name["erp.change"].kind is SpanKind.PRODUCER
    assert by_name["intake:erp process"].kind is SpanKind.CONSUMER
    assert by_name["intake:erp process"].attributes["pricing_edge.event_type"] == "com.pricingedge.price.changed"


def test_health_and_metrics_probes_make_no_spans(traced_edge: TracedEdge, spans: Spans) -> None:
    for path in ("/healthz", "/metrics"):
        assert httpx.get(traced_edge.edge.base_url + path, timeout=30).status_code == 200
    assert not [s for s in spans.all() if s.name.endswith(("/healthz", "/metrics"))]


# -- export: off by default, OTLP when the standard variables ask ---------------------------------------
def test_no_exporter_unless_the_otel_variables_ask() -> None:
    assert tracing.exporter_from_env({}) is None
    assert tracing.exporter_from_env({"OTEL_TRACES_EXPORTER": "none",
                                      "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}) is None
    assert tracing.exporter_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
                                      "OTEL_SDK_DISABLED": "true"}) is None
    assert type(tracing.exporter_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})).__name__ \
        == "OTLPSpanExporter"
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER='zipkin'"):
        tracing.exporter_from_env({"OTEL_TRACES_EXPORTER": "zipkin"})
    with pytest.raises(ValueError, match="http/protobuf"):
        tracing.exporter_from_env({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})


PROBE = """
from pricing_edge.ops import tracing
print(tracing.configure_tracing("pricing-edge-probe"), flush=True)
with tracing.span("probe.outer"):
    with tracing.span("probe.inner", kind=tracing.CLIENT):
        pass
assert tracing.flush()
"""


def test_spans_leave_the_process_over_otlp_when_asked() -> None:
    received: list[bytes] = []
    lock = threading.Lock()

    async def collector(request: Request) -> Response:
        body = await request.body()
        with lock:
            received.append(body)
        return Response(b"", 200, media_type="application/x-protobuf")

    with serve(Starlette(routes=[Route("/v1/traces", collector, methods=["POST"])])) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = server.base_url
        result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "OTLPSpanExporter"
        wait_until(lambda: received, timeout=15, what="an OTLP export")
    request = ExportTraceServiceRequest()
    request.ParseFromString(received[0])
    (resource_spans,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}["service.name"]
    assert service == "pricing-edge-probe"
    names = {span.name: span for scope in resource_spans.scope_spans for span in scope.spans}
    assert set(names) == {"probe.outer", "probe.inner"}
    assert names["probe.inner"].parent_span_id == names["probe.outer"].span_id


def test_without_otel_variables_nothing_is_exported() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"


def test_a_request_nobody_records_still_has_ids_of_its_own_and_a_sampled_caller_is_recorded() -> None:
    """While nothing exports, a request without a ``traceparent`` gets a root span that is never recorded — but
    it has ids (logs and outgoing calls carry them), new ones for every request, as the SDK would give it."""
    seen: list[str] = []

    async def endpoint(request: Request) -> Response:
        seen.append(tracing.current_traceparent() or "")
        return Response(b"ok")

    app = Starlette(routes=[Route("/x", endpoint)], middleware=[])
    app.add_middleware(tracing.TracingMiddleware)
    with serve(app) as server:
        for _ in range(2):
            assert httpx.get(server.base_url + "/x", timeout=30).status_code == 200
        sampled = f"00-{SHOPPER_TRACE}-{SHOPPER_SPAN}-01"
        assert httpx.get(server.base_url + "/x", headers={"traceparent": sampled}, timeout=30).status_code == 200
    first, second, continued = seen
    assert tracing.is_valid(first) and tracing.is_valid(second)
    assert tracing.trace_id(first) != tracing.trace_id(second)
    assert not first.endswith("-01")  # not sampled: nothing records it
    assert tracing.trace_id(continued) == SHOPPER_TRACE  # a caller's trace is continued, as before


def test_a_request_nobody_records_keeps_the_ids_it_was_first_given() -> None:
    """Its ids are drawn only when something asks for them (a cached answer never does), then stay its own."""
    seen: list[tuple[str, str]] = []

    async def endpoint(request: Request) -> Response:
        seen.append((tracing.current_traceparent() or "", tracing.current_traceparent() or ""))
        return Response(b"ok")

    app = Starlette(routes=[Route("/x", endpoint)], middleware=[])
    app.add_middleware(tracing.TracingMiddleware)
    with serve(app) as server:
        assert httpx.get(server.base_url + "/x", timeout=30).status_code == 200
    [(first, again)] = seen
    assert tracing.is_valid(first) and again == first


def test_a_traced_step_of_a_request_nobody_records_makes_no_span_and_one_of_a_sampled_caller_does() -> None:
    """While nothing exports, a child of an unrecorded request would be dropped (``ParentBased``): it is not made,
    the step runs in the request's span; a sampled caller's request gets the child span as before."""
    seen: list[str] = []

    @tracing.traced("step")
    async def step() -> None:
        seen.append(tracing.current_traceparent() or "")

    async def endpoint(request: Request) -> Response:
        seen.append(tracing.current_traceparent() or "")
        await step()
        return Response(b"ok")

    app = Starlette(routes=[Route("/x", endpoint)], middleware=[])
    app.add_middleware(tracing.TracingMiddleware)
    with serve(app) as server:
        assert httpx.get(server.base_url + "/x", timeout=30).status_code == 200
        sampled = f"00-{SHOPPER_TRACE}-{SHOPPER_SPAN}-01"
        assert httpx.get(server.base_url + "/x", headers={"traceparent": sampled}, timeout=30).status_code == 200
    request, in_step, sampled_request, sampled_step = seen
    assert tracing.is_valid(request) and in_step == request  # no child: the request's own span
    assert tracing.trace_id(sampled_step) == SHOPPER_TRACE and sampled_step != sampled_request  # a child of its own
