"""The matching service's unit of work on PostgreSQL: its repositories, sagas, keys and outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Self
from uuid import UUID

from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_contracts import EVENTS
from mandi_db import IdempotencyStore, SqlTenantDirectory, TenantAwareSession, TenantlessUnitOfWork
from mandi_matching.adapters.repositories import (
    SqlBook,
    SqlCatalogFacts,
    SqlPartnerDirectory,
    SqlProposals,
    SqlRiskViews,
    SqlTrades,
)
from mandi_matching.adapters.tables import tenants
from mandi_messaging import OutboxAddress, OutboxUnitOfWork, events_topic
from mandi_saga import SagaRepository

__all__ = ["SqlMatchingDirectory", "SqlMatchingUnitOfWork"]


class SqlMatchingUnitOfWork(OutboxUnitOfWork):
    """One transaction of the matching service, in one tenant's context."""

    outbox = OutboxAddress(EVENTS, source="mandi/matching", topic=events_topic("matching"))

    book: SqlBook
    partners: SqlPartnerDirectory
    risk: SqlRiskViews
    catalog: SqlCatalogFacts
    proposals: SqlProposals
    trades: SqlTrades
    sagas: SagaRepository
    tenants: SqlTenantDirectory
    idempotency: IdempotencyStore

    def __init__(
        self,
        sessions: async_sessionmaker[TenantAwareSession],
        *,
        tenant_id: UUID,
        idempotency_retention: timedelta,
    ) -> None:
        super().__init__(sessions, tenant_id=tenant_id)
        self._retention = idempotency_retention

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        session, tenant = self.session, self.tenant_id
        self.book = SqlBook(session, tenant)
        self.partners = SqlPartnerDirectory(session, tenant)
        self.risk = SqlRiskViews(session, tenant)
        self.catalog = SqlCatalogFacts(session, tenant)
        self.proposals = SqlProposals(session)
        self.trades = SqlTrades(session)
        self.sagas = SagaRepository(session)
        self.tenants = SqlTenantDirectory(session, tenants)
        self.idempotency = IdempotencyStore(session, retention=self._retention)
        return self


class SqlMatchingDirectory(TenantlessUnitOfWork):
    """One transaction over the directory of tenants; no tenant's data in reach."""

    tenants: SqlTenantDirectory

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.tenants = SqlTenantDirectory(self.session, tenants)
        return self
