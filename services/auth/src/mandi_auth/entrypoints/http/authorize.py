"""The gateway's auth_request endpoint, kept lean: it runs before every request nginx passes on.

nginx understands only 2xx, 401 and 403 from it, so a rate-limit or quota refusal is a 403 with
`X-Mandi-Reason` saying which; nginx turns it into the 429 the client sees.
"""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import Response
from starlette.status import HTTP_401_UNAUTHORIZED, HTTP_403_FORBIDDEN

from mandi_auth.service_layer.authorize import AuthorizeRequest, Decision, authorize
from mandi_security import gateway_headers

__all__ = ["authorize_endpoint"]


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


async def authorize_endpoint(request: Request) -> Response:
    """200 with the principal's headers, or 401/403 with the reason in X-Mandi-Reason."""
    headers = request.headers
    decision = await authorize(
        request.app.state.service.deps,
        AuthorizeRequest(
            method=headers.get("x-original-method", "GET"),
            uri=headers.get("x-original-uri", "/"),
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
