"""Mandi's domain errors; `mandi_errors.http` renders them as RFC 9457 problem details.

This package imports no web framework, so domain code can raise these errors.
"""

from mandi_errors.domain_errors import (
    PROBLEM_TYPE_PREFIX,
    BadRequest,
    Conflict,
    DependencyUnavailable,
    DomainError,
    InvalidInput,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    PreconditionFailed,
    PreconditionRequired,
    RateLimited,
    UnsupportedMediaType,
    problem_type,
)

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
