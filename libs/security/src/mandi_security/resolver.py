"""Finding the principal of a request: vouched for by the gateway, or a token verified here.

Behind the gateway a service reads the principal headers (only with the gateway's secret); a
caller that reaches the service directly must present an access token, which is verified
against the auth service's keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mandi_errors import NotAuthenticated
from mandi_observability import bind_verified_principal
from mandi_security.gateway_headers import from_gateway_headers, is_from_gateway
from mandi_security.principal import Principal
from mandi_security.tokens import principal_from_claims

__all__ = ["PrincipalResolver", "TokenVerifier", "bearer_token"]


class TokenVerifier(Protocol):
    """Anything that turns an access token into verified claims (JwksVerifier, or auth itself)."""

    async def verify(self, token: str) -> dict[str, Any]:
        """The verified claims; raises TokenRejected otherwise."""


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header, if that is what it holds."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class PrincipalResolver:
    """Resolves the principal of a request from its headers."""

    def __init__(self, *, gateway_secret: str, verifier: TokenVerifier | None) -> None:
        self._gateway_secret = gateway_secret
        self._verifier = verifier

    async def resolve(self, headers: Mapping[str, str]) -> Principal:
        """The principal; NotAuthenticated when the request carries no credential we accept.

        Once verified, its tenant and id are bound to the request's context for logs.
        """
        principal = await self._verified(headers)
        bind_verified_principal(str(principal.tenant_id), principal.principal_id)
        return principal

    async def _verified(self, headers: Mapping[str, str]) -> Principal:
        if is_from_gateway(headers, self._gateway_secret):
            return from_gateway_headers(headers)
        token = bearer_token(headers.get("authorization"))
        if token is None or self._verifier is None:
            raise NotAuthenticated("A credential is required.")
        return principal_from_claims(await self._verifier.verify(token))
