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
from mandi_db import TenantAwareSession, TenantlessUnitOfWork, UnitOfWork
from mandi_messaging import OutboxWriter, events_topic
from mandi_messaging.registry import Event

__all__ = ["SOURCE", "TOPIC", "SqlAuthDirectory", "SqlAuthUnitOfWork"]

SOURCE = "mandi/auth"
TOPIC = events_topic("auth")


class SqlAuthUnitOfWork(UnitOfWork):
    """One transaction of the auth service, in one tenant's context."""

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
        self._outbox = OutboxWriter(
            self.session, EVENTS, source=SOURCE, topic=TOPIC, tenant_id=self.tenant_id
        )
        return self

    async def publish(self, event: Event, *, subject: str) -> None:
        """Queues an event, as this unit's tenant's, in this transaction's outbox."""
        await self._outbox.add(event, subject=subject)


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
