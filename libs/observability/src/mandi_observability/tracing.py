"""OpenTelemetry tracing: the provider, instrumentation, and W3C trace context for Kafka headers.

Without an OTLP endpoint the provider still makes real span ids, so logs and problem responses
carry trace ids a developer can grep for; with one, spans are batched to the collector.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = [
    "configure_tracing",
    "context_from_traceparent",
    "current_traceparent",
    "instrument_asyncpg",
    "instrument_fastapi",
    "tracer",
]

_PROPAGATOR = TraceContextTextMapPropagator()
_UNTRACED_URLS = "metrics,healthz,readyz"


def configure_tracing(
    service: str, *, otlp_endpoint: str | None = None, sample_ratio: float = 1.0
) -> TracerProvider:
    """Installs the process's tracer provider (once per process, as OpenTelemetry requires)."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
    )
    if otlp_endpoint:
        exporter = OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def tracer(name: str) -> trace.Tracer:
    """A tracer from the installed provider (a no-op one until configure_tracing runs)."""
    return trace.get_tracer(name)


def instrument_fastapi(app: FastAPI) -> None:
    """A server span per request, except for probes and metrics scrapes."""
    FastAPIInstrumentor.instrument_app(app, excluded_urls=_UNTRACED_URLS)


def instrument_asyncpg() -> None:
    """A client span per PostgreSQL query."""
    AsyncPGInstrumentor().instrument()


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, to store with an outgoing event."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None) -> Context:
    """A context whose parent is the span a traceparent names (empty when there is none)."""
    return _PROPAGATOR.extract({"traceparent": traceparent} if traceparent else {})
