"""Traces: the one place spans are made and W3C ``traceparent`` goes in and out.

- One OpenTelemetry SDK provider per process, set globally (:func:`configure_tracing`). Spans are always
  made, so every hop has ids to propagate; they are *exported* only when the standard ``OTEL_*`` variables
  ask for it (``OTEL_TRACES_EXPORTER=otlp|console`` or an ``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT``). Off,
  nothing is recorded unless the caller's ``traceparent`` says it is sampled.
- In: :class:`TracingMiddleware` opens a SERVER span per request, continuing the caller's ``traceparent``.
- Out: :func:`traced_client` (an httpx client whose transport opens a CLIENT span per call and sends *that*
  span's ``traceparent`` — a child of ours, never the caller's unchanged).
- Across queues: a stream entry or queued message stores the ``traceparent`` of the span that wrote it;
  the consumer continues it with :func:`span` (``kind=CONSUMER``).
- :class:`TraceIdFilter` puts the current trace id on every log line.
"""
from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable, Collection, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import httpx
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import INVALID_SPAN_CONTEXT, Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pricing_edge.ops.stale_connections import ResendSafeOnDrop

log = logging.getLogger(__name__)
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
P = ParamSpec("P")
T = TypeVar("T")
_PROPAGATOR = TraceContextTextMapPropagator()
_IDS = RandomIdGenerator()
INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER = (SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT,
                                                SpanKind.PRODUCER, SpanKind.CONSUMER)


# -- the provider ----------------------------------------------------------------------------------
class _Switch(Sampler):
    """The provider's sampler, switchable after start: tracers keep the sampler they were made with."""

    def __init__(self, delegate: Sampler) -> None:
        self.delegate = delegate

    def should_sample(self, parent_context: Context | None, trace_id: int, name: str, kind: SpanKind | None = None,
                      attributes: Attributes = None, links: Sequence[Link] | None = None,
                      trace_state: Any = None) -> SamplingResult:
        return self.delegate.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return self.delegate.get_description()


class _Processors(SpanProcessor):
    """Span processors that can come and go (the SDK's own list only grows): the exporter set at start,
    and in tests an in-memory one for as long as a test needs it."""

    def __init__(self) -> None:
        self.processors: tuple[SpanProcessor, ...] = ()

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        for processor in self.processors:
            processor.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self.processors:
            processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self.processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(processor.force_flush(timeout_millis) for processor in self.processors)


UNSAMPLED_ROOTS = ParentBased(ALWAYS_OFF)  # the sampler while nothing exports: only a sampled caller's trace is recorded


@dataclass
class _State:
    provider: TracerProvider | None = None
    tracer: trace.Tracer | None = None  # made once: the SDK builds a new Tracer on every get_tracer
    sampler: _Switch = field(default_factory=lambda: _Switch(UNSAMPLED_ROOTS))
    processors: _Processors = field(default_factory=_Processors)
    exporter: str | None = None


_STATE = _State()


def _provider(service: str = "pricing-edge") -> TracerProvider:
    if _STATE.provider is None:
        attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": service}
        provider = TracerProvider(resource=Resource.create(attributes), sampler=_STATE.sampler,
                                  id_generator=_IDS)
        provider.add_span_processor(_STATE.processors)
        trace.set_tracer_provider(provider)
        _STATE.provider = provider
    return _STATE.provider


def _tracer() -> trace.Tracer:
    if _STATE.tracer is None:
        _STATE.tracer = _provider().get_tracer("pricing_edge")
    return _STATE.tracer


def exporter_from_env(env: Mapping[str, str]) -> SpanExporter | None:
    """The exporter the standard variables ask for; None when they ask for none (the default here)."""
    wanted = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not wanted and (env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")):
        wanted = "otlp"
    if wanted in ("", "none") or env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if wanted == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if wanted != "otlp":
        raise ValueError(f"OTEL_TRACES_EXPORTER={wanted!r}: pricing-edge ships the otlp and console exporters")
    protocol = (env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                or "http/protobuf").strip()
    if protocol != "http/protobuf":
        raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: pricing-edge exports OTLP over http/protobuf")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout, compression, certificates: from OTEL_EXPORTER_OTLP_*


def configure_tracing(service: str, env: Mapping[str, str] | None = None) -> str | None:
    """Set this process's provider globally (``service.name`` unless ``OTEL_SERVICE_NAME`` says otherwise) and
    export if the ``OTEL_*`` variables ask; says what it exports with (None: nothing leaves the process)."""
    env = os.environ if env is None else env
    _provider(service)
    exporter = exporter_from_env(env)
    if exporter is None:
        return None
    if _STATE.exporter is None:
        # What the caller's flag does not decide, OTEL_TRACES_SAMPLER does (default: every trace).
        _STATE.sampler.delegate = _sampler_from_env(env)
        _STATE.processors.processors += (BatchSpanProcessor(exporter),)  # OTEL_BSP_* tune it
        _STATE.exporter = type(exporter).__name__
        log.info("tracing: exporting spans with %s (sampler %s)", _STATE.exporter,
                 _STATE.sampler.get_description())
    return _STATE.exporter


def _sampler_from_env(env: Mapping[str, str]) -> Sampler:
    if not env.get("OTEL_TRACES_SAMPLER"):
        return ParentBased(ALWAYS_ON)
    from opentelemetry.sdk.trace import sampling

    return sampling._get_from_env_or_default()  # the SDK's own reading of OTEL_TRACES_SAMPLER[_ARG]


@contextmanager
def recording(exporter: SpanExporter) -> Iterator[SpanExporter]:
    """Every span, synchronously into ``exporter``, for as long as the block runs (the tests' in-memory one)."""
    _provider()
    processor = SimpleSpanProcessor(exporter)
    before = _STATE.sampler.delegate
    _STATE.sampler.delegate = ALWAYS_ON
    _STATE.processors.processors += (processor,)
    try:
        yield exporter
    finally:
        _STATE.processors.processors = tuple(p for p in _STATE.processors.processors if p is not processor)
        _STATE.sampler.delegate = before


def flush() -> bool:
    return _STATE.processors.force_flush()


# -- traceparent -----------------------------------------------------------------------------------
def extract(carrier: Mapping[str, str]) -> Context | None:
    """The caller's context from headers or stored fields, or None when it sent no valid one."""
    value = carrier.get(TRACEPARENT)
    if not value:
        return None
    context = _PROPAGATOR.extract(carrier)
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def inject(headers: Any) -> None:
    """Put the current span's ``traceparent`` (and ``tracestate``) into ``headers``."""
    _PROPAGATOR.inject(headers)


def is_valid(traceparent: str | None) -> bool:
    return bool(traceparent) and extract({TRACEPARENT: traceparent or ""}) is not None


def trace_id(traceparent: str | None) -> str:
    """The 32-hex trace id part, the thing to grep logs for ("-" when there is none)."""
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 else "-"


def current_trace_id() -> str:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else "-"


def link_to(traceparent: str | None) -> list[Link]:
    """A link to another trace (e.g. a replay's link to the message's first trace)."""
    context = extract({TRACEPARENT: traceparent}) if traceparent else None
    return [Link(trace.get_current_span(context).get_span_context())] if context is not None else []


# -- spans -----------------------------------------------------------------------------------------
@contextmanager
def span(name: str, traceparent: str | None = None, *, kind: SpanKind = INTERNAL,
         attributes: Attributes = None, links: Sequence[Link] = (), new_trace: bool = False) -> Iterator[str]:
    """A span continuing ``traceparent`` (else the current span; ``new_trace``: neither); yields its own
    ``traceparent``, the value to store with what it writes."""
    parent: Context | None = extract({TRACEPARENT: traceparent}) if traceparent else None
    if parent is None and new_trace:
        parent = Context()
    with _tracer().start_as_current_span(name, context=parent, kind=kind, attributes=attributes,
                                         links=links) as current:
        yield current_traceparent() or _random_traceparent(current)


def _random_traceparent(current: trace.Span) -> str:
    """Ids even where the SDK makes none (``OTEL_SDK_DISABLED``): a correlation id must exist regardless."""
    context = current.get_span_context()
    trace_hex = format(context.trace_id, "032x") if context.is_valid else format(_IDS.generate_trace_id(), "032x")
    return f"00-{trace_hex}-{_IDS.generate_span_id():016x}-00"


def traced(name: str, kind: SpanKind = INTERNAL, *,
           detached: bool = False) -> Callable[[Callable[P, Coroutine[Any, Any, T]]], Callable[P, Coroutine[Any, Any, T]]]:
    """A coroutine function run inside a span of its own: a child of the caller's, or (``detached``, for
    background work that outlives the request that started it) a new trace linked to the caller's."""

    def decorate(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
        @functools.wraps(fn)
        async def inner(*args: P.args, **kwargs: P.kwargs) -> T:
            current = trace.get_current_span()
            if (not detached and not current.is_recording() and current is not trace.INVALID_SPAN
                    and _STATE.sampler.delegate is UNSAMPLED_ROOTS):
                # A child of a trace nobody records would not be recorded either (``ParentBased``): not made at
                # all — the SDK's span machinery was most of a re-projection's record lookups (issue 20).
                return await fn(*args, **kwargs)
            caller = current.get_span_context()
            links = [Link(caller)] if detached and caller.is_valid else []
            with _tracer().start_as_current_span(name, context=Context() if detached else None, kind=kind,
                                                 links=links):
                return await fn(*args, **kwargs)

        return inner

    return decorate


def stored(fields: Mapping[str, bytes]) -> str | None:
    """The ``traceparent`` a stream entry was written with, if valid."""
    value = fields.get(TRACEPARENT, b"").decode(errors="replace")
    return value if is_valid(value) else None


@contextmanager
def appending(stream: str, headers: Mapping[str, str]) -> Iterator[str]:
    """A PRODUCER span around a stream append; yields the ``traceparent`` to store with the entry. It continues
    the request's SERVER span (or, with no middleware around, the caller's own header)."""
    inherited = None if trace.get_current_span().get_span_context().is_valid else headers.get(TRACEPARENT)
    with span(f"{stream} append", inherited, kind=PRODUCER,
              attributes={"messaging.destination.name": stream}) as value:
        yield value


def new_traceparent() -> str:
    """A fresh trace's id, for something that arrived without one."""
    with span("new trace", new_trace=True) as value:
        return value


def annotate(**attributes: Any) -> None:
    """Attributes on the current span (cheap when it is not recording)."""
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes({f"pricing_edge.{k}": v for k, v in attributes.items() if v is not None})


def failed(exc: BaseException) -> None:
    """Mark the current span as failed with ``exc`` (spans end OK unless told)."""
    current = trace.get_current_span()
    if current.is_recording():
        current.record_exception(exc)
        current.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:300]))


# -- one attempt's calls (the ledger shows the attempts that touched the ERP) -----------------------
_CALLS: ContextVar[dict[str, int] | None] = ContextVar("pricing_edge_calls", default=None)


@contextmanager
def counting_calls() -> Iterator[dict[str, int]]:
    """Counts the traced HTTP calls made inside the block, per peer (``erp``, ``bigcommerce``)."""
    calls: dict[str, int] = {}
    token = _CALLS.set(calls)
    try:
        yield calls
    finally:
        _CALLS.reset(token)


def calls_so_far() -> dict[str, int]:
    return dict(_CALLS.get() or {})


# -- in and out over HTTP --------------------------------------------------------------------------
_ID_SEGMENT = re.compile(r"/(?:\d+|[A-Za-z]+-\d[\w-]*)(?=/|$)")


def path_template(path: str) -> str:
    """``/stores/demo/v2/orders/250`` → ``/stores/demo/v2/orders/{id}``: span names of bounded variety."""
    return _ID_SEGMENT.sub("/{id}", path)


# The flags of a root span nobody records: made once (the id generator never changes).
_UNRECORDED_FLAGS = TraceFlags(TraceFlags.RANDOM_TRACE_ID if _IDS.is_trace_id_random() else TraceFlags.DEFAULT)


class _UnrecordedRoot(NonRecordingSpan):
    """What the SDK's tracer makes for a root span its sampler drops: fresh ids, not sampled, never recorded —
    the ids drawn when first asked for (a cached answer never asks: it calls nothing that carries them on)."""

    _context = INVALID_SPAN_CONTEXT  # until drawn (made for every request: nothing set per instance)

    def __init__(self) -> None:
        pass

    def get_span_context(self) -> SpanContext:
        if self._context is INVALID_SPAN_CONTEXT:
            self._context = SpanContext(_IDS.generate_trace_id(), _IDS.generate_span_id(), is_remote=False,
                                        trace_flags=_UNRECORDED_FLAGS)
        return self._context

    def __repr__(self) -> str:
        return f"NonRecordingSpan({self.get_span_context()!r})"


class TracingMiddleware:
    """A SERVER span per HTTP request (``GET /ops/dlq/{dlq_id}``), continuing the caller's ``traceparent``.
    Health and metrics probes are left alone."""

    def __init__(self, app: ASGIApp, skip: Sequence[str] = ("/healthz", "/readyz", "/metrics"),
                 methods: Collection[str] | None = None) -> None:
        self.app = app
        self.skip = frozenset(skip)
        self.methods = frozenset(methods) if methods is not None else None  # None: every method

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.skip or (
                self.methods is not None and scope["method"] not in self.methods):
            await self.app(scope, receive, send)
            return
        carrier = {}
        for name, value in scope["headers"]:
            if name in (b"traceparent", b"tracestate"):
                carrier[name.decode()] = value.decode("latin-1")
        if not carrier and _STATE.sampler.delegate is UNSAMPLED_ROOTS:
            # A root span nobody records: the ids the SDK would give it, without the SDK's machinery around them
            # (that machinery was a third of the CPU of a cached answer).
            token = otel_context.attach(trace.set_span_in_context(_UnrecordedRoot()))
            try:
                await self.app(scope, receive, send)
            finally:
                otel_context.detach(token)
            return
        method = scope["method"]
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        tracer = _tracer()
        with tracer.start_as_current_span(method, context=extract(carrier) if carrier else None, kind=SERVER,
                                          record_exception=True) as current:
            try:
                await self.app(scope, receive, sending)
            finally:
                if current.is_recording():
                    route = getattr(scope.get("route"), "path", None)  # the template: names of bounded variety
                    if route:
                        current.update_name(f"{method} {route}")
                    current.set_attributes({"http.request.method": method, "url.path": scope["path"],
                                            "http.response.status_code": status})
                    if status >= 500:
                        current.set_status(Status(StatusCode.ERROR))


class TracedTransport(httpx.AsyncBaseTransport):
    """A CLIENT span per call to ``peer``, whose own ``traceparent`` the request carries."""

    def __init__(self, peer: str, inner: httpx.AsyncBaseTransport) -> None:
        self.peer = peer
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        calls = _CALLS.get()
        if calls is not None:
            calls[self.peer] = calls.get(self.peer, 0) + 1
        name = f"{self.peer} {request.method} {path_template(request.url.path)}"
        with _tracer().start_as_current_span(name, kind=CLIENT, record_exception=True) as current:
            for header in (TRACEPARENT, TRACESTATE):
                if header in request.headers:
                    del request.headers[header]  # never a caller's context unchanged: ours, the child's
            inject(request.headers)
            response = await self.inner.handle_async_request(request)
            if current.is_recording():
                current.set_attributes({"peer.service": self.peer, "http.request.method": request.method,
                                        "url.path": request.url.path, "server.address": request.url.host,
                                        "http.response.status_code": response.status_code})
                if response.status_code >= 500:
                    current.set_status(Status(StatusCode.ERROR))
            return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def traced_client(peer: str = "http", *, limits: httpx.Limits | None = None, **kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose every call is a CLIENT span to ``peer`` carrying its ``traceparent``, and
    whose safe requests a server dropped unanswered are resent once (``ops/stale_connections.py``)."""
    inner = httpx.AsyncHTTPTransport(limits=limits) if limits else httpx.AsyncHTTPTransport()
    return httpx.AsyncClient(transport=TracedTransport(peer, ResendSafeOnDrop(inner)), **kwargs)


# -- logs ------------------------------------------------------------------------------------------
class TraceIdFilter(logging.Filter):
    """Adds ``trace_id`` to every record so the log format can show it on every line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = current_trace_id()
        return True


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s trace=%(trace_id)s %(message)s"


def configure_logging(level: str = "info") -> None:
    """Every line carries the trace id of the message being handled (``trace=-`` outside one)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(TraceIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())

