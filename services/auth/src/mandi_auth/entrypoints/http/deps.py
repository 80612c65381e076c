"""FastAPI dependencies of the auth service: its use cases' dependencies and the client's
address; the caller is the runtime's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mandi_auth.service_layer.dependencies import AuthDependencies
from mandi_runtime.requests import deps_of, service_of
from mandi_security import is_from_gateway

__all__ = ["ClientAddressDep", "DepsDep"]


def _client_address(request: Request) -> str:
    # X-Real-IP is the gateway's; from anyone else it could be forged, so it counts only then.
    secret = service_of(request).settings.secret("gateway_secret")
    if is_from_gateway(request.headers, secret) and request.headers.get("x-real-ip"):
        return request.headers["x-real-ip"]
    return request.client.host if request.client else "unknown"


DepsDep = Annotated[AuthDependencies, Depends(deps_of)]
ClientAddressDep = Annotated[str, Depends(_client_address)]
