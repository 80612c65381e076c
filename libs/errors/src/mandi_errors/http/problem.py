"""The RFC 9457 problem document every Mandi API answers an error with, and its response class."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

__all__ = [
    "PROBLEM_JSON",
    "FieldError",
    "ProblemDetail",
    "ProblemResponse",
    "ValidationProblemDetail",
]

PROBLEM_JSON = "application/problem+json"


class ProblemDetail(BaseModel):
    """An error as RFC 9457 describes it, with the ids that find its logs and trace."""

    model_config = ConfigDict(extra="allow")  # problem types may add their own members

    type: str
    title: str
    status: int
    detail: str
    instance: str
    # The gateway's own answers carry no trace (nginx makes none); services' always do.
    trace_id: str | None = None
    correlation_id: str | None = None


class FieldError(BaseModel):
    """Where a request failed validation and why; never the value that was sent."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationProblemDetail(ProblemDetail):
    """A 422 problem; when the request's shape was wrong, `errors` lists each invalid part."""

    errors: list[FieldError] = Field(default_factory=list)


class ProblemResponse(JSONResponse):
    """A JSON response sent as `application/problem+json`."""

    media_type = PROBLEM_JSON
