"""The availability service's unit of work on PostgreSQL: its repositories, keys and outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Self
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from mandi_availability.adapters.repositories import (
    SqlCatalog,
    SqlOffers,
    SqlReservations,
    SqlStandings,
)
from mandi_availability.adapters.tables import tenants
from mandi_contracts import EVENTS
from mandi_db import (
    IdempotencyStore,
    ReadTransaction,
    SqlTenantDirectory,
    TenantAwareSession,
    TenantlessUnitOfWork,
)
from mandi_messaging import OutboxAddress, OutboxUnitOfWork, events_topic

__all__ = ["SqlAvailabilityDirectory", "SqlAvailabilityUnitOfWork", "SqlOfferLookups"]


class SqlAvailabilityUnitOfWork(OutboxUnitOfWork):
    """One transaction of the availability service, in one tenant's context."""

    outbox = OutboxAddress(EVENTS, source="mandi/availability", topic=events_topic("availability"))

    catalog: SqlCatalog
    standings: SqlStandings
    offers: SqlOffers
    reservations: SqlReservations
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
        self.catalog = SqlCatalog(self.session)
        self.standings = SqlStandings(self.session, self.tenant_id)
        self.offers = SqlOffers(self.session)
        self.reservations = SqlReservations(self.session, self.tenant_id)
        self.tenants = SqlTenantDirectory(self.session, tenants)
        self.idempotency = IdempotencyStore(self.session, retention=self._retention)
        return self


class SqlAvailabilityDirectory(TenantlessUnitOfWork):
    """One transaction over the directory of tenants; no tenant's data in reach."""

    tenants: SqlTenantDirectory

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.tenants = SqlTenantDirectory(self.session, tenants)
        return self


class SqlOfferLookups(ReadTransaction):
    """Reads of one tenant's offers by id: READ ONLY, on the primary, so a client reads its own
    writes; without a session, as most requests are these."""

    offers: SqlOffers

    def __init__(self, engine: AsyncEngine, *, tenant_id: UUID) -> None:
        super().__init__(engine, tenant_id=tenant_id)

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.offers = SqlOffers(self)
        return self
