"""Field-level encryption for PII: AES-256-GCM with the key id in every ciphertext.

A ciphertext is bound by its associated data to where it belongs: its column, its tenant and
its row (`SealedField`), so one copied into another column, row or tenant does not decrypt.
Rotation adds a key and makes it current; old ciphertexts keep decrypting with the key their id
names until they are re-encrypted (`needs_rotation`).

Format 1 bound a value to its column only. Such ciphertexts still decrypt (with the column alone)
but always need rotation, so re-encryption upgrades every one of them to the current format.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["BlindIndex", "FieldCipher", "SealedField", "keyring_from_setting"]

_COLUMN_ONLY_VERSION = 1
_VERSION = 2
_NONCE_BYTES = 12
_KEY_BYTES = 32
_HEADER_BYTES = 2  # version, length of the key id
# Names the binding scheme in the associated data, so no other use of a key can produce it.
_BINDING_LABEL = b"mandi.sealed-field.v2"
_LENGTH_BYTES = 4


def keyring_from_setting(setting: str) -> dict[str, bytes]:
    """Keys from `id:base64,id:base64` (the form secrets take in settings)."""
    keyring: dict[str, bytes] = {}
    for entry in filter(None, (part.strip() for part in setting.split(","))):
        key_id, _, encoded = entry.partition(":")
        key = base64.b64decode(encoded)
        if not key_id or len(key) != _KEY_BYTES:
            raise ValueError(f"key {key_id!r} must be an id and {_KEY_BYTES} bytes of base64")
        keyring[key_id] = key
    return keyring


@dataclass(frozen=True)
class SealedField:
    """Where a sealed value belongs: its column, its tenant (None if it has none) and its row.

    `row` is the row's key, one string per part (a composite key has several), e.g. a user's
    id, a signing key's kid, or an idempotency key's principal and key.
    """

    column: str
    tenant_id: UUID | None
    row: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.column or not self.row:
            raise ValueError("a sealed field names its column and its row")
        if self.tenant_id is not None and not isinstance(self.tenant_id, UUID):
            raise TypeError("a tenant id is a UUID")
        if not all(isinstance(part, str) for part in self.row):
            raise TypeError("the parts of a row's key are strings")

    @classmethod
    def of(cls, column: str, tenant_id: UUID | None, *row: UUID | str) -> SealedField:
        """The field of `column` in the row whose key is `row`, of the tenant (or of none)."""
        return cls(column, tenant_id, tuple(str(part) for part in row))

    def associated_data(self) -> bytes:
        """The canonical bytes a ciphertext is bound to.

        Each part is length-prefixed, so no column, tenant or key part can pass for another
        whatever characters it holds (no delimiter to inject). A value with no tenant has an
        empty tenant part, which no tenant's id can be.
        """
        tenant = "" if self.tenant_id is None else str(self.tenant_id)
        parts = [part.encode() for part in (self.column, tenant, *self.row)]
        return _BINDING_LABEL + b"".join(
            len(part).to_bytes(_LENGTH_BYTES, "big") + part for part in parts
        )


class FieldCipher:
    """Encrypts and decrypts one kind of field with a keyring whose current key encrypts."""

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"the current key {current!r} is not in the keyring")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = current

    @classmethod
    def from_setting(cls, setting: str) -> FieldCipher:
        """A cipher of the keys in `id:base64,id:base64`; the last key listed encrypts."""
        keyring = keyring_from_setting(setting)
        return cls(keyring, current=list(keyring)[-1])

    @property
    def current_header(self) -> bytes:
        """The bytes every new ciphertext starts with; one that starts otherwise needs rotation.

        Lets a re-encryption job find stale values in SQL (by prefix) instead of reading all.
        """
        key_id = self._current.encode()
        return bytes([_VERSION, len(key_id)]) + key_id

    def encrypt(self, plaintext: str, *, context: SealedField) -> bytes:
        """Ciphertext of the value, bound to its column, tenant and row."""
        nonce = os.urandom(_NONCE_BYTES)
        aad = context.associated_data()
        sealed = self._ciphers[self._current].encrypt(nonce, plaintext.encode(), aad)
        return self.current_header + nonce + sealed

    def decrypt(self, ciphertext: bytes, *, context: SealedField) -> str:
        """The value; raises if the ciphertext was altered, moved or its key is unknown."""
        version, key_id, nonce, sealed = self._parts(ciphertext)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise ValueError(f"no key {key_id!r} in the keyring")
        # Format 1 was bound to the column alone; it opens only until re-encryption upgrades it.
        aad = (
            context.column.encode()
            if version == _COLUMN_ONLY_VERSION
            else context.associated_data()
        )
        return cipher.decrypt(nonce, sealed, aad).decode()

    def needs_rotation(self, ciphertext: bytes) -> bool:
        """Whether a ciphertext was made with an older key or in an older format."""
        return not ciphertext.startswith(self.current_header)

    def reseal(self, ciphertext: bytes, *, context: SealedField) -> bytes:
        """The value encrypted anew with the current key and format (same context)."""
        return self.encrypt(self.decrypt(ciphertext, context=context), context=context)

    @staticmethod
    def _parts(ciphertext: bytes) -> tuple[int, str, bytes, bytes]:
        if len(ciphertext) < _HEADER_BYTES or ciphertext[0] not in (_COLUMN_ONLY_VERSION, _VERSION):
            raise ValueError("not a field ciphertext of a known version")
        end = _HEADER_BYTES + ciphertext[1]
        return (
            ciphertext[0],
            ciphertext[2:end].decode(),
            ciphertext[end : end + _NONCE_BYTES],
            ciphertext[end + _NONCE_BYTES :],
        )


class BlindIndex:
    """A keyed hash of a value for uniqueness and exact lookup, one key per column."""

    def __init__(self, key: bytes) -> None:
        if len(key) < _KEY_BYTES:
            raise ValueError(f"a blind index key has at least {_KEY_BYTES} bytes")
        self._key = key

    def __call__(self, normalized_value: str) -> bytes:
        """The index of a value the caller normalized (e.g. a lower-cased email)."""
        return hmac.new(self._key, normalized_value.encode(), hashlib.sha256).digest()
