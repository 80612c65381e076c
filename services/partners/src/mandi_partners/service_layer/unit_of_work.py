"""The units of work and repositories the use cases see; adapters implement them on PostgreSQL.

A tenant's unit of work is opened with the tenant of a verified principal; jobs that visit
every tenant first list them through the tenant-less directory, which reaches no partner data.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from mandi_db import IdempotencyRecords as StoredAnswers
from mandi_db import TransactionPort
from mandi_messaging.registry import Event
from mandi_partners.domain.partner import Partner, PartnerStatus, PartnerType
from mandi_partners.domain.staff import StaffMember
from mandi_partners.domain.tax_ids import TaxId
from mandi_rules import InsiderLinks

__all__ = [
    "DirectoryFactory",
    "DirectoryUnitOfWork",
    "IdempotencyRecords",
    "LookupFactory",
    "PageRequest",
    "PartnerFilter",
    "PartnerLookups",
    "PartnerRepository",
    "PartnersUnitOfWork",
    "StaffRepository",
    "TenantDirectory",
    "UnitOfWorkFactory",
]


@dataclass(frozen=True)
class PartnerFilter:
    """Which partners a list shows; every given criterion must hold."""

    status: PartnerStatus | None = None
    partner_type: PartnerType | None = None
    country: str | None = None
    group_id: UUID | None = None
    name_prefix: str | None = None
    tax_id: TaxId | None = None
    only_partner: UUID | None = None  # an external principal's own partner


@dataclass(frozen=True)
class PageRequest:
    """Up to `limit` partners created after the one the cursor names (oldest first)."""

    limit: int
    after: tuple[datetime, UUID] | None = None


class PartnerRepository(Protocol):
    """Partners of the unit of work's tenant, with their tax ids, contacts and locations."""

    async def get(self, partner_id: UUID, *, for_update: bool = False) -> Partner | None: ...
    async def add(self, partner: Partner) -> None: ...
    async def save(self, partner: Partner) -> None: ...
    async def held_elsewhere(
        self, partner_id: UUID, tax_ids: tuple[TaxId, ...]
    ) -> frozenset[TaxId]: ...
    async def page(self, criteria: PartnerFilter, page: PageRequest) -> list[Partner]: ...
    async def insider_links(self, partner_id: UUID) -> InsiderLinks | None: ...
    def links_of(self, partner: Partner) -> InsiderLinks: ...
    async def awaiting_verification(self, limit: int) -> list[UUID]: ...
    async def claim_verification(self, partner_id: UUID, lease: timedelta) -> bool: ...
    async def release_verification(self, partner_id: UUID) -> None: ...
    async def reseal(self, limit: int) -> int: ...


class PartnerLookup(Protocol):
    """Partners of the tenant by id, for a read that changes nothing."""

    async def get(self, partner_id: UUID) -> Partner | None: ...


class PartnerLookups(Protocol):
    """One read-only transaction in one tenant's context."""

    @property
    def partners(self) -> PartnerLookup: ...


class StaffRepository(Protocol):
    """The users acting for the tenant's partners."""

    async def link(self, member: StaffMember) -> bool:
        """Links a user to its partner; False when it was linked already."""

    async def of_partner(self, partner_id: UUID) -> list[StaffMember]:
        """The partner's staff, first linked first."""


class TenantDirectory(Protocol):
    """The tenants that have partners, for jobs that visit every tenant."""

    async def remember(self, tenant_id: UUID) -> None: ...
    async def all(self) -> list[UUID]: ...


class IdempotencyRecords(StoredAnswers, Protocol):
    """Responses stored under Idempotency-Keys, in the use case's own transaction."""

    async def purge_expired(self, limit: int = 1000) -> int: ...


class PartnersUnitOfWork(TransactionPort, Protocol):
    """One transaction in one tenant's context."""

    @property
    def tenant_id(self) -> UUID: ...

    @property
    def partners(self) -> PartnerRepository: ...

    @property
    def tenants(self) -> TenantDirectory: ...

    @property
    def staff(self) -> StaffRepository: ...

    @property
    def idempotency(self) -> IdempotencyRecords: ...

    async def publish(self, event: Event, *, subject: str) -> None:
        """Queues an event, as this unit's tenant's, in the outbox of this transaction."""


class DirectoryUnitOfWork(TransactionPort, Protocol):
    """One transaction with no tenant: the directory of tenants, and nothing of theirs."""

    @property
    def tenants(self) -> TenantDirectory: ...


UnitOfWorkFactory = Callable[[UUID], AbstractAsyncContextManager[PartnersUnitOfWork]]
LookupFactory = Callable[[UUID], AbstractAsyncContextManager[PartnerLookups]]
DirectoryFactory = Callable[[], AbstractAsyncContextManager[DirectoryUnitOfWork]]
