"""The unit of work and repositories the use cases see; adapters implement them on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from mandi_db import IdempotencyRecords, TransactionPort
from mandi_matching.domain.offers import (
    Availability,
    CommodityFacts,
    Party,
    Requirement,
    RiskView,
    Side,
)
from mandi_matching.domain.proposals import Proposal
from mandi_matching.domain.trades import Trade
from mandi_messaging.registry import Event
from mandi_rules import InsiderLinks
from mandi_saga import SagaRepository

__all__ = [
    "Book",
    "CatalogFacts",
    "DirectoryFactory",
    "DirectoryUnitOfWork",
    "MatchingUnitOfWork",
    "PartnerDirectory",
    "ProposalRepository",
    "RiskViews",
    "TenantDirectory",
    "TradeRepository",
    "UnitOfWorkFactory",
]


class Book(Protocol):
    """The open book as matching sees it; each offer as of its latest version."""

    async def put_requirement(self, requirement: Requirement, *, on_the_book: bool) -> bool:
        """Stores the requirement unless a later version is stored; whether it was."""

    async def put_availability(self, availability: Availability, *, on_the_book: bool) -> bool:
        """Stores the availability unless a later version is stored; whether it was."""

    async def close(self, offer_id: UUID, version: int) -> bool:
        """Takes an offer off the book as of `version`; whether that was news."""

    async def set_free(self, availability_id: UUID, free: Decimal, version: int) -> bool:
        """What is free of the availability as of `version`; whether that was news."""

    async def requirement(self, requirement_id: UUID) -> Requirement | None:
        """An open requirement."""

    async def availability(self, availability_id: UUID) -> Availability | None:
        """An open availability."""

    async def availabilities_near(
        self, requirement: Requirement, radius_km: float, limit: int, now: datetime
    ) -> list[Availability]:
        """Open availabilities of the requirement's commodity and currency, valid, with
        something free and a delivery window that meets its own, within the radius; nearest
        first."""

    async def requirements_near(
        self, availability: Availability, radius_km: float, limit: int, now: datetime
    ) -> list[Requirement]:
        """Open requirements the availability could serve, as `availabilities_near` turned
        around."""

    async def open_offers_of(self, partner_id: UUID) -> list[UUID]:
        """The partner's open offers' ids."""

    async def open_requirements_of(self, commodity: str) -> list[UUID]:
        """The open requirements' ids of the commodity."""

    async def match_alone(self, commodity: str) -> None:
        """Waits until no other transaction matches offers of the commodity, and keeps others
        waiting until this one ends."""


class PartnerDirectory(Protocol):
    """Partners as matching knows them from partners' events."""

    async def put_links(self, links: InsiderLinks, version: int) -> None: ...
    async def put_standing(self, partner_id: UUID, *, may_trade: bool, version: int) -> bool:
        """Stores whether the partner may trade as of `version`; whether that was news."""

    async def parties(self, partner_ids: Iterable[UUID]) -> dict[UUID, Party]:
        """The partners known; an unknown one is missing from the answer."""


class RiskViews(Protocol):
    """The latest risk assessment of each buyer and seller pair."""

    async def put(
        self, buyer_id: UUID, seller_id: UUID, view: RiskView, assessed_at: datetime
    ) -> None: ...
    async def of_buyer(self, buyer_id: UUID, seller_ids: Iterable[UUID]) -> dict[UUID, RiskView]:
        """By seller, the latest assessment of the buyer with each."""

    async def of_seller(self, seller_id: UUID, buyer_ids: Iterable[UUID]) -> dict[UUID, RiskView]:
        """By buyer, the latest assessment of each with the seller."""


class CatalogFacts(Protocol):
    """What the catalog says of each commodity that matching uses."""

    async def put(self, commodity: str, version: int, facts: CommodityFacts) -> bool:
        """Stores the commodity's facts unless a later version is stored; whether it was."""

    async def commodity(self, commodity: str) -> CommodityFacts | None: ...


class ProposalRepository(Protocol):
    """Every proposal made."""

    async def add(self, proposal: Proposal) -> None: ...
    async def get(self, proposal_id: UUID, *, for_update: bool = False) -> Proposal | None: ...
    async def save(self, proposal: Proposal) -> None:
        """Stores a new version; Conflict if another was stored since it was read."""

    async def open_of_requirement(self, requirement_id: UUID) -> list[Proposal]:
        """The requirement's open proposals, locked."""

    async def open_of_availability(self, availability_id: UUID) -> list[Proposal]:
        """The availability's open proposals, locked."""

    async def by_saga(self, saga_id: UUID) -> Proposal | None:
        """The proposal a trade saga was started for, locked."""

    async def page(
        self,
        *,
        partner_id: UUID | None,
        side: Side | None,
        requirement_id: UUID | None,
        statuses: tuple[str, ...],
        limit: int,
        after: tuple[Decimal, UUID] | None,
    ) -> list[Proposal]:
        """Proposals best first: of the partner on the side (both sides when None), of a
        requirement, in the statuses; after the (score, id) of the last one seen."""


class TradeRepository(Protocol):
    """Every trade."""

    async def add(self, trade: Trade) -> None: ...
    async def get(self, trade_id: UUID, *, for_update: bool = False) -> Trade | None: ...
    async def save(self, trade: Trade) -> None:
        """Stores a new version; Conflict if another was stored since it was read."""

    async def by_cancellation(self, saga_id: UUID) -> Trade | None:
        """The trade a cancellation saga cancels, locked."""

    async def page(
        self, *, partner_id: UUID | None, limit: int, after: tuple[datetime, UUID] | None
    ) -> list[Trade]:
        """Trades newest first, of the partner (either side) when named."""


class TenantDirectory(Protocol):
    """The tenants matching holds something of."""

    async def remember(self, tenant_id: UUID) -> None: ...
    async def all(self) -> list[UUID]: ...


class MatchingUnitOfWork(TransactionPort, Protocol):
    """One transaction of the matching service, in one tenant's context."""

    @property
    def tenant_id(self) -> UUID: ...

    @property
    def book(self) -> Book: ...

    @property
    def partners(self) -> PartnerDirectory: ...

    @property
    def risk(self) -> RiskViews: ...

    @property
    def catalog(self) -> CatalogFacts: ...

    @property
    def proposals(self) -> ProposalRepository: ...

    @property
    def trades(self) -> TradeRepository: ...

    @property
    def sagas(self) -> SagaRepository: ...

    @property
    def tenants(self) -> TenantDirectory: ...

    @property
    def idempotency(self) -> IdempotencyRecords: ...

    async def publish(self, event: Event, *, subject: str, topic: str | None = None) -> None:
        """Queues an event, as this unit's tenant's, in the outbox of this transaction."""


class DirectoryUnitOfWork(TransactionPort, Protocol):
    """One transaction with no tenant: the directory of tenants, and nothing of theirs."""

    @property
    def tenants(self) -> TenantDirectory: ...


UnitOfWorkFactory = Callable[[UUID], AbstractAsyncContextManager[MatchingUnitOfWork]]
DirectoryFactory = Callable[[], AbstractAsyncContextManager[DirectoryUnitOfWork]]
