"""Work that no request or message started (a command, a sweep's round) starts its own context.

Every event carries a correlation id and a trace: a request or a message brings them, and an
operation begun by an operator or a timer makes them, so what it causes can still be followed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.trace import SpanKind

from mandi_observability.context import RequestContext, bound_context
from mandi_observability.tracing import context_from_traceparent, tracer

__all__ = ["continued_operation", "started_operation"]


@contextmanager
def started_operation(name: str) -> Iterator[RequestContext]:
    """A span of its own (a new trace when none is current) and a new correlation id."""
    with (
        tracer("mandi.operations").start_as_current_span(name, kind=SpanKind.INTERNAL),
        bound_context(
            correlation_id=str(uuid.uuid4()),
            request_id=None,
            causation_id=None,
            tenant_id=None,
            principal_id=None,
        ) as context,
    ):
        yield context


@contextmanager
def continued_operation(
    name: str, *, correlation_id: str | None, traceparent: str | None
) -> Iterator[RequestContext]:
    """Work done later on behalf of an earlier message (a webhook's delivery of an event): a
    span in that message's trace, and its correlation id (a new one when it had none)."""
    with (
        tracer("mandi.operations").start_as_current_span(
            name, context=context_from_traceparent(traceparent), kind=SpanKind.INTERNAL
        ),
        bound_context(
            correlation_id=correlation_id or str(uuid.uuid4()),
            request_id=None,
            causation_id=None,
        ) as context,
    ):
        yield context
