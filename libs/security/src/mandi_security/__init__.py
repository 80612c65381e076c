"""Security for Mandi's services: principals, access tokens, JWKS, field encryption."""

from mandi_security.fields import BlindIndex, FieldCipher, SealedField, keyring_from_setting
from mandi_security.gateway_headers import (
    GATEWAY_SECRET_HEADER,
    PRINCIPAL_HEADERS,
    from_gateway_headers,
    gateway_headers,
    is_from_gateway,
)
from mandi_security.jwks import JwksVerifier, public_keys_from_jwks
from mandi_security.principal import Principal, PrincipalType, scope_matches
from mandi_security.resolver import PrincipalResolver, TokenVerifier, bearer_token
from mandi_security.tokens import (
    ALGORITHM,
    TokenRejected,
    decode_access_token,
    principal_claims,
    principal_from_claims,
)

__all__ = [
    "ALGORITHM",
    "GATEWAY_SECRET_HEADER",
    "PRINCIPAL_HEADERS",
    "BlindIndex",
    "FieldCipher",
    "JwksVerifier",
    "Principal",
    "PrincipalResolver",
    "PrincipalType",
    "SealedField",
    "TokenRejected",
    "TokenVerifier",
    "bearer_token",
    "decode_access_token",
    "from_gateway_headers",
    "gateway_headers",
    "is_from_gateway",
    "keyring_from_setting",
    "principal_claims",
    "principal_from_claims",
    "public_keys_from_jwks",
    "scope_matches",
]
