"""The FastAPI side of Mandi's errors: every error answered as RFC 9457 `application/problem+json`.

app = FastAPI()
install_problem_handlers(app)
app.add_middleware(BodySizeLimitMiddleware, max_bytes=1_048_576)
"""

from mandi_errors.http.body_limits import JSON_BODIES, BodySizeLimitMiddleware
from mandi_errors.http.handlers import (
    ResponseWatch,
    UnexpectedErrorMiddleware,
    install_problem_handlers,
)
from mandi_errors.http.problem import (
    PROBLEM_JSON,
    FieldError,
    ProblemDetail,
    ProblemResponse,
    ValidationProblemDetail,
)
from mandi_errors.http.rendering import problem_response

__all__ = [
    "JSON_BODIES",
    "PROBLEM_JSON",
    "BodySizeLimitMiddleware",
    "FieldError",
    "ProblemDetail",
    "ProblemResponse",
    "ResponseWatch",
    "UnexpectedErrorMiddleware",
    "ValidationProblemDetail",
    "install_problem_handlers",
    "problem_response",
]
