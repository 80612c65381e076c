"""OpenTelemetry tracing: the provider, instrumentation, and W3C trace context for Kafka headers.

Without an OTLP endpoint the provider still makes real span ids, so logs and problem responses
carry trace ids a developer can grep for; with one, spans are batched to the collector. The
server span of a request (see `http.py`, which opens it) is described in `server_span.py`.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
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
    "tracer",
]

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACES_PATH = "/v1/traces"


def configure_tracing(
    service: str, *, otlp_endpoint: str | None = None, sample_ratio: float = 1.0
) -> TracerProvider:
    """Installs the process's tracer provider; later calls return the one installed first.

    OpenTelemetry refuses to replace a global provider, so a second provider would silently
    trace nothing; handing back the installed one keeps every caller on the same pipeline.
    """
    installed = trace.get_tracer_provider()
    if isinstance(installed, TracerProvider):
        return installed
    provider = _build_provider(service, otlp_endpoint=otlp_endpoint, sample_ratio=sample_ratio)
    trace.set_tracer_provider(provider)
    return provider


def tracer(name: str) -> trace.Tracer:
    """A tracer from the installed provider (a no-op one until configure_tracing runs)."""
    return trace.get_tracer(name)


def instrument_asyncpg() -> None:
    """A client span per PostgreSQL query (once per process; later calls do nothing)."""
    instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]  # untyped upstream
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, to store with an outgoing event."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None) -> Context:
    """A context whose parent is the span a traceparent names (empty when there is none)."""
    return _PROPAGATOR.extract({"traceparent": traceparent} if traceparent else {})


def _build_provider(
    service: str, *, otlp_endpoint: str | None, sample_ratio: float
) -> TracerProvider:
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
    )
    if otlp_endpoint:
        exporter = OTLPSpanExporter(endpoint=_traces_url(otlp_endpoint))
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _traces_url(endpoint: str) -> str:
    base = endpoint.rstrip("/")
    return base if base.endswith(_TRACES_PATH) else base + _TRACES_PATH
