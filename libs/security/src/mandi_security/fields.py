"""Field-level encryption for PII: AES-256-GCM with the key id in every ciphertext.

A ciphertext is bound to its column by associated data, so one copied into another column does
not decrypt. Rotation adds a key and makes it current; old ciphertexts keep decrypting with the
key their id names until they are re-encrypted (`needs_rotation`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["BlindIndex", "FieldCipher", "keyring_from_setting"]

_VERSION = 1
_NONCE_BYTES = 12
_KEY_BYTES = 32
_HEADER_BYTES = 2  # version, length of the key id


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

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        """Ciphertext of the value, bound to `context` (e.g. "users.email")."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(nonce, plaintext.encode(), context.encode())
        key_id = self._current.encode()
        return bytes([_VERSION, len(key_id)]) + key_id + nonce + sealed

    def decrypt(self, ciphertext: bytes, *, context: str) -> str:
        """The value; raises if the ciphertext was altered, moved or its key is unknown."""
        key_id, nonce, sealed = self._parts(ciphertext)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise ValueError(f"no key {key_id!r} in the keyring")
        return cipher.decrypt(nonce, sealed, context.encode()).decode()

    def needs_rotation(self, ciphertext: bytes) -> bool:
        """Whether a ciphertext was made with a key other than the current one."""
        return self._parts(ciphertext)[0] != self._current

    @staticmethod
    def _parts(ciphertext: bytes) -> tuple[str, bytes, bytes]:
        if len(ciphertext) < _HEADER_BYTES or ciphertext[0] != _VERSION:
            raise ValueError("not a field ciphertext of a known version")
        end = _HEADER_BYTES + ciphertext[1]
        return (
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
