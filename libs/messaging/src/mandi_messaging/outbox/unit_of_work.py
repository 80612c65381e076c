"""A tenant's unit of work whose events commit with its writes: the base of every service's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from mandi_db import UnitOfWork
from mandi_messaging.outbox.writer import OutboxWriter
from mandi_messaging.registry import Event, EventRegistry

__all__ = ["OutboxAddress", "OutboxUnitOfWork"]


@dataclass(frozen=True)
class OutboxAddress:
    """Where a service's events go: the registry that encodes them, their source and topic."""

    registry: EventRegistry
    source: str  # the CloudEvents `source`: mandi/<service>
    topic: str


class OutboxUnitOfWork(UnitOfWork):
    """One tenant's transaction; `publish` queues an event in it, as that tenant's.

    A service subclasses it, names its `outbox` and adds its repositories on `self.session` in
    `__aenter__`: a state change and the events it causes commit together or not at all.
    """

    outbox: ClassVar[OutboxAddress]

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        address = self.outbox
        self._outbox_writer = OutboxWriter(
            self.session,
            address.registry,
            source=address.source,
            topic=address.topic,
            tenant_id=self.tenant_id,
        )
        return self

    async def publish(self, event: Event, *, subject: str, topic: str | None = None) -> None:
        """Queues an event about aggregate `subject` (its Kafka key) in this transaction, on the
        service's topic unless another is named (a reply to a saga goes to its reply topic)."""
        await self._outbox_writer.add(event, subject=subject, topic=topic)
