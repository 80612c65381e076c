"""Events of the auth service, on `mandi.auth.events`. They carry ids, never secrets or emails."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from mandi_contracts.registry import EVENTS
from mandi_messaging.registry import Event

__all__ = [
    "AUTH_EVENTS",
    "ApiKeyIssued",
    "ApiKeyRevoked",
    "ApiKeyRotated",
    "TenantCreated",
    "TenantReactivated",
    "TenantSuspended",
    "UserCreated",
]


@EVENTS.event("mandi.tenant.created", 1)
class TenantCreated(Event):
    """A marketplace operator joined Mandi."""

    tenant_id: UUID
    slug: str


@EVENTS.event("mandi.tenant.suspended", 1)
class TenantSuspended(Event):
    """The operator stopped a tenant: its sessions ended, its users and keys are refused."""

    tenant_id: UUID
    sessions_ended: int
    suspended_by: str


@EVENTS.event("mandi.tenant.reactivated", 1)
class TenantReactivated(Event):
    """A suspended tenant may act again (its users sign in anew; its keys work again)."""

    tenant_id: UUID
    reactivated_by: str


@EVENTS.event("mandi.user.created", 1)
class UserCreated(Event):
    """A user was created in a tenant; external users belong to a partner."""

    tenant_id: UUID
    user_id: UUID
    user_type: str
    partner_id: UUID | None
    roles: list[str]


@EVENTS.event("mandi.api_key.issued", 1)
class ApiKeyIssued(Event):
    """An API key was issued to a partner integration (its secret is never in an event)."""

    tenant_id: UUID
    key_id: UUID
    partner_id: UUID | None
    scopes: list[str]
    expires_at: datetime | None
    issued_by: str


@EVENTS.event("mandi.api_key.rotated", 1)
class ApiKeyRotated(Event):
    """A key was replaced; the old one stays valid until `old_key_valid_until`."""

    tenant_id: UUID
    old_key_id: UUID
    new_key_id: UUID
    old_key_valid_until: datetime
    rotated_by: str


@EVENTS.event("mandi.api_key.revoked", 1)
class ApiKeyRevoked(Event):
    """A key was revoked and is refused from now on."""

    tenant_id: UUID
    key_id: UUID
    revoked_by: str


# Every event the auth service publishes, on mandi.auth.events.
AUTH_EVENTS: tuple[type[Event], ...] = (
    TenantCreated,
    TenantSuspended,
    TenantReactivated,
    UserCreated,
    ApiKeyIssued,
    ApiKeyRotated,
    ApiKeyRevoked,
)
