"""argon2id password hashing, off the event loop: each hash costs tens of milliseconds by design."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["Argon2Passwords"]


class Argon2Passwords:
    """argon2id with the library's recommended parameters (RFC 9106's second choice)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # A real hash to verify against when the user does not exist: the same work, the same time.
        self._decoy = self._hasher.hash("decoy password that matches nothing")

    async def hash(self, password: str) -> str:
        """A new argon2id hash."""
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether the password matches the hash."""
        return await asyncio.to_thread(self._matches, password_hash, password)

    async def burn(self) -> None:
        """Spends one verification's time, for a sign-in whose user does not exist."""
        await asyncio.to_thread(self._matches, self._decoy, "not the decoy")

    def _matches(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
