"""The unit of work and repositories the use cases see; adapters implement them on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol
from uuid import UUID

from mandi_db import IdempotencyRecords, TransactionPort
from mandi_messaging.registry import Event
from mandi_runtime.pages import Position
from mandi_webhook.domain.endpoints import Endpoint

__all__ = [
    "DirectoryFactory",
    "DirectoryUnitOfWork",
    "EndpointRepository",
    "PurgeableRecords",
    "TenantDirectory",
    "UnitOfWorkFactory",
    "WebhookUnitOfWork",
]


class EndpointRepository(Protocol):
    """The tenant's endpoints, each with its signing secrets (sealed where they are stored)."""

    async def add(self, endpoint: Endpoint) -> None: ...
    async def get(self, endpoint_id: UUID, *, for_update: bool = False) -> Endpoint | None: ...
    async def save(self, endpoint: Endpoint) -> None:
        """Stores the endpoint's new version, and its secrets as they are now."""

    async def page(
        self, *, partner_id: UUID | None, limit: int, after: Position | None
    ) -> list[Endpoint]:
        """Endpoints oldest first, of one partner or (None) of every partner."""

    async def reseal(self, limit: int) -> int:
        """Re-encrypts up to `limit` secrets sealed with an older key; how many were."""


class TenantDirectory(Protocol):
    """The tenants the service holds data of."""

    async def remember(self, tenant_id: UUID) -> None: ...
    async def all(self) -> list[UUID]: ...


class PurgeableRecords(IdempotencyRecords, Protocol):
    """Stored idempotent answers, which expire."""

    async def purge_expired(self, limit: int = 1000) -> int:
        """Deletes expired keys and their answers; how many."""


class WebhookUnitOfWork(TransactionPort, Protocol):
    """One transaction in one tenant's context."""

    @property
    def tenant_id(self) -> UUID: ...

    @property
    def endpoints(self) -> EndpointRepository: ...

    @property
    def tenants(self) -> TenantDirectory: ...

    @property
    def idempotency(self) -> PurgeableRecords: ...

    async def publish(self, event: Event, *, subject: str, topic: str | None = None) -> None:
        """Queues an event, as this unit's tenant's, in the outbox of this transaction."""


class DirectoryUnitOfWork(TransactionPort, Protocol):
    """One transaction with no tenant: the directory of tenants, and nothing of theirs."""

    @property
    def tenants(self) -> TenantDirectory: ...


UnitOfWorkFactory = Callable[[UUID], AbstractAsyncContextManager[WebhookUnitOfWork]]
DirectoryFactory = Callable[[], AbstractAsyncContextManager[DirectoryUnitOfWork]]
