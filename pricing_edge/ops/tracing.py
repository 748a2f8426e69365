"""Correlation ids as W3C ``traceparent``, carried from intake through the queue to every outgoing call.

OpenTelemetry does the work: a message's stored ``traceparent`` is extracted into a span for the
time it is handled; :func:`inject_headers` (an httpx request hook) puts the current span's
``traceparent`` on every HTTP call; :class:`TraceIdFilter` puts its trace id on every log line.
No exporter is configured here: ids are generated and propagated whether or not spans are shipped.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
_PROPAGATOR = TraceContextTextMapPropagator()
_TRACER = TracerProvider().get_tracer("pricing_edge")


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def is_valid(traceparent: str | None) -> bool:
    if not traceparent:
        return False
    context = _PROPAGATOR.extract({TRACEPARENT: traceparent})
    return trace.get_current_span(context).get_span_context().is_valid


@contextmanager
def span(name: str, traceparent: str | None = None) -> Iterator[str]:
    """A span continuing ``traceparent`` (or a new trace); yields the span's own ``traceparent``."""
    parent = _PROPAGATOR.extract({TRACEPARENT: traceparent}) if traceparent else None
    with _TRACER.start_as_current_span(name, context=parent):
        yield current_traceparent() or ""


def new_traceparent() -> str:
    """A fresh trace's id, for an event that arrived without one."""
    with span("intake") as value:
        return value


def trace_id(traceparent: str | None) -> str:
    """The 32-hex trace id part, the thing to grep logs for ("-" when there is none)."""
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 else "-"


async def inject_headers(request: httpx.Request) -> None:
    """httpx request hook: every outgoing call carries the current span's ``traceparent``."""
    value = current_traceparent()
    if value:
        request.headers[TRACEPARENT] = value


def traced_client(**kwargs: object) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose every request carries the current ``traceparent``."""
    hooks: dict[str, list[object]] = {"request": [inject_headers], "response": []}
    return httpx.AsyncClient(event_hooks=hooks, **kwargs)  # type: ignore[arg-type]


class TraceIdFilter(logging.Filter):
    """Adds ``trace_id`` to every record so the log format can show it on every line."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else "-"
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
