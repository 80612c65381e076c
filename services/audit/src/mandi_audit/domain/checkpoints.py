"""Signed checkpoints: a tenant's chain head (seq, hash, time) signed with Ed25519.

The signed message (version 1), byte for byte:

    b"mandi-audit-checkpoint/1\\n"   25 bytes
    tenant id                        16 bytes, the UUID's bytes
    seq                              8 bytes, unsigned big-endian
    signed_at                        8 bytes, signed big-endian microseconds since the epoch
    hash                             32 bytes, the chain's hash at seq

Keys have ids; the newest key signs, and every key that ever signed stays published (a JWKS
of OKP keys, RFC 8037), so a checkpoint signed before a rotation still verifies after it.
Whoever rewrites the chain's tail after a checkpoint cannot forge the signature on its head.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mandi_audit.domain.chain import DIGEST_BYTES, micros_of

__all__ = [
    "CHECKPOINT_MESSAGE",
    "Checkpoint",
    "CheckpointSigner",
    "jwk_of",
    "public_keys_of",
    "signed_message",
]

CHECKPOINT_MESSAGE = b"mandi-audit-checkpoint/1\n"
_FIXED = struct.Struct(">16sQq32s")
_PUBLIC_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A chain head and the signature over it."""

    tenant_id: UUID
    seq: int
    hash: bytes
    signed_at: datetime
    key_id: str
    signature: bytes

    def verifies_with(self, public_keys: Mapping[str, Ed25519PublicKey]) -> bool:
        """Whether a published key of this id signed exactly this head."""
        key = public_keys.get(self.key_id)
        if key is None:
            return False
        try:
            key.verify(
                self.signature, signed_message(self.tenant_id, self.seq, self.hash, self.signed_at)
            )
        except InvalidSignature:
            return False
        return True


def signed_message(tenant_id: UUID, seq: int, chain_hash: bytes, signed_at: datetime) -> bytes:
    """The bytes a checkpoint's signature covers."""
    if len(chain_hash) != DIGEST_BYTES:
        raise ValueError("a chain hash is 32 bytes")
    return CHECKPOINT_MESSAGE + _FIXED.pack(tenant_id.bytes, seq, micros_of(signed_at), chain_hash)


class CheckpointSigner:
    """Signs chain heads with the newest of its keys (32-byte Ed25519 seeds by id)."""

    def __init__(self, seeds: Mapping[str, bytes]) -> None:
        if not seeds:
            raise ValueError("checkpoints need at least one signing key")
        self._keys = {
            kid: Ed25519PrivateKey.from_private_bytes(seed) for kid, seed in seeds.items()
        }
        self.current_key_id = list(self._keys)[-1]

    def sign(self, tenant_id: UUID, seq: int, chain_hash: bytes, signed_at: datetime) -> Checkpoint:
        """The checkpoint of a head, signed with the current key."""
        message = signed_message(tenant_id, seq, chain_hash, signed_at)
        signature = self._keys[self.current_key_id].sign(message)
        return Checkpoint(tenant_id, seq, chain_hash, signed_at, self.current_key_id, signature)

    def sign_bytes(self, message: bytes) -> tuple[str, bytes]:
        """Another of the service's signed messages (an export's), signed with the current key:
        the key's id and the signature. A checkpoint's message is refused, so only `sign`, which
        builds that message itself, can make a checkpoint."""
        if message.startswith(CHECKPOINT_MESSAGE):
            raise ValueError("checkpoints are signed with sign(), from their fields")
        return self.current_key_id, self._keys[self.current_key_id].sign(message)

    def public_keys(self) -> dict[str, bytes]:
        """Each key's raw 32-byte public key, by id."""
        return {
            kid: key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            for kid, key in self._keys.items()
        }


def jwk_of(key_id: str, public_key: bytes) -> dict[str, str]:
    """A public key as a JWK (RFC 8037: an OKP key on Ed25519)."""
    x = base64.urlsafe_b64encode(public_key).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "Ed25519", "kid": key_id, "x": x, "alg": "EdDSA", "use": "sig"}


def public_keys_of(document: Any) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS document (`{"keys": [...]}`), by id; raises ValueError on
    anything that is not one."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError('a key set is {"keys": [...]}')  # noqa: TRY004 - a bad file, not a bug
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise ValueError("every key is an OKP key on Ed25519")
        kid, x = jwk.get("kid"), jwk.get("x")
        if not isinstance(kid, str) or not isinstance(x, str):
            raise ValueError("every key has a kid and an x")  # noqa: TRY004 - a bad file
        raw = base64.b64decode(x + "=" * (-len(x) % 4), altchars=b"-_", validate=True)
        if kid in keys or len(raw) != _PUBLIC_KEY_BYTES:
            raise ValueError(f"key {kid!r} is named twice, or is not 32 bytes")
        keys[kid] = Ed25519PublicKey.from_public_bytes(raw)
    return keys
