"""Errors the domain raises, each knowing the HTTP status and RFC 9457 problem type it becomes.

Nothing here imports a web framework: domain code raises these, and `mandi_errors.http` renders
them as `application/problem+json`.
"""

# The names say the outcome a client sees (NotFound, Conflict), as HTTP's own names do;
# an "Error" suffix on each would add nothing.

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import ClassVar

__all__ = [
    "PROBLEM_TYPE_PREFIX",
    "BadRequest",
    "Conflict",
    "DependencyUnavailable",
    "DomainError",
    "InvalidInput",
    "MethodNotAllowed",
    "NotAuthenticated",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "PreconditionFailed",
    "PreconditionRequired",
    "RateLimited",
    "UnsupportedMediaType",
    "problem_type",
]

PROBLEM_TYPE_PREFIX = "urn:mandi:problem:"


def problem_type(type_slug: str) -> str:
    """The problem's `type` URI, e.g. `urn:mandi:problem:not-found`."""
    return f"{PROBLEM_TYPE_PREFIX}{type_slug}"


class DomainError(Exception):
    """A request the domain refuses; `detail` is shown to the client, so it holds nothing secret."""

    status: ClassVar[int] = 400
    type_slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    # Set by errors a client may retry (rate limit, unavailable dependency): sent as Retry-After.
    retry_after_seconds: int | None = None

    def __init__(
        self, detail: str | None = None, *, extensions: Mapping[str, object] | None = None
    ) -> None:
        self.detail = detail or self.title
        self.extensions: Mapping[str, object] = MappingProxyType(dict(extensions or {}))
        super().__init__(self.detail)

    @property
    def type_uri(self) -> str:
        """This error's problem `type` URI."""
        return problem_type(self.type_slug)


class BadRequest(DomainError):
    """The request cannot be understood as sent."""


class InvalidInput(DomainError):
    """The request is well formed but its content breaks a rule."""

    status = 422
    type_slug = "invalid-input"
    title = "Invalid input"


class NotAuthenticated(DomainError):
    """No valid credential came with the request."""

    status = 401
    type_slug = "not-authenticated"
    title = "Not authenticated"


class PermissionDenied(DomainError):
    """The principal is known but may not do this."""

    status = 403
    type_slug = "permission-denied"
    title = "Permission denied"


class NotFound(DomainError):
    """The resource does not exist, or is not visible to this principal."""

    status = 404
    type_slug = "not-found"
    title = "Not found"


class MethodNotAllowed(DomainError):
    """The resource exists but does not answer this method."""

    status = 405
    type_slug = "method-not-allowed"
    title = "Method not allowed"

    def __init__(
        self,
        detail: str | None = None,
        *,
        allowed_methods: Sequence[str] = (),
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail, extensions=extensions)
        self.allowed_methods = tuple(allowed_methods)


class Conflict(DomainError):
    """The request conflicts with the resource's current state."""

    status = 409
    type_slug = "conflict"
    title = "Conflict"


class PreconditionFailed(DomainError):
    """The resource changed since the client read it (its `If-Match` no longer holds)."""

    status = 412
    type_slug = "precondition-failed"
    title = "Precondition failed"


class PayloadTooLarge(DomainError):
    """The request's body is larger than this endpoint accepts."""

    status = 413
    type_slug = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(DomainError):
    """The request's body is in a format this endpoint does not read."""

    status = 415
    type_slug = "unsupported-media-type"
    title = "Unsupported media type"


class PreconditionRequired(DomainError):
    """The change needs a precondition (`If-Match`) so it cannot overwrite another one."""

    status = 428
    type_slug = "precondition-required"
    title = "Precondition required"


class RateLimited(DomainError):
    """Too many requests; the client may try again after `retry_after_seconds`."""

    status = 429
    type_slug = "rate-limited"
    title = "Too many requests"

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after_seconds: int,
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail, extensions=extensions)
        self.retry_after_seconds = retry_after_seconds


class DependencyUnavailable(DomainError):
    """A service this request needs does not answer; trying again later may work."""

    status = 503
    type_slug = "dependency-unavailable"
    title = "Dependency unavailable"

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after_seconds: int | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail, extensions=extensions)
        self.retry_after_seconds = retry_after_seconds
