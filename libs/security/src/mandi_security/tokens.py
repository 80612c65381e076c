"""Access tokens: the claims that carry a principal, and their verification.

Only EdDSA is accepted, whatever a token's header says, so `alg=none` and algorithm confusion
(an HMAC token "signed" with a public key) are refused before any key is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mandi_errors import NotAuthenticated
from mandi_security.principal import Principal, PrincipalType

__all__ = [
    "ALGORITHM",
    "TokenRejected",
    "decode_access_token",
    "principal_claims",
    "principal_from_claims",
]

ALGORITHM = "EdDSA"
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "tid", "typ", "sid", "jti"]


class TokenRejected(NotAuthenticated):
    """An access token that is expired, malformed, forged or revoked; `reason` says which."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def principal_claims(
    principal: Principal,
    *,
    session_id: UUID,
    token_id: UUID,
    issuer: str,
    audience: str,
    issued_at: datetime,
    expires_at: datetime,
) -> dict[str, Any]:
    """The claims of an access token for a principal."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": principal.principal_id,
        "tid": str(principal.tenant_id),
        "typ": principal.type.value,
        "roles": sorted(principal.roles),
        "scope": " ".join(sorted(principal.scopes)),
        "sid": str(session_id),
        "jti": str(token_id),
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    if principal.partner_id is not None:
        claims["pid"] = str(principal.partner_id)
    return claims


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The principal an access token's claims describe."""
    try:
        partner = claims.get("pid")
        return Principal(
            tenant_id=UUID(claims["tid"]),
            principal_id=str(claims["sub"]),
            type=PrincipalType(claims["typ"]),
            partner_id=UUID(partner) if partner else None,
            scopes=frozenset(str(claims.get("scope", "")).split()),
            roles=frozenset(claims.get("roles", [])),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise TokenRejected("invalid_token", "The access token's claims are malformed.") from error


def decode_access_token(
    token: str,
    key_for: Callable[[str], Ed25519PublicKey | None],
    *,
    issuer: str,
    audience: str,
    leeway_seconds: int = 5,
) -> dict[str, Any]:
    """The verified claims of a token; TokenRejected when it is expired, forged or malformed."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise TokenRejected("invalid_token", "The access token is not signed with EdDSA.")
        key = key_for(str(header.get("kid", "")))
        if key is None:
            raise TokenRejected("invalid_token", "The access token's signing key is unknown.")
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=audience,
            leeway=leeway_seconds,
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenRejected("expired_token", "The access token has expired.") from error
    except jwt.PyJWTError as error:
        raise TokenRejected("invalid_token", "The access token is not valid.") from error
    return claims
