"""The unit of work and repositories the use cases see; adapters implement them on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from mandi_availability.domain.catalog import Commodity
from mandi_availability.domain.offers import Availability, OfferKind, OfferStatus, Requirement
from mandi_availability.domain.reservations import Reservation
from mandi_availability.domain.standing import PartnerStanding
from mandi_db import IdempotencyRecords, TransactionPort
from mandi_messaging.registry import Event

__all__ = [
    "AvailabilityUnitOfWork",
    "CatalogRepository",
    "DirectoryFactory",
    "DirectoryUnitOfWork",
    "LookupFactory",
    "Offer",
    "OfferFilter",
    "OfferLookup",
    "OfferLookups",
    "OfferRepository",
    "PageRequest",
    "QualityRange",
    "ReservationRepository",
    "StandingRepository",
    "TenantDirectory",
    "UnitOfWorkFactory",
]


class CatalogRepository(Protocol):
    """The commodities of the unit of work's tenant."""

    async def get(self, code: str) -> Commodity | None: ...
    async def all(self) -> list[Commodity]: ...
    async def add(self, tenant_id: UUID, commodity: Commodity, now: datetime) -> None: ...
    async def save(self, commodity: Commodity, now: datetime) -> None: ...


Offer = Availability | Requirement
ON_THE_BOOK = (OfferStatus.PUBLISHED, OfferStatus.PARTIALLY_RESERVED)


@dataclass(frozen=True)
class QualityRange:
    """Offers whose measured `parameter` lies within [minimum, maximum]."""

    parameter: str
    minimum: Decimal
    maximum: Decimal


@dataclass(frozen=True)
class OfferFilter:
    """Which offers a list shows; every given criterion must hold."""

    statuses: tuple[OfferStatus, ...] = ON_THE_BOOK
    commodity: str | None = None
    grade: str | None = None
    partner_id: UUID | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    quality: tuple[QualityRange, ...] = ()
    state: str | None = None
    city: str | None = None
    near: tuple[float, float, float] | None = None  # latitude, longitude, radius in metres
    # Who asks: operator staff see offers off the book (drafts, withdrawn, expired) of every
    # partner; anyone else only those of their own partner, if they have one.
    sees_every_partner: bool = True
    own_partner: UUID | None = None


@dataclass(frozen=True)
class PageRequest:
    """Up to `limit` offers created after the one the cursor names (oldest first)."""

    limit: int
    after: tuple[datetime, UUID] | None = None


class OfferRepository(Protocol):
    """The tenant's availabilities and requirements."""

    async def get(
        self, kind: OfferKind, offer_id: UUID, *, for_update: bool = False
    ) -> Offer | None: ...
    async def add(self, offer: Offer) -> None: ...
    async def save(self, offer: Offer) -> None: ...
    async def page(
        self, kind: OfferKind, criteria: OfferFilter, page: PageRequest
    ) -> list[Offer]: ...
    async def past_validity(self, now: datetime, limit: int) -> list[Offer]: ...


class OfferLookup(Protocol):
    """The tenant's offers by id, for a read that changes nothing."""

    async def get(self, kind: OfferKind, offer_id: UUID) -> Offer | None: ...


class ReservationRepository(Protocol):
    """The saga steps applied to the tenant's availabilities."""

    async def step(self, saga_id: UUID, step: str) -> Reservation | None: ...
    async def held(self, saga_id: UUID, availability_id: UUID) -> list[Reservation]: ...
    async def add(self, reservation: Reservation, now: datetime) -> None: ...
    async def mark(self, reservation: Reservation) -> None: ...
    async def overdue(self, now: datetime, limit: int) -> list[Reservation]: ...


class StandingRepository(Protocol):
    """What the partners service last said of the tenant's partners."""

    async def get(self, partner_id: UUID) -> PartnerStanding | None: ...
    async def put(self, standing: PartnerStanding) -> None: ...


class TenantDirectory(Protocol):
    """The tenants the service holds anything of, for the sweeps that visit every tenant."""

    async def remember(self, tenant_id: UUID) -> None: ...
    async def all(self) -> list[UUID]: ...


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
    def reservations(self) -> ReservationRepository: ...

    @property
    def tenants(self) -> TenantDirectory: ...

    @property
    def idempotency(self) -> IdempotencyRecords: ...

    async def publish(self, event: Event, *, subject: str, topic: str | None = None) -> None:
        """Queues an event, as this unit's tenant's, in the outbox of this transaction."""


class OfferLookups(Protocol):
    """One read-only transaction in one tenant's context, on the primary."""

    @property
    def offers(self) -> OfferLookup: ...


class DirectoryUnitOfWork(TransactionPort, Protocol):
    """One transaction with no tenant: the directory of tenants, and nothing of theirs."""

    @property
    def tenants(self) -> TenantDirectory: ...


DirectoryFactory = Callable[[], AbstractAsyncContextManager[DirectoryUnitOfWork]]
UnitOfWorkFactory = Callable[[UUID], AbstractAsyncContextManager[AvailabilityUnitOfWork]]
LookupFactory = Callable[[UUID], AbstractAsyncContextManager[OfferLookups]]
