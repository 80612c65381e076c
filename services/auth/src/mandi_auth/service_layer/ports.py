"""What the use cases need from the outside world, as interfaces the adapters implement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from mandi_auth.domain.limits import Limit
from mandi_auth.domain.login_backoff import LoginScope
from mandi_auth.domain.signing_keys import SigningKey
from mandi_security.principal import Principal

__all__ = [
    "Bucket",
    "Gatekeeper",
    "IssuedToken",
    "KeyHasher",
    "LoginThrottle",
    "PasswordHasher",
    "ThrottleKey",
    "TokenSigner",
    "Verdict",
]


class PasswordHasher(Protocol):
    """argon2id, run off the event loop: a hash takes tens of milliseconds by design."""

    async def hash(self, password: str) -> str:
        """A new hash of the password."""

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether the password matches; spends the same time whatever the answer."""

    async def burn(self) -> None:
        """Spends a verification's time for a user that does not exist (hides existence)."""


class KeyHasher(Protocol):
    """A keyed hash of API key secrets and refresh tokens (random: a slow hash buys nothing)."""

    def digest(self, secret: str) -> str:
        """The stored form of a secret."""

    def matches(self, stored: str, secret: str) -> bool:
        """Whether a secret matches its stored form, in constant time."""


@dataclass(frozen=True)
class IssuedToken:
    """A signed access token."""

    value: str
    expires_at: datetime


class TokenSigner(Protocol):
    """Signs and verifies access tokens with the service's current Ed25519 keys."""

    def issue(self, principal: Principal, session_id: UUID, now: datetime) -> IssuedToken:
        """An access token for the principal's session."""

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; raises TokenRejected."""

    def jwks(self) -> dict[str, Any]:
        """The public keys a verifier needs."""

    def generate(self, now: datetime, activates_at: datetime) -> tuple[SigningKey, bytes]:
        """A new key pair: its public schedule and its sealed private half."""

    def install(self, keys: Sequence[tuple[SigningKey, bytes]]) -> None:
        """Loads keys (with their sealed private halves) to sign and verify with."""

    def reseal(self, kid: str, sealed: bytes) -> bytes | None:
        """A private half sealed anew if an older key or format sealed it; None if not."""


@dataclass(frozen=True)
class Bucket:
    """A counter in the limiter: the key's, the user's or the tenant's."""

    name: str
    limit: Limit


@dataclass(frozen=True)
class Verdict:
    """The limiter's answer, with what the RateLimit-* headers report."""

    allowed: bool
    reason: str | None = None  # "revoked", "rate_limited" or "quota_exceeded" when refused
    retry_after_seconds: float = 0.0
    limit: int = 0
    remaining: int = 0
    reset_seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


class Gatekeeper(Protocol):
    """Session revocations and rate limits, decided atomically in one round trip."""

    async def admit(
        self, revoked_session: UUID | None, buckets: Sequence[Bucket], *, touch: UUID | None = None
    ) -> Verdict:
        """Refuses a revoked session, else takes one request from every bucket or from none.

        `touch` names an API key whose last-used time an admitted request updates.
        """

    async def last_used(self, key_ids: Sequence[UUID]) -> dict[UUID, datetime]:
        """When each API key was last admitted, for those used at all."""

    async def revoke_session(self, session_id: UUID, for_seconds: float) -> None:
        """Refuses the session's access tokens until they have all expired."""

    async def session_revoked(self, session_id: UUID) -> bool:
        """Whether the session's access tokens are refused (for calls that skip `admit`)."""


@dataclass(frozen=True)
class ThrottleKey:
    """One count of failed sign-ins: its scope and whom it counts (stored under a keyed hash)."""

    scope: LoginScope
    subject: tuple[str, ...]


class LoginThrottle(Protocol):
    """Failed sign-ins counted per scope; an attempt is checked and counted in one atomic step."""

    async def reserve(self, keys: Sequence[ThrottleKey]) -> float:
        """The longest wait any key imposes; when none, the attempt is counted as failed on all."""

    async def succeeded(
        self, *, clear: Sequence[ThrottleKey], give_back: Sequence[ThrottleKey]
    ) -> None:
        """After a correct sign-in: clears `clear`, gives back the reservation on `give_back`."""
