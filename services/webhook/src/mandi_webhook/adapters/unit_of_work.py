"""The webhook service's units of work on PostgreSQL: its repositories, keys and outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Self
from uuid import UUID

from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_contracts import EVENTS
from mandi_db import IdempotencyStore, SqlTenantDirectory, TenantAwareSession, TenantlessUnitOfWork
from mandi_messaging import OutboxAddress, OutboxUnitOfWork, events_topic
from mandi_security.fields import FieldCipher
from mandi_webhook.adapters.deliveries import SqlDeliveries
from mandi_webhook.adapters.idempotency import SealedIdempotency
from mandi_webhook.adapters.repositories import SqlEndpoints
from mandi_webhook.adapters.tables import tenants

__all__ = ["SqlWebhookDirectory", "SqlWebhookUnitOfWork"]


class SqlWebhookUnitOfWork(OutboxUnitOfWork):
    """One transaction of the webhook service, in one tenant's context."""

    outbox = OutboxAddress(EVENTS, source="mandi/webhook", topic=events_topic("webhook"))

    endpoints: SqlEndpoints
    deliveries: SqlDeliveries
    tenants: SqlTenantDirectory
    idempotency: SealedIdempotency

    def __init__(
        self,
        sessions: async_sessionmaker[TenantAwareSession],
        cipher: FieldCipher,
        *,
        tenant_id: UUID,
        idempotency_retention: timedelta,
    ) -> None:
        super().__init__(sessions, tenant_id=tenant_id)
        self._cipher, self._retention = cipher, idempotency_retention

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.endpoints = SqlEndpoints(self.session, self._cipher, self.tenant_id)
        self.deliveries = SqlDeliveries(self.session, self.tenant_id)
        self.tenants = SqlTenantDirectory(self.session, tenants)
        store = IdempotencyStore(self.session, retention=self._retention)
        self.idempotency = SealedIdempotency(store, self._cipher)
        return self


class SqlWebhookDirectory(TenantlessUnitOfWork):
    """One transaction over the directory of tenants; no endpoint in reach."""

    tenants: SqlTenantDirectory

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.tenants = SqlTenantDirectory(self.session, tenants)
        return self
