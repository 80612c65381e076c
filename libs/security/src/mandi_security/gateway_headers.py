"""The principal as the gateway passes it to services, in headers it alone may set.

The gateway strips client copies of these headers and adds `X-Mandi-Gateway` with a secret it
shares with the services; a service trusts the principal headers only when that secret matches,
so a request that reached it some other way cannot claim to be anyone.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from uuid import UUID

from mandi_errors import NotAuthenticated
from mandi_security.principal import Principal, PrincipalType

__all__ = [
    "GATEWAY_SECRET_HEADER",
    "PRINCIPAL_HEADERS",
    "from_gateway_headers",
    "gateway_headers",
    "is_from_gateway",
]

GATEWAY_SECRET_HEADER = "x-mandi-gateway"  # noqa: S105 - the header's name, not a secret
PRINCIPAL_HEADERS = (
    "x-tenant-id",
    "x-principal-id",
    "x-principal-type",
    "x-partner-id",
    "x-scopes",
    "x-roles",
)


def gateway_headers(principal: Principal) -> dict[str, str]:
    """The headers that carry a principal from the gateway to a service."""
    return {
        "x-tenant-id": str(principal.tenant_id),
        "x-principal-id": principal.principal_id,
        "x-principal-type": principal.type.value,
        "x-partner-id": str(principal.partner_id) if principal.partner_id else "",
        "x-scopes": " ".join(sorted(principal.scopes)),
        "x-roles": " ".join(sorted(principal.roles)),
    }


def is_from_gateway(headers: Mapping[str, str], secret: str) -> bool:
    """Whether the request carries the gateway's secret (compared in constant time)."""
    presented = headers.get(GATEWAY_SECRET_HEADER, "")
    return bool(secret) and hmac.compare_digest(presented.encode(), secret.encode())


def from_gateway_headers(headers: Mapping[str, str]) -> Principal:
    """The principal in gateway headers; NotAuthenticated when they are missing or malformed."""
    try:
        partner = headers.get("x-partner-id") or ""
        return Principal(
            tenant_id=UUID(headers["x-tenant-id"]),
            principal_id=headers["x-principal-id"],
            type=PrincipalType(headers["x-principal-type"]),
            partner_id=UUID(partner) if partner else None,
            scopes=frozenset(headers.get("x-scopes", "").split()),
            roles=frozenset(headers.get("x-roles", "").split()),
        )
    except (KeyError, ValueError) as error:
        raise NotAuthenticated(
            "The gateway's principal headers are missing or malformed."
        ) from error
