"""Verifying access tokens against the auth service's JWKS, fetched once and cached.

An unknown key id makes the cache refetch (a rotation has just happened), at most once per
`min_refetch_seconds`, so a stream of forged key ids cannot turn into a stream of fetches.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mandi_security.tokens import TokenRejected, decode_access_token

__all__ = ["JwksVerifier", "public_keys_from_jwks"]


def public_keys_from_jwks(document: dict[str, Any]) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS document, by key id; other keys are ignored."""
    keys: dict[str, Ed25519PublicKey] = {}
    for entry in document.get("keys", []):
        if entry.get("kty") == "OKP" and entry.get("crv") == "Ed25519" and entry.get("kid"):
            key = jwt.PyJWK(entry).key
            if isinstance(key, Ed25519PublicKey):
                keys[entry["kid"]] = key
    return keys


class JwksVerifier:
    """Verifies access tokens with the keys published at a JWKS URL."""

    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        http: httpx.AsyncClient | None = None,
        max_age_seconds: float = 300.0,
        min_refetch_seconds: float = 10.0,
    ) -> None:
        self._url = jwks_url
        self._issuer, self._audience = issuer, audience
        self._http = http or httpx.AsyncClient(timeout=2.0)
        self._max_age = max_age_seconds
        self._min_refetch = min_refetch_seconds
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._fetched_at = float("-inf")

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's verified claims; TokenRejected otherwise."""
        kid = self._key_id(token)
        if kid not in self._keys or self._stale():
            await self._refetch()
        return decode_access_token(
            token, self._keys.get, issuer=self._issuer, audience=self._audience
        )

    @staticmethod
    def _key_id(token: str) -> str:
        try:
            return str(jwt.get_unverified_header(token).get("kid", ""))
        except jwt.PyJWTError as error:
            raise TokenRejected("invalid_token", "The access token is not valid.") from error

    def _stale(self) -> bool:
        return time.monotonic() - self._fetched_at > self._max_age

    async def _refetch(self) -> None:
        if time.monotonic() - self._fetched_at < self._min_refetch:
            return
        self._fetched_at = time.monotonic()
        try:
            response = await self._http.get(self._url)
            response.raise_for_status()
            self._keys = public_keys_from_jwks(response.json())
        except (httpx.HTTPError, ValueError):
            # Keep the keys already known: tokens they signed stay verifiable while auth is down.
            return

    async def close(self) -> None:
        """Closes the HTTP client."""
        await self._http.aclose()
