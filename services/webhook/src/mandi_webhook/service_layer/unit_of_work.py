"""The unit of work and repositories the use cases see; adapters implement them on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol
from uuid import UUID

from mandi_db import IdempotencyRecords, TransactionPort
from mandi_messaging.registry import Event
from mandi_runtime.pages import Position
from mandi_webhook.domain.deliveries import Attempt, Delivery, DeliveryStatus
from mandi_webhook.domain.endpoints import Endpoint

__all__ = [
    "DeliveryRepository",
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

    async def receiving(self, partner_id: UUID, event_type: str) -> list[UUID]:
        """The ids of the partner's enabled endpoints whose filters let `event_type` through."""

    async def get_many(self, endpoint_ids: Collection[UUID]) -> list[Endpoint]:
        """The endpoints of these ids that exist."""


class DeliveryRepository(Protocol):
    """The tenant's deliveries and their attempt log."""

    async def add(self, deliveries: Sequence[Delivery]) -> None:
        """Stores new deliveries; one of the same event to the same endpoint stays as it is."""

    async def claim(
        self, *, now: datetime, lease_until: datetime, limit: int, excluded: Collection[UUID]
    ) -> list[Delivery]:
        """Up to `limit` due deliveries, leased until `lease_until`; none of `excluded`'s."""

    async def release(self, delivery_ids: Sequence[UUID], at: datetime) -> None:
        """Gives claimed deliveries back, due at `at`, with no attempt counted."""

    async def record(self, attempts: Sequence[tuple[Delivery, Attempt]]) -> None:
        """Stores each delivery as its attempt left it, and the attempt in its log."""

    async def get(self, delivery_id: UUID, *, for_update: bool = False) -> Delivery | None: ...
    async def attempts(self, delivery_id: UUID) -> list[Attempt]: ...
    async def page(
        self,
        endpoint_id: UUID,
        *,
        status: DeliveryStatus | None,
        limit: int,
        after: Position | None,
    ) -> list[Delivery]:
        """An endpoint's deliveries, oldest first, of one status or of all."""

    async def replay(self, delivery: Delivery) -> None:
        """Stores a replayed delivery, due again."""

    async def recover(self, endpoint_id: UUID, since: datetime, now: datetime) -> int:
        """Makes the endpoint's dead deliveries since `since` due again now; how many."""

    async def purge_ended(self, before: datetime, limit: int) -> int:
        """Deletes up to `limit` deliveries that ended before `before`; how many."""


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
    def deliveries(self) -> DeliveryRepository: ...

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
