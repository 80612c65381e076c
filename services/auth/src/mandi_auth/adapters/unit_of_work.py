"""The auth service's units of work on PostgreSQL: repositories and the outbox on one session."""

from __future__ import annotations

from typing import Self
from uuid import UUID

from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_auth.adapters.repositories import (
    EmailProtection,
    SqlApiKeys,
    SqlCredentials,
    SqlRefreshTokens,
    SqlSigningKeys,
    SqlTenants,
    SqlUsers,
)
from mandi_contracts import EVENTS
from mandi_db import TenantAwareSession, TenantlessUnitOfWork
from mandi_messaging import OutboxAddress, OutboxUnitOfWork, events_topic

__all__ = ["SqlAuthDirectory", "SqlAuthUnitOfWork"]


class SqlAuthUnitOfWork(OutboxUnitOfWork):
    """One transaction of the auth service, in one tenant's context."""

    outbox = OutboxAddress(EVENTS, source="mandi/auth", topic=events_topic("auth"))

    tenants: SqlTenants
    users: SqlUsers
    api_keys: SqlApiKeys
    refresh_tokens: SqlRefreshTokens
    credentials: SqlCredentials

    def __init__(
        self,
        sessions: async_sessionmaker[TenantAwareSession],
        emails: EmailProtection,
        *,
        tenant_id: UUID,
    ) -> None:
        super().__init__(sessions, tenant_id=tenant_id)
        self._emails = emails

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.tenants = SqlTenants(self.session)
        self.users = SqlUsers(self.session, self._emails)
        self.api_keys = SqlApiKeys(self.session)
        self.refresh_tokens = SqlRefreshTokens(self.session)
        self.credentials = SqlCredentials(self.session)
        return self


class SqlAuthDirectory(TenantlessUnitOfWork):
    """One transaction over the tables read before a tenant is known; no tenant data in reach."""

    tenants: SqlTenants
    credentials: SqlCredentials
    signing_keys: SqlSigningKeys

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.tenants = SqlTenants(self.session)
        self.credentials = SqlCredentials(self.session)
        self.signing_keys = SqlSigningKeys(self.session)
        return self
