"""The units of work and repositories the use cases see; adapters implement them on PostgreSQL.

A tenant's unit of work is opened with the tenant of a verified principal (or of a credential
found through the credential index); what is read before any tenant is known (tenants by slug,
the credential index, signing keys) goes through the tenant-less directory, which has no
repository of tenant data at all.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol
from uuid import UUID

from mandi_auth.domain.api_keys import ApiKey
from mandi_auth.domain.identity import Tenant, User
from mandi_auth.domain.sessions import RefreshToken
from mandi_auth.domain.signing_keys import SigningKey
from mandi_db import TransactionPort
from mandi_messaging.registry import Event

__all__ = [
    "ApiKeyRepository",
    "AuthUnitOfWork",
    "CredentialIndex",
    "DirectoryFactory",
    "DirectoryUnitOfWork",
    "RefreshTokenRepository",
    "SigningKeyRepository",
    "TenantRepository",
    "UnitOfWorkFactory",
    "UserRepository",
]


class TenantRepository(Protocol):
    """Tenants, which are not tenant-scoped themselves."""

    async def by_slug(self, slug: str) -> Tenant | None: ...
    async def get(self, tenant_id: UUID) -> Tenant | None: ...
    async def add(self, tenant: Tenant) -> None: ...
    async def save(self, tenant: Tenant) -> None: ...
    async def all(self) -> list[UUID]: ...


class UserRepository(Protocol):
    """Users of the unit of work's tenant."""

    async def by_email(self, email: str) -> User | None: ...
    async def get(self, user_id: UUID) -> User | None: ...
    async def add(self, user: User) -> None: ...
    async def reseal(self, limit: int) -> int: ...


class ApiKeyRepository(Protocol):
    """API keys of the unit of work's tenant, with their stored secret hashes."""

    async def get(self, key_id: UUID) -> ApiKey | None: ...
    async def add(self, key: ApiKey) -> None: ...
    async def save(self, key: ApiKey) -> None: ...
    async def of_partner(self, partner_id: UUID | None) -> list[ApiKey]: ...
    async def lock_partner(self, partner_id: UUID) -> None: ...
    async def count_valid(self, partner_id: UUID, moment: datetime) -> int: ...


class RefreshTokenRepository(Protocol):
    """Refresh tokens of the unit of work's tenant."""

    async def get(
        self, token_id: UUID, *, for_update: bool = False
    ) -> tuple[RefreshToken, str] | None: ...
    async def add(self, token: RefreshToken, token_hash: str) -> None: ...
    async def save(self, token: RefreshToken) -> None: ...
    async def revoke_family(self, family_id: UUID, moment: datetime) -> None: ...
    async def revoke_all(self, moment: datetime) -> list[UUID]: ...


class CredentialIndex(Protocol):
    """Which tenant a credential id belongs to: looked up before the tenant is known."""

    async def tenant_of(self, credential_id: UUID) -> UUID | None: ...
    async def add(self, credential_id: UUID, tenant_id: UUID) -> None: ...


class SigningKeyRepository(Protocol):
    """The service's signing keys, with their private halves encrypted at rest."""

    async def lock(self) -> None: ...
    async def all(self) -> list[tuple[SigningKey, bytes]]: ...
    async def add(self, key: SigningKey, sealed_private_key: bytes) -> None: ...
    async def replace_sealed(self, kid: str, sealed_private_key: bytes) -> None: ...


class AuthUnitOfWork(TransactionPort, Protocol):
    """One transaction in one tenant's context."""

    @property
    def tenant_id(self) -> UUID: ...

    @property
    def tenants(self) -> TenantRepository: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def api_keys(self) -> ApiKeyRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...

    @property
    def credentials(self) -> CredentialIndex: ...

    async def publish(self, event: Event, *, subject: str) -> None:
        """Queues an event, as this unit's tenant's, in the outbox of this transaction."""


class DirectoryUnitOfWork(TransactionPort, Protocol):
    """One transaction with no tenant, over the tables that hold no tenant's data."""

    @property
    def tenants(self) -> TenantRepository: ...

    @property
    def credentials(self) -> CredentialIndex: ...

    @property
    def signing_keys(self) -> SigningKeyRepository: ...


UnitOfWorkFactory = Callable[[UUID], AbstractAsyncContextManager[AuthUnitOfWork]]
DirectoryFactory = Callable[[], AbstractAsyncContextManager[DirectoryUnitOfWork]]
