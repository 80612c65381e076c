"""The risk service's unit of work on PostgreSQL: its repositories, keys and outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Self
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from mandi_contracts import EVENTS
from mandi_db import (
    IdempotencyStore,
    ReadTransaction,
    SqlTenantDirectory,
    TenantAwareSession,
    TenantlessUnitOfWork,
)
from mandi_messaging import OutboxAddress, OutboxUnitOfWork, events_topic
from mandi_risk.adapters.repositories import (
    SqlAssessments,
    SqlBureauMemory,
    SqlExposure,
    SqlLimits,
    SqlModelRegistry,
    SqlPartners,
    SqlProposalFacts,
)
from mandi_risk.adapters.tables import tenants
from mandi_risk.adapters.trades import SqlTrades
from mandi_risk.service_layer.unit_of_work import ProposalFacts

__all__ = ["SqlRiskDirectory", "SqlRiskLookups", "SqlRiskUnitOfWork"]


class SqlRiskUnitOfWork(OutboxUnitOfWork):
    """One transaction of the risk service, in one tenant's context."""

    outbox = OutboxAddress(EVENTS, source="mandi/risk", topic=events_topic("risk"))

    partners: SqlPartners
    limits: SqlLimits
    exposure: SqlExposure
    assessments: SqlAssessments
    trades: SqlTrades
    bureau_scores: SqlBureauMemory
    models: SqlModelRegistry
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
        self.partners = SqlPartners(session, tenant)
        self.limits = SqlLimits(session, tenant)
        self.exposure = SqlExposure(session, tenant)
        self.assessments = SqlAssessments(session, tenant)
        self.trades = SqlTrades(session, tenant)
        self.bureau_scores = SqlBureauMemory(session, tenant)
        self.models = SqlModelRegistry(session, tenant)
        self.tenants = SqlTenantDirectory(session, tenants)
        self.idempotency = IdempotencyStore(session, retention=self._retention)
        return self


class SqlRiskDirectory(TenantlessUnitOfWork):
    """One transaction over the directory of tenants; no tenant's data in reach."""

    tenants: SqlTenantDirectory

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.tenants = SqlTenantDirectory(self.session, tenants)
        return self


class SqlRiskLookups(ReadTransaction):
    """The reads an assessment makes before its transaction: READ ONLY, on the primary, without
    a session."""

    models: SqlModelRegistry

    def __init__(self, engine: AsyncEngine, *, tenant_id: UUID) -> None:
        super().__init__(engine, tenant_id=tenant_id)

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.models = SqlModelRegistry(self, self.tenant_id)
        self._facts = SqlProposalFacts(self)
        return self

    async def facts(self, buyer_id: UUID, seller_id: UUID) -> ProposalFacts:
        """Everything known of a proposal's buyer and seller, in one round trip."""
        return await self._facts.of(buyer_id, seller_id)
