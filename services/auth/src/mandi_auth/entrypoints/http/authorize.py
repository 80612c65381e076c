"""The gateway's auth_request endpoint, answered ahead of the application's middleware.

nginx asks it before every request it passes on, so it skips what the gateway already does for
that request: the access log (nginx's has the decision, tenant and principal), a trace of its
own, body handling. It keeps the latency metric, and an error is logged and answered 500, which
nginx turns into a 503 problem for the client.

nginx understands only 2xx, 401 and 403 from it, so a rate-limit or quota refusal is a 403 with
`X-Mandi-Reason` saying which; nginx turns it into the 429 the client sees.

Only the gateway may ask: without its secret the answer is a 403 before any credential is
looked at, so the endpoint is no credential oracle for whoever reaches the auth port. The route
tells which service a request targets (`X-Mandi-Service`) and the path it routed on
(`X-Mandi-Path`); a request without them is refused, never passed as needing no scope.
"""

from __future__ import annotations

import math
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.status import (
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_405_METHOD_NOT_ALLOWED,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from mandi_auth.service_layer.authorize import AuthorizeRequest, Decision, authorize
from mandi_observability import get_logger
from mandi_observability.metrics import HTTP_REQUEST_DURATION
from mandi_security import gateway_headers, is_from_gateway

__all__ = ["AUTHORIZE_PATH", "AuthorizeFastPath", "decide"]

AUTHORIZE_PATH = "/internal/authorize"
_logger = get_logger("mandi.auth.authorize")


class AuthorizeFastPath:
    """ASGI wrapper: GET /internal/authorize goes straight to `decide`, the rest to the app."""

    def __init__(self, app: ASGIApp, service_name: str) -> None:
        self.app = app
        self.service_name = service_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != AUTHORIZE_PATH:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        response = await self._answer(Request(scope, receive))
        await response(scope, receive, send)
        HTTP_REQUEST_DURATION.labels(
            self.service_name, scope["method"], AUTHORIZE_PATH, str(response.status_code)
        ).observe(time.perf_counter() - started)

    async def _answer(self, request: Request) -> Response:
        if request.method != "GET":
            return Response(status_code=HTTP_405_METHOD_NOT_ALLOWED, headers={"allow": "GET"})
        try:
            return await decide(request)
        except Exception:
            _logger.exception("authorize failed", request_id=request.headers.get("x-request-id"))
            return Response(status_code=HTTP_500_INTERNAL_SERVER_ERROR)


def _limit_headers(decision: Decision) -> dict[str, str]:
    verdict = decision.verdict
    if verdict is None:
        return {}
    headers = {
        "ratelimit-limit": str(verdict.limit),
        "ratelimit-remaining": str(verdict.remaining),
        "ratelimit-reset": str(math.ceil(verdict.reset_seconds)),
    }
    if not verdict.allowed:
        headers["retry-after"] = str(max(1, math.ceil(verdict.retry_after_seconds)))
    return headers


async def decide(request: Request) -> Response:
    """200 with the principal's headers, or 401/403 with the reason in X-Mandi-Reason."""
    headers = request.headers
    service = request.app.state.service
    if not is_from_gateway(headers, service.settings.secret("gateway_secret")):
        return Response(status_code=HTTP_403_FORBIDDEN, headers={"x-mandi-reason": "not_gateway"})
    decision = await authorize(
        service.deps,
        AuthorizeRequest(
            method=headers.get("x-original-method", ""),
            service=headers.get("x-mandi-service", ""),
            path=headers.get("x-mandi-path", ""),
            authorization=headers.get("authorization"),
            api_key=headers.get("x-api-key"),
        ),
    )
    answer = _limit_headers(decision)
    if decision.allowed and decision.principal is not None:
        answer.update(gateway_headers(decision.principal))
        return Response(status_code=200, headers=answer)
    answer["x-mandi-reason"] = decision.reason or "refused"
    # nginx reads only 401 and 403 from auth_request; every other refusal travels as 403.
    status = (
        HTTP_401_UNAUTHORIZED if decision.status == HTTP_401_UNAUTHORIZED else HTTP_403_FORBIDDEN
    )
    return Response(status_code=status, headers=answer)
