"""The ids that travel with one request or message: correlation, causation, tenant, principal.

Logs, problem responses, the unit of work (row-level security) and outgoing events all read
them from here, so one `bound_context` at the edge of a request or a consumer is enough.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

__all__ = ["RequestContext", "bind_verified_principal", "bound_context", "current_context"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who acts, for which tenant, in which conversation."""

    request_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    tenant_id: str | None = None
    principal_id: str | None = None


_EMPTY = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("mandi_request_context", default=_EMPTY)


def current_context() -> RequestContext:
    """The context of the request or message being handled (empty outside one)."""
    return _current.get()


@contextmanager
def bound_context(**ids: str | None) -> Iterator[RequestContext]:
    """Sets some ids for the duration of a block, keeping the others as they were."""
    token = _current.set(replace(_current.get(), **ids))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def bind_verified_principal(tenant_id: str, principal_id: str) -> None:
    """Adds a verified principal's ids to the request being handled, until its context ends.

    Only code that has verified the principal calls this (the principal resolver): the request
    middleware never binds a tenant from a header.
    """
    _current.set(replace(_current.get(), tenant_id=tenant_id, principal_id=principal_id))
