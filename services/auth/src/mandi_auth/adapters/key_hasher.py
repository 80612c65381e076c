"""Stored form of API key secrets and refresh tokens: HMAC-SHA256 under a server-side pepper.

Both are 190+ bits of randomness, so a slow hash would buy nothing and cost every request; the
pepper means a stolen table alone cannot even be checked against a guessed key.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["PepperedKeyHasher"]

_MIN_PEPPER_BYTES = 16


class PepperedKeyHasher:
    """HMAC-SHA256 of secrets under one pepper."""

    def __init__(self, pepper: bytes) -> None:
        if len(pepper) < _MIN_PEPPER_BYTES:
            raise ValueError(f"the pepper has at least {_MIN_PEPPER_BYTES} bytes")
        self._pepper = pepper

    def digest(self, secret: str) -> str:
        """The hex digest stored for a secret."""
        return hmac.new(self._pepper, secret.encode(), hashlib.sha256).hexdigest()

    def matches(self, stored: str, secret: str) -> bool:
        """Whether the secret hashes to `stored`, compared in constant time."""
        return hmac.compare_digest(stored, self.digest(secret))
