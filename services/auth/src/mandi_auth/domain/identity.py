"""Tenants (marketplace operators) and their users; roles say what a user may do."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from mandi_errors import Conflict, InvalidInput
from mandi_security.principal import Principal, PrincipalType

__all__ = [
    "ROLE_SCOPES",
    "Tenant",
    "TenantStatus",
    "User",
    "UserStatus",
    "normalize_email",
    "scopes_of",
]

_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_MAX_EMAIL_LENGTH = 254  # RFC 5321
_MAX_TENANT_NAME_LENGTH = 200

# What each role may do; external roles only ever act for their own partner.
ROLE_SCOPES: dict[PrincipalType, dict[str, frozenset[str]]] = {
    PrincipalType.INTERNAL: {
        "admin": frozenset({"*"}),
        "operator": frozenset(
            {"*:read", "partners:write", "availability:write", "matching:write", "risk:assess"}
        ),
        "auditor": frozenset({"*:read"}),
        # Sets credit limits, ratings and payments, and promotes risk models.
        "risk_officer": frozenset({"*:read", "risk:write", "risk:assess"}),
    },
    PrincipalType.EXTERNAL: {
        "partner_admin": frozenset(
            {
                "auth:read",
                "auth:write",
                "partners:read",
                "partners:write",
                "availability:*",
                "matching:*",
                "webhook:*",
                "audit:read",  # the partner's own records, and its exports
            }
        ),
        "partner_user": frozenset({"partners:read", "availability:*", "matching:read"}),
    },
}


def normalize_email(email: str) -> str:
    """The form an email is compared and indexed in."""
    # Measured as written: lower-casing may lengthen a few characters (İ becomes two).
    stripped = email.strip()
    if not _EMAIL.match(stripped) or len(stripped) > _MAX_EMAIL_LENGTH:
        raise InvalidInput("The email address is not valid.")
    return stripped.lower()


def scopes_of(user_type: PrincipalType, roles: frozenset[str]) -> frozenset[str]:
    """The scopes a set of roles grants; unknown roles for the type are refused."""
    known = ROLE_SCOPES[user_type]
    unknown = roles - known.keys()
    if unknown or not roles:
        raise InvalidInput(f"Roles must be among {sorted(known)} for {user_type.value} users.")
    return frozenset().union(*(known[role] for role in roles))


class TenantStatus(StrEnum):
    """Whether a tenant's users may sign in."""

    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass
class Tenant:
    """A marketplace operator: the unit of isolation of everything in Mandi."""

    id: UUID
    slug: str
    name: str
    status: TenantStatus = TenantStatus.ACTIVE

    def __post_init__(self) -> None:
        if not _SLUG.match(self.slug):
            raise InvalidInput("A tenant slug is 2 to 40 lower-case letters, digits or dashes.")
        if not 0 < len(self.name.strip()) <= _MAX_TENANT_NAME_LENGTH:
            raise InvalidInput(f"A tenant name is 1 to {_MAX_TENANT_NAME_LENGTH} characters.")

    @property
    def is_active(self) -> bool:
        """Whether its users and keys may act."""
        return self.status is TenantStatus.ACTIVE

    def suspend(self) -> None:
        """Stops every user and key of the tenant from acting; Conflict if it already is."""
        if not self.is_active:
            raise Conflict(f"The tenant {self.slug!r} is suspended already.")
        self.status = TenantStatus.SUSPENDED

    def reactivate(self) -> None:
        """Lets the tenant's users sign in and its keys act again."""
        if self.is_active:
            raise Conflict(f"The tenant {self.slug!r} is active already.")
        self.status = TenantStatus.ACTIVE


class UserStatus(StrEnum):
    """Whether a user may sign in."""

    ACTIVE = "active"
    DISABLED = "disabled"


@dataclass
class User:
    """Operator staff (internal) or a partner's staff (external, bound to one partner)."""

    id: UUID
    tenant_id: UUID
    email: str
    type: PrincipalType
    roles: frozenset[str]
    password_hash: str
    partner_id: UUID | None = None
    status: UserStatus = UserStatus.ACTIVE
    created_at: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        self.email = normalize_email(self.email)
        if (self.type is PrincipalType.EXTERNAL) != (self.partner_id is not None):
            raise InvalidInput("External users belong to a partner; internal users to none.")
        scopes_of(self.type, self.roles)

    @property
    def can_sign_in(self) -> bool:
        """Whether the user is active."""
        return self.status is UserStatus.ACTIVE

    def principal(self) -> Principal:
        """The principal this user acts as."""
        return Principal(
            tenant_id=self.tenant_id,
            principal_id=str(self.id),
            type=self.type,
            partner_id=self.partner_id,
            scopes=scopes_of(self.type, self.roles),
            roles=self.roles,
        )
