"""Turning any exception into a problem response: domain errors, validation, HTTP, the rest.

What reaches the client is chosen here: a domain error's detail, where validation failed (never
the value sent), and for anything unexpected nothing but a generic sentence.
"""

from __future__ import annotations

from http import HTTPStatus
from math import ceil

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from mandi_errors.domain_errors import (
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
from mandi_errors.http.problem import (
    FieldError,
    ProblemDetail,
    ProblemResponse,
    ValidationProblemDetail,
)
from mandi_observability.context import current_context
from mandi_observability.trace_ids import current_trace_ids

__all__ = ["problem_response"]

# An HTTP error raised by the framework (unknown route, wrong method) gets the same problem type
# as the domain error of its status, so clients handle one `type` per outcome.
_BY_STATUS: dict[int, type[DomainError]] = {
    error.status: error
    for error in (
        BadRequest,
        NotAuthenticated,
        PermissionDenied,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        InvalidInput,
        PreconditionRequired,
        RateLimited,
        DependencyUnavailable,
    )
}
_INTERNAL_DETAIL = "The server failed to answer this request; its logs say why."


def problem_response(error: Exception, instance: str) -> ProblemResponse:
    """The problem+json answer to `error` raised while serving the path `instance`."""
    if isinstance(error, DomainError):
        return _from_domain_error(error, instance)
    if isinstance(error, RequestValidationError):
        return _from_validation_error(error, instance)
    if isinstance(error, HTTPException):
        return _from_http_exception(error, instance)
    return _internal_error(instance)


def _from_domain_error(error: DomainError, instance: str) -> ProblemResponse:
    problem = _problem(error.status, error.type_slug, error.title, error.detail, instance)
    # Standard members win over extensions; pydantic serialises extensions' dates, ids, decimals.
    body = ProblemDetail.model_validate({**error.extensions, **problem.model_dump()})
    return ProblemResponse(
        body.model_dump(mode="json"), status_code=error.status, headers=_domain_headers(error)
    )


def _domain_headers(error: DomainError) -> dict[str, str]:
    headers = {}
    if error.retry_after_seconds is not None:
        headers["Retry-After"] = str(max(0, ceil(error.retry_after_seconds)))
    if isinstance(error, MethodNotAllowed) and error.allowed_methods:
        headers["Allow"] = ", ".join(error.allowed_methods)
    return headers


def _from_validation_error(error: RequestValidationError, instance: str) -> ProblemResponse:
    # Only where and why: the rejected input may be a password, a token or personal data.
    errors = [
        FieldError(loc=list(item["loc"]), msg=str(item["msg"]), type=str(item["type"]))
        for item in error.errors()
    ]
    base = _problem(422, InvalidInput.type_slug, InvalidInput.title, _count(errors), instance)
    problem = ValidationProblemDetail(**base.model_dump(), errors=errors)
    return ProblemResponse(problem.model_dump(mode="json"), status_code=422)


def _count(errors: list[FieldError]) -> str:
    noun = "part" if len(errors) == 1 else "parts"
    return f"{len(errors)} {noun} of the request failed validation: see errors."


def _from_http_exception(error: HTTPException, instance: str) -> ProblemResponse:
    type_slug, title = _describe_status(error.status_code)
    detail = error.detail if isinstance(error.detail, str) and error.detail else title
    problem = _problem(error.status_code, type_slug, title, detail, instance)
    return ProblemResponse(
        problem.model_dump(mode="json"), status_code=error.status_code, headers=error.headers
    )


def _describe_status(status: int) -> tuple[str, str]:
    known = _BY_STATUS.get(status)
    if known is not None:
        return known.type_slug, known.title
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return f"http-{status}", f"HTTP {status}"
    return phrase.lower().replace(" ", "-"), phrase


def _internal_error(instance: str) -> ProblemResponse:
    problem = _problem(500, "internal-error", "Internal server error", _INTERNAL_DETAIL, instance)
    return ProblemResponse(problem.model_dump(mode="json"), status_code=500)


def _problem(status: int, type_slug: str, title: str, detail: str, instance: str) -> ProblemDetail:
    trace_id, _span_id = current_trace_ids()
    return ProblemDetail(
        type=problem_type(type_slug),
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        trace_id=trace_id,
        correlation_id=current_context().correlation_id,
    )
