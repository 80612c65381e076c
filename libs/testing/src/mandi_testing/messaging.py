"""Helpers for tests of events: a sample event, a relay in the background, publishing envelopes,
a consumer group that records what it applies (in an `effects` table) and fails as told."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import Transaction, UnitOfWork
from mandi_db.tenancy import TenantAwareSession
from mandi_messaging import (
    ConsumerRuntime,
    Consumers,
    Envelope,
    Event,
    EventRegistry,
    OutboxRelay,
    OutboxWriter,
    RetryPolicy,
    UnitOfWorkFactory,
    create_broker,
    start_broker,
)
from mandi_runtime import RunningService

__all__ = [
    "EFFECTS_TABLE",
    "TEST_EVENTS",
    "TEST_TENANT",
    "DeadLetterRecorder",
    "Delivering",
    "EffectRecorder",
    "Noted",
    "consuming",
    "delivering_in_memory",
    "delivering_to",
    "envelope_of",
    "noted",
    "publish_envelope",
    "recording_group",
    "running",
    "send_envelopes",
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


# What the tests' handlers do, so a test can count effects applied exactly once.
EFFECTS_TABLE = """
    CREATE TABLE effects (
        event_id text PRIMARY KEY,
        body text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )
"""
_RECORD_EFFECT = text("INSERT INTO effects (event_id, body) VALUES (:event_id, :body)")


def noted(body: str, key: str) -> Envelope:
    """The envelope of a Noted event about `key`."""
    return envelope_of(Noted(body=body), subject=key)


class EffectRecorder:
    """A handler that records each event's body in `effects`; fails for the poisonous bodies."""

    def __init__(self, *poisonous: str) -> None:
        self.poisonous = set(poisonous)

    async def __call__(self, event: Noted, uow: Transaction, envelope: Envelope) -> None:
        """Records the body, unless it is poisonous."""
        if event.body in self.poisonous:
            raise RuntimeError(f"cannot settle {event.body} for buyer ravi.kumar@example.com")
        connection = await uow.session.connection()  # the handler's transaction
        await connection.execute(_RECORD_EFFECT, {"event_id": envelope.id, "body": event.body})


def recording_group(group: str, topic: str, recorder: EffectRecorder) -> Consumers:
    """A consumer group that hands every Noted event of `topic` to the recorder."""
    consumers = Consumers(group=group, topics=[topic], registry=TEST_EVENTS)

    @consumers.on(Noted)
    async def on_noted(event: Noted, uow: Transaction, envelope: Envelope) -> None:
        await recorder(event, uow, envelope)

    return consumers


@contextlib.asynccontextmanager
async def consuming(
    bootstrap: str, consumers: Consumers, runtime: ConsumerRuntime
) -> AsyncIterator[None]:
    """The group consuming from the real Kafka for the duration of a block."""
    broker = create_broker(bootstrap, client_id=consumers.group)
    broker.include_router(consumers.router(runtime))
    await start_broker(broker, bootstrap)
    try:
        yield
    finally:
        await broker.stop()


async def send_envelopes(
    producer: AIOKafkaProducer, topic: str, envelopes: Sequence[Envelope]
) -> None:
    """Publishes envelopes one after the other, keyed by subject, as the relay does."""
    for envelope in envelopes:
        key, headers = envelope.subject.encode(), envelope.kafka_headers()
        await (await producer.send(topic, value=envelope.data, key=key, headers=headers))


class DeadLetterRecorder:
    """A group's dead letters, kept in memory (with FastStream's in-memory Kafka), by reason."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.records: list[tuple[ConsumerRecord, str]] = []

    async def publish(
        self, record: ConsumerRecord, error: BaseException, *, group: str, attempts: int
    ) -> None:
        """Keeps the record and the name of the error that sent it here."""
        assert group == self.group, f"a dead letter of {group}, not {self.group}"
        assert attempts >= 1
        self.records.append((record, type(error).__name__))


@contextlib.asynccontextmanager
async def delivering_in_memory(
    consumers: Consumers,
    sessions: async_sessionmaker[TenantAwareSession],
    unit_of_work: UnitOfWorkFactory,
    dead_letters: DeadLetterRecorder,
    dependencies: Mapping[str, object] | None = None,
) -> AsyncIterator[KafkaBroker]:
    """FastStream's in-memory Kafka delivering to the group, through its whole pipeline (inbox,
    retries, dead letters), on the real database of `sessions`; handlers get `dependencies`."""
    runtime = ConsumerRuntime(
        sessions=sessions,
        dead_letters=dead_letters,
        unit_of_work=unit_of_work,
        retry=RetryPolicy(attempts=2, initial_backoff=0.001, max_backoff=0.002),
        dependencies=dependencies or {},
    )
    broker = KafkaBroker()
    broker.include_router(consumers.router(runtime))
    async with TestKafkaBroker(broker) as testing:
        yield testing


Delivering = Callable[[DeadLetterRecorder], contextlib.AbstractAsyncContextManager[KafkaBroker]]


def delivering_to(service: RunningService[Any, Any], consumers: Consumers) -> Delivering:
    """For a service running in the test: `async with deliver(dead_letters) as broker` gives
    FastStream's in-memory Kafka delivering to its consumer group, with the service's own unit of
    work and handler dependencies, on its database."""

    def deliver(
        dead_letters: DeadLetterRecorder,
    ) -> contextlib.AbstractAsyncContextManager[KafkaBroker]:
        unit_of_work = service.wiring.consumer_unit_of_work
        if unit_of_work is None:
            raise TypeError(f"{service.definition.name} wires no consumer unit of work")
        return delivering_in_memory(
            consumers,
            service.database.sessions,
            unit_of_work,
            dead_letters,
            service.wiring.handler_dependencies,
        )

    return deliver
