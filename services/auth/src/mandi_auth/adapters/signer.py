"""Ed25519 access tokens: signed with the current key, verified with every published one.

The gateway asks about the same token on every request its holder makes, so a token whose
signature was checked is remembered: later it is only checked for expiry and for its key still
being published, never parsed or verified again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mandi_auth.domain.signing_keys import SigningKey, published_keys, signing_key
from mandi_auth.service_layer.ports import IssuedToken
from mandi_security.fields import FieldCipher, SealedField
from mandi_security.principal import Principal
from mandi_security.tokens import ALGORITHM, decode_access_token, principal_claims

__all__ = ["Ed25519Signer"]

_PRIVATE_KEY_COLUMN = "signing_keys.private_key"
_REMEMBERED_TOKENS = 4096  # forgotten all at once when full, as the gateway's caches are
_LEEWAY_SECONDS = 5  # decode_access_token's


@dataclass(frozen=True, slots=True)
class _Verified:
    """A token whose signature checked out: its claims and the key that signed it."""

    claims: dict[str, Any]
    kid: str
    expires_at: float  # seconds since the epoch, leeway included


def _private_key_field(kid: str) -> SealedField:
    """Where a sealed private key belongs: the row of its kid (signing keys have no tenant)."""
    return SealedField.of(_PRIVATE_KEY_COLUMN, None, kid)


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class Ed25519Signer:
    """Issues and verifies access tokens; keys are loaded by `install` from the database."""

    def __init__(
        self,
        vault: FieldCipher,
        *,
        issuer: str,
        audience: str,
        token_lifetime: timedelta,
        clock: Any,
        leeway_seconds: int = _LEEWAY_SECONDS,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._vault = vault
        self._issuer, self._audience = issuer, audience
        self._lifetime = token_lifetime
        self._clock = clock
        self._leeway = leeway_seconds
        self._wall_clock = wall_clock  # what PyJWT checks expiry against
        self._keys: list[SigningKey] = []
        self._private: dict[str, Ed25519PrivateKey] = {}
        self._public: dict[str, Ed25519PublicKey] = {}
        self._verified: dict[str, _Verified] = {}

    def generate(self, now: datetime, activates_at: datetime) -> tuple[SigningKey, bytes]:
        """A new key pair; its private half sealed under the key-encryption key."""
        private = Ed25519PrivateKey.generate()
        public = _raw_public(private.public_key())
        kid = base64.urlsafe_b64encode(hashlib.sha256(public).digest()[:12]).decode().rstrip("=")
        raw = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        field = _private_key_field(kid)
        sealed = self._vault.encrypt(base64.b64encode(raw).decode(), context=field)
        return SigningKey(kid, public, now, activates_at), sealed

    def install(self, keys: Sequence[tuple[SigningKey, bytes]]) -> None:
        """Loads the keys to sign with and verify against."""
        self._keys = [key for key, _ in keys]
        self._private = {key.kid: self._unseal(key.kid, sealed) for key, sealed in keys}
        self._public = {
            key.kid: Ed25519PublicKey.from_public_bytes(key.public_key) for key, _ in keys
        }
        self._verified.clear()

    def _unseal(self, kid: str, sealed: bytes) -> Ed25519PrivateKey:
        raw = base64.b64decode(self._vault.decrypt(sealed, context=_private_key_field(kid)))
        return Ed25519PrivateKey.from_private_bytes(raw)

    def reseal(self, kid: str, sealed: bytes) -> bytes | None:
        """The private half sealed anew if an older key or format sealed it; None if not."""
        if not self._vault.needs_rotation(sealed):
            return None
        return self._vault.reseal(sealed, context=_private_key_field(kid))

    def issue(self, principal: Principal, session_id: UUID, now: datetime) -> IssuedToken:
        """A token signed with the key active now."""
        key = signing_key(self._keys, now)
        if key is None:
            raise RuntimeError("no signing key is active; refresh_signing_keys has not run")
        expires_at = now + self._lifetime
        claims = principal_claims(
            principal,
            session_id=session_id,
            token_id=uuid4(),
            issuer=self._issuer,
            audience=self._audience,
            issued_at=now,
            expires_at=expires_at,
        )
        token = jwt.encode(
            claims, self._private[key.kid], algorithm=ALGORITHM, headers={"kid": key.kid}
        )
        return IssuedToken(token, expires_at)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token signed by a published key; TokenRejected otherwise."""
        remembered = self._verified.get(token)
        if remembered is not None and self._still_valid(remembered):
            return dict(remembered.claims)
        self._verified.pop(token, None)
        claims = decode_access_token(
            token,
            self._verification_key,
            issuer=self._issuer,
            audience=self._audience,
            leeway_seconds=self._leeway,
        )
        self._remember(token, claims)
        return claims

    def _still_valid(self, verified: _Verified) -> bool:
        # Expired, or its key retired since: verified again, to be refused with the reason.
        return (
            self._wall_clock() < verified.expires_at
            and self._verification_key(verified.kid) is not None
        )

    def _remember(self, token: str, claims: dict[str, Any]) -> None:
        if len(self._verified) >= _REMEMBERED_TOKENS:
            self._verified.clear()
        kid = str(jwt.get_unverified_header(token).get("kid", ""))
        expires_at = float(claims["exp"]) + self._leeway
        self._verified[token] = _Verified(dict(claims), kid, expires_at)

    def _verification_key(self, kid: str) -> Ed25519PublicKey | None:
        published = {
            key.kid for key in published_keys(self._keys, self._clock.now(), self._lifetime)
        }
        return self._public.get(kid) if kid in published else None

    def jwks(self) -> dict[str, Any]:
        """The published public keys as a JWKS document."""
        now = self._clock.now()
        keys = []
        for key in published_keys(self._keys, now, self._lifetime):
            jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self._public[key.kid]))
            keys.append({**jwk, "kid": key.kid, "alg": ALGORITHM, "use": "sig"})
        return {"keys": keys}
