"""Observability for Mandi's processes: request context, JSON logs, redaction, traces, metrics."""

from mandi_observability.context import (
    RequestContext,
    bind_verified_principal,
    bound_context,
    current_context,
)
from mandi_observability.http import (
    RequestContextMiddleware,
    add_metrics_route,
    instrument_app,
    metrics_endpoint,
)
from mandi_observability.logs import configure_logging, get_logger
from mandi_observability.operations import continued_operation, started_operation
from mandi_observability.redaction import (
    REDACTED,
    is_sensitive_key,
    redact,
    redact_event,
    redact_text,
)
from mandi_observability.trace_ids import current_trace_ids
from mandi_observability.tracing import (
    configure_tracing,
    context_from_traceparent,
    current_traceparent,
    instrument_asyncpg,
    tracer,
)

__all__ = [
    "REDACTED",
    "RequestContext",
    "RequestContextMiddleware",
    "add_metrics_route",
    "bind_verified_principal",
    "bound_context",
    "configure_logging",
    "configure_tracing",
    "context_from_traceparent",
    "continued_operation",
    "current_context",
    "current_trace_ids",
    "current_traceparent",
    "get_logger",
    "instrument_app",
    "instrument_asyncpg",
    "is_sensitive_key",
    "metrics_endpoint",
    "redact",
    "redact_event",
    "redact_text",
    "started_operation",
    "tracer",
]
