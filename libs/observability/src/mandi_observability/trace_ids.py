"""The ids of the current OpenTelemetry span, as the hex strings logs and problems carry."""

from __future__ import annotations

from opentelemetry import trace

__all__ = ["current_trace_ids"]


def current_trace_ids() -> tuple[str | None, str | None]:
    """(trace_id, span_id) of the active span, or (None, None) when nothing is traced."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None, None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")
