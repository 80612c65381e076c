"""Who is calling: the principal the gateway vouches for, and the scopes it holds.

A scope is `<service>:<action>` (`partners:read`, `auth:write`); `*` in either part matches
anything there, and a bare `*` matches every scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from mandi_errors import PermissionDenied

__all__ = ["Principal", "PrincipalType", "scope_matches"]


class PrincipalType(StrEnum):
    """Operator staff (internal) or a partner's staff and integrations (external)."""

    INTERNAL = "internal"
    EXTERNAL = "external"


def scope_matches(granted: str, required: str) -> bool:
    """Whether one granted scope covers a required one."""
    if granted == "*":
        return True
    granted_service, _, granted_action = granted.partition(":")
    service, _, action = required.partition(":")
    return granted_service in {"*", service} and granted_action in {"*", action}


@dataclass(frozen=True, slots=True)
class Principal:
    """A user or API key acting for a tenant, external principals for one partner."""

    tenant_id: UUID
    principal_id: str
    type: PrincipalType
    partner_id: UUID | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.type is PrincipalType.EXTERNAL and self.partner_id is None:
            raise ValueError("an external principal acts for a partner")

    def has_scope(self, required: str) -> bool:
        """Whether any granted scope covers `required`."""
        return any(scope_matches(granted, required) for granted in self.scopes)

    def require_scope(self, required: str) -> None:
        """PermissionDenied (403) unless a granted scope covers `required`."""
        if not self.has_scope(required):
            raise PermissionDenied(f"This needs the {required} scope.")

    @property
    def is_internal(self) -> bool:
        """Operator staff of the tenant, who see every partner."""
        return self.type is PrincipalType.INTERNAL
