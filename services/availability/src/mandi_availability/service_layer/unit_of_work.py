"""The unit of work and repositories the use cases see; adapters implement them on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol
from uuid import UUID

from mandi_availability.domain.catalog import Commodity
from mandi_availability.domain.offers import Availability, OfferKind, Requirement
from mandi_availability.domain.standing import PartnerStanding
from mandi_db import IdempotencyRecords, TransactionPort
from mandi_messaging.registry import Event

__all__ = [
    "AvailabilityUnitOfWork",
    "CatalogRepository",
    "Offer",
    "OfferRepository",
    "StandingRepository",
    "UnitOfWorkFactory",
]


class CatalogRepository(Protocol):
    """The commodities of the unit of work's tenant."""

    async def get(self, code: str) -> Commodity | None: ...
    async def all(self) -> list[Commodity]: ...
    async def add(self, tenant_id: UUID, commodity: Commodity, now: datetime) -> None: ...
    async def save(self, commodity: Commodity, now: datetime) -> None: ...


Offer = Availability | Requirement


class OfferRepository(Protocol):
    """The tenant's availabilities and requirements."""

    async def get(
        self, kind: OfferKind, offer_id: UUID, *, for_update: bool = False
    ) -> Offer | None: ...
    async def add(self, offer: Offer) -> None: ...
    async def save(self, offer: Offer) -> None: ...


class StandingRepository(Protocol):
    """What the partners service last said of the tenant's partners."""

    async def get(self, partner_id: UUID) -> PartnerStanding | None: ...
    async def put(self, standing: PartnerStanding) -> None: ...


class AvailabilityUnitOfWork(TransactionPort, Protocol):
    """One transaction in one tenant's context."""

    @property
    def tenant_id(self) -> UUID: ...

    @property
    def catalog(self) -> CatalogRepository: ...

    @property
    def standings(self) -> StandingRepository: ...

    @property
    def offers(self) -> OfferRepository: ...

    @property
    def idempotency(self) -> IdempotencyRecords: ...

    async def publish(self, event: Event, *, subject: str) -> None:
        """Queues an event, as this unit's tenant's, in the outbox of this transaction."""


UnitOfWorkFactory = Callable[[UUID], AbstractAsyncContextManager[AvailabilityUnitOfWork]]
