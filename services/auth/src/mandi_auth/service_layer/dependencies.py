"""Everything the use cases need, built once by bootstrap.py and passed to each of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from mandi_auth.domain.api_keys import ApiKey
from mandi_auth.domain.limits import Limit, Plan
from mandi_auth.domain.login_backoff import LoginBackoff
from mandi_auth.service_layer.ports import (
    Gatekeeper,
    KeyHasher,
    LoginThrottle,
    PasswordHasher,
    TokenSigner,
)
from mandi_auth.service_layer.unit_of_work import DirectoryFactory, UnitOfWorkFactory
from mandi_errors import InvalidInput
from mandi_runtime import Clock

__all__ = [
    "DEFAULT_PLAN",
    "ApiKeyDirectory",
    "AuthDependencies",
    "LimitPolicy",
    "TenantStatusDirectory",
]

DEFAULT_PLAN = "standard"


class ApiKeyDirectory(Protocol):
    """API keys by id across tenants (with their secrets' hashes); may cache briefly."""

    async def find(self, key_id: UUID) -> ApiKey | None:
        """The key, or None."""

    def forget(self, key_id: UUID) -> None:
        """Drops a cached key (after it was revoked or rotated here)."""


class TenantStatusDirectory(Protocol):
    """Whether a tenant may act, by id; may cache briefly."""

    async def is_active(self, tenant_id: UUID) -> bool:
        """False for a suspended or unknown tenant."""

    def forget(self, tenant_id: UUID) -> None:
        """Drops a cached status (after it was changed here)."""


@dataclass(frozen=True)
class LimitPolicy:
    """The plans keys subscribe to; the limits of every user, every partner and every tenant.

    A partner's keys and users share the partner's limit, so no partner can take the whole of
    its tenant's by spreading its requests over many keys.
    """

    plans: dict[str, Plan]
    per_user: Limit
    per_tenant: Limit
    per_partner: Limit
    max_keys_per_partner: int = 25

    def plan(self, name: str) -> Plan:
        """A plan by name; InvalidInput for an unknown one."""
        if name not in self.plans:
            raise InvalidInput(f"The plan must be one of {sorted(self.plans)}.")
        return self.plans[name]

    def for_key(self, key: ApiKey) -> Limit:
        """The key's limit. A plan since removed from the settings counts as the default plan."""
        return key.limit_under(self.plans.get(key.plan) or self.plans[DEFAULT_PLAN])


@dataclass(frozen=True)
class AuthDependencies:
    """The adapters and policies behind the use cases."""

    uow: UnitOfWorkFactory
    directory: DirectoryFactory
    clock: Clock
    passwords: PasswordHasher
    key_hasher: KeyHasher
    signer: TokenSigner
    gatekeeper: Gatekeeper
    throttle: LoginThrottle
    api_keys: ApiKeyDirectory
    tenant_status: TenantStatusDirectory
    limits: LimitPolicy
    backoff: LoginBackoff = field(default_factory=LoginBackoff)
    key_environment: str = "live"
    access_token_lifetime: timedelta = timedelta(minutes=10)
    refresh_token_lifetime: timedelta = timedelta(days=14)
    key_rotation_overlap: timedelta = timedelta(hours=24)
