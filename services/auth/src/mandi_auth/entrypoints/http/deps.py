"""FastAPI dependencies of the auth service, as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mandi_auth.bootstrap import AuthService
from mandi_auth.service_layer.dependencies import AuthDependencies
from mandi_security import Principal, is_from_gateway

__all__ = ["ClientAddressDep", "DepsDep", "PrincipalDep", "ServiceDep"]


def _service(request: Request) -> AuthService:
    service: AuthService = request.app.state.service
    return service


def _deps(request: Request) -> AuthDependencies:
    return _service(request).deps


async def _principal(request: Request) -> Principal:
    return await _service(request).resolver.resolve(request.headers)


def _client_address(request: Request) -> str:
    # X-Real-IP is the gateway's; from anyone else it could be forged, so it counts only then.
    secret = _service(request).settings.secret("gateway_secret")
    if is_from_gateway(request.headers, secret) and request.headers.get("x-real-ip"):
        return request.headers["x-real-ip"]
    return request.client.host if request.client else "unknown"


ServiceDep = Annotated[AuthService, Depends(_service)]
DepsDep = Annotated[AuthDependencies, Depends(_deps)]
PrincipalDep = Annotated[Principal, Depends(_principal)]
ClientAddressDep = Annotated[str, Depends(_client_address)]
