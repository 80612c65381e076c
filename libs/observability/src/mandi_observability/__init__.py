"""Observability for Mandi's processes: request context, JSON logs, traces, metrics."""

from mandi_observability.context import RequestContext, bound_context, current_context
from mandi_observability.trace_ids import current_trace_ids

__all__ = ["RequestContext", "bound_context", "current_context", "current_trace_ids"]
