"""Helpers for tests of events: a sample event, a relay in the background, publishing envelopes."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from uuid import UUID

from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import UnitOfWork
from mandi_db.tenancy import TenantAwareSession
from mandi_messaging import Envelope, Event, EventRegistry, OutboxRelay, OutboxWriter

__all__ = [
    "TEST_EVENTS",
    "TEST_TENANT",
    "Noted",
    "envelope_of",
    "publish_envelope",
    "running",
    "write_events",
]

TEST_EVENTS = EventRegistry()
TEST_TENANT = UUID("00000000-0000-4000-8000-00000000feed")


@TEST_EVENTS.event("mandi.test.noted", 1)
class Noted(Event):
    """A sample event: a body and a sequence number."""

    body: str
    seq: int = 0


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[asyncio.Task[None]]:
    """Runs a relay as a background task for the duration of a block, then stops it gracefully."""
    task = asyncio.create_task(relay.run())
    try:
        yield task
    finally:
        relay.stop()
        try:
            await asyncio.wait_for(task, timeout=10)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def write_events(
    sessions: async_sessionmaker[TenantAwareSession],
    topic: str,
    events: Sequence[tuple[str, Event]],
    *,
    registry: EventRegistry = TEST_EVENTS,
    tenant_id: UUID = TEST_TENANT,
) -> None:
    """Commits each (key, event) to the outbox, as the tenant's, in a transaction of its own."""
    for key, event in events:
        async with UnitOfWork(sessions, tenant_id=tenant_id) as uow:
            writer = OutboxWriter(
                uow.session, registry, source="mandi/tests", topic=topic, tenant_id=tenant_id
            )
            await writer.add(event, subject=key)
            await uow.commit()


def envelope_of(
    event: Event,
    *,
    subject: str,
    registry: EventRegistry = TEST_EVENTS,
    tenant_id: UUID | None = TEST_TENANT,
) -> Envelope:
    """The envelope the outbox would give an event about `subject`, with a new id."""
    return Envelope(
        id=str(uuid.uuid4()),
        source="mandi/tests",
        type=registry.type_name(event),
        subject=subject,
        data=event.model_dump_json().encode(),
        tenant_id=str(tenant_id) if tenant_id else None,
    )


async def publish_envelope(broker: KafkaBroker, topic: str, envelope: Envelope) -> None:
    """Publishes an envelope as the relay does (binary mode, keyed by subject), e.g. in memory."""
    headers = {name: value.decode() for name, value in envelope.kafka_headers()}
    await broker.publish(envelope.data, topic, key=envelope.subject.encode(), headers=headers)
