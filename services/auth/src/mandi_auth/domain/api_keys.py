"""API keys for partner integrations: their format, their life, and who may issue them.

A key reads `mandi_live_<key id><secret><checksum>` in base62: the prefix lets secret scanners
recognise it, the CRC32 checksum lets them (and us) reject a mistyped or made-up key without a
lookup. The secret is shown once; only its keyed hash is kept.
"""

from __future__ import annotations

import secrets
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from mandi_auth.domain.limits import Limit, Plan
from mandi_errors import InvalidInput, PermissionDenied
from mandi_security.principal import Principal, PrincipalType

__all__ = [
    "ApiKey",
    "KeyMaterial",
    "limit_settable",
    "parse_key",
    "plan_choosable",
    "scopes_grantable",
]

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_CHARS, _SECRET_CHARS, _CHECKSUM_CHARS = 22, 32, 6
_PREFIXES = ("mandi_live_", "mandi_test_")
MAX_NAME_LENGTH = 100


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def _from_base62(text: str) -> int:
    number = 0
    for character in text:
        number = number * 62 + _ALPHABET.index(character)
    return number


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECKSUM_CHARS)


@dataclass(frozen=True)
class KeyMaterial:
    """A key as its owner receives it once: its id, its secret, and the whole key string."""

    key_id: UUID
    secret: str
    prefix: str

    @classmethod
    def generate(cls, environment: str) -> KeyMaterial:
        """A fresh key for the `live` or `test` environment."""
        return cls(UUID(bytes=secrets.token_bytes(16)), _random_secret(), f"mandi_{environment}_")

    @property
    def value(self) -> str:
        """The key string the partner puts in its requests."""
        body = self.prefix + _base62(self.key_id.int, _ID_CHARS) + self.secret
        return body + _checksum(body)

    @property
    def visible_prefix(self) -> str:
        """What a listing shows so its owner recognises the key: prefix and start of the id."""
        return self.value[: len(self.prefix) + 8]


def _random_secret() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_CHARS))


def parse_key(value: str) -> KeyMaterial | None:
    """The parts of a well-formed key; None for a wrong prefix, length or checksum."""
    prefix = next((p for p in _PREFIXES if value.startswith(p)), None)
    body_end = len(value) - _CHECKSUM_CHARS
    if prefix is None or len(value) != len(prefix) + _ID_CHARS + _SECRET_CHARS + _CHECKSUM_CHARS:
        return None
    if any(character not in _ALPHABET for character in value[len(prefix) :]):
        return None
    if _checksum(value[:body_end]) != value[body_end:]:
        return None
    encoded_id = value[len(prefix) : len(prefix) + _ID_CHARS]
    key_id = _from_base62(encoded_id)
    if key_id >= 2**128:
        return None
    return KeyMaterial(UUID(int=key_id), value[len(prefix) + _ID_CHARS : body_end], prefix)


def scopes_grantable(issuer: Principal, requested: frozenset[str]) -> frozenset[str]:
    """The scopes a key may carry: no more than its issuer holds, and at least one."""
    if not requested:
        raise InvalidInput("An API key needs at least one scope.")
    beyond = sorted(scope for scope in requested if not issuer.has_scope(scope))
    if beyond:
        raise PermissionDenied(f"You cannot grant scopes you do not hold: {', '.join(beyond)}.")
    return requested


def limit_settable(issuer: Principal, limit: Limit | None) -> Limit | None:
    """A key's own limit, instead of its plan's: what a partner buys, so the operator's to set."""
    if limit is not None and not issuer.is_internal:
        raise PermissionDenied("Only the operator's staff set a key's own limits.")
    return limit


def plan_choosable(issuer: Principal, plan: str, default_plan: str) -> str:
    """The plan a key may have: what a partner buys, so the operator's staff choose it."""
    if plan != default_plan and not issuer.is_internal:
        raise PermissionDenied("Only the operator's staff choose a key's plan.")
    return plan


@dataclass
class ApiKey:
    """A partner integration's credential: scoped, optionally expiring, revocable, rotatable."""

    id: UUID
    tenant_id: UUID
    partner_id: UUID | None
    name: str
    scopes: frozenset[str]
    secret_hash: str
    visible_prefix: str
    created_by: str
    created_at: datetime
    plan: str = "standard"
    limit: Limit | None = None  # overrides the plan's limit when set
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    replaced_by: UUID | None = None
    last_used_at: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not 0 < len(self.name.strip()) <= MAX_NAME_LENGTH:
            raise InvalidInput(f"A key's name is 1 to {MAX_NAME_LENGTH} characters.")

    @property
    def principal_type(self) -> PrincipalType:
        """External when issued for a partner, internal for the operator's own integrations."""
        return PrincipalType.EXTERNAL if self.partner_id else PrincipalType.INTERNAL

    def is_valid_at(self, moment: datetime) -> bool:
        """Not revoked and not expired at `moment`."""
        expired = self.expires_at is not None and moment >= self.expires_at
        return self.revoked_at is None and not expired

    def limit_under(self, plan: Plan) -> Limit:
        """What this key may do: its own limit when it has one, else its plan's."""
        return self.limit or plan.limit

    def principal(self) -> Principal:
        """The principal a request made with this key acts as."""
        return Principal(
            tenant_id=self.tenant_id,
            principal_id=f"key:{self.id}",
            type=self.principal_type,
            partner_id=self.partner_id,
            scopes=self.scopes,
        )

    def revoke(self, moment: datetime) -> None:
        """Refused from `moment` on."""
        if self.revoked_at is None:
            self.revoked_at = moment

    def end_after_overlap(self, moment: datetime, overlap: timedelta, successor: UUID) -> datetime:
        """Keeps the key valid for `overlap` while its successor is rolled out; returns its end."""
        end = moment + overlap
        self.expires_at = min(self.expires_at, end) if self.expires_at else end
        self.replaced_by = successor
        return self.expires_at

    def manageable_by(self, principal: Principal) -> bool:
        """Internal principals manage their tenant's keys; external ones their partner's only."""
        if principal.tenant_id != self.tenant_id:
            return False
        return principal.is_internal or principal.partner_id == self.partner_id
