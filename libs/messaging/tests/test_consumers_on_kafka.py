"""Consumers on the real Kafka and PostgreSQL: inbox, crash recovery, dead letters, replay."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaConnectionError
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import TenantAwareSession, Transaction, UnitOfWork
from mandi_messaging import (
    DeadLetterPublisher,
    Envelope,
    EventConsumer,
    OutboxRelay,
    Outcome,
    RetryPolicy,
    create_broker,
    dead_letter_topic,
    list_dead_letters,
    replay_dead_letters,
    start_broker,
    subscribe,
)
from mandi_testing import TestDatabase, eventually, read_topic
from mandi_testing.messaging import TEST_EVENTS, TEST_TENANT, Noted, running, write_events

pytestmark = pytest.mark.integration

RECORD_EFFECT = text("INSERT INTO effects (event_id, body) VALUES (:event_id, :body)")
CountRows = Callable[[str], Awaitable[int]]


class Handler:
    """Records each event's body in `effects`; fails, as told, for some bodies."""

    def __init__(self) -> None:
        self.poisonous: set[str] = set()

    async def __call__(self, event: Noted, envelope: Envelope, uow: Transaction) -> None:
        if event.body in self.poisonous:
            raise RuntimeError(f"cannot price {event.body} for buyer ravi.kumar@example.com")
        await uow.session.exec(RECORD_EFFECT, params={"event_id": envelope.id, "body": event.body})


def _consumer(
    sessions: async_sessionmaker[TenantAwareSession],
    producer: AIOKafkaProducer,
    handler: Handler,
    group: str,
) -> EventConsumer:
    return EventConsumer(
        group=group,
        registry=TEST_EVENTS,
        unit_of_work=lambda tenant: UnitOfWork(sessions, tenant_id=UUID(tenant)),
        handler=handler,  # type: ignore[arg-type]
        dead_letters=DeadLetterPublisher(producer, group=group),
        retry=RetryPolicy(attempts=3, initial_backoff=0.01, max_backoff=0.05),
    )


@asynccontextmanager
async def consuming(bootstrap: str, consumer: EventConsumer, topic: str) -> AsyncIterator[None]:
    """A FastStream broker delivering `topic` to the consumer for the duration of a block."""
    broker = create_broker(bootstrap, client_id=consumer.group)
    subscribe(broker, consumer, topic)
    await start_broker(broker, bootstrap)
    try:
        yield
    finally:
        await broker.stop()


def _outcomes(group: str, topic: str, outcome: str) -> float:
    labels = {"group": group, "topic": topic, "outcome": outcome}
    return REGISTRY.get_sample_value("mandi_consumer_messages_total", labels) or 0.0


async def test_a_redelivered_message_changes_nothing(
    sessions: async_sessionmaker[TenantAwareSession],
    producer: AIOKafkaProducer,
    count_rows: CountRows,
) -> None:
    consumer = _consumer(sessions, producer, Handler(), group="inbox-test")
    envelope = Envelope(
        id="2d3c1b0a-0000-4000-8000-00000000beef",
        source="mandi/tests",
        type="mandi.test.noted.v1",
        subject="lot-1",
        data=b'{"body": "once"}',
        tenant_id=str(TEST_TENANT),
    )
    record = ConsumerRecord(
        "inbox-topic", 0, 0, 0, 0, b"lot-1", envelope.data, None, 5, 16, envelope.kafka_headers()
    )
    before = await count_rows("effects")

    assert await consumer.handle(record) is Outcome.PROCESSED
    assert await consumer.handle(record) is Outcome.DUPLICATE
    assert await count_rows("effects") == before + 1


CRASHING_RELAY = """
import asyncio, os, sys
from mandi_messaging import OutboxRelay, create_producer

acknowledged_batches = 0

def die_after_batch_n(messages):
    # Exits as a killed process would: Kafka has batch N, its rows are not deleted.
    global acknowledged_batches
    acknowledged_batches += 1
    if acknowledged_batches == int(sys.argv[3]):
        os._exit(17)

async def main():
    producer = create_producer(sys.argv[2], client_id="crashing-relay")
    await producer.start()
    relay = OutboxRelay(
        dsn=sys.argv[1], producer=producer, service="crash", batch_size=500,
        on_acknowledged=die_after_batch_n,
    )
    await relay.run()

asyncio.run(main())
"""


async def test_a_relay_killed_mid_batch_loses_nothing_and_the_inbox_absorbs_duplicates(
    sessions: async_sessionmaker[TenantAwareSession],
    producer: AIOKafkaProducer,
    make_relay: Callable[..., OutboxRelay],
    messaging_database: TestDatabase,
    kafka_bootstrap_servers: str,
    topic: str,
    count_rows: CountRows,
) -> None:
    events = [(f"lot-{n % 13}", Noted(body=f"crash {n}", seq=n)) for n in range(3000)]
    await write_events(sessions, topic, events)
    effects_before = await count_rows("effects")

    crashed = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-c",
            CRASHING_RELAY,
            messaging_database.app_url,
            kafka_bootstrap_servers,
            "3",
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert crashed.returncode == 17, crashed.stderr.decode()[-2000:]
    assert await count_rows("outbox") == 2000, "the third batch was published but not deleted"

    group = "crash-test"
    consumer = _consumer(sessions, producer, Handler(), group)
    async with running(make_relay()), consuming(kafka_bootstrap_servers, consumer, topic):

        async def all_applied() -> bool:
            return await count_rows("effects") - effects_before == 3000

        await eventually(all_applied, timeout=60)
        await eventually(lambda: _outcomes(group, topic, "duplicate") >= 500)

    assert len(await read_topic(kafka_bootstrap_servers, topic, expected=3500)) == 3500
    assert _outcomes(group, topic, "processed") == 3000
    assert _outcomes(group, topic, "duplicate") == 500
    assert await count_rows("outbox") == 0


async def test_a_message_that_always_fails_is_dead_lettered_with_its_reason_and_replayed(
    sessions: async_sessionmaker[TenantAwareSession],
    producer: AIOKafkaProducer,
    make_relay: Callable[..., OutboxRelay],
    kafka_bootstrap_servers: str,
    topic: str,
    make_topic: Callable[..., Awaitable[str]],
    count_rows: CountRows,
) -> None:
    handler = Handler()
    handler.poisonous.add("poison")
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    effects_before = await count_rows("effects")
    await write_events(
        sessions, topic, [("lot-1", Noted(body="poison")), ("lot-1", Noted(body="fine"))]
    )

    consumer = _consumer(sessions, producer, handler, group="dlq-test")
    async with running(make_relay()), consuming(kafka_bootstrap_servers, consumer, topic):

        async def next_message_applied() -> bool:
            return await count_rows("effects") == effects_before + 1

        await eventually(next_message_applied)  # the poison did not block its partition
        [letter] = await read_topic(kafka_bootstrap_servers, dlq, expected=2, timeout=2)
        headers = dict(letter.headers)
        reason = headers["x-dlq-reason"].decode()
        assert reason.startswith("RuntimeError: cannot price poison")
        assert "ravi.kumar@example.com" not in reason, "the reason is redacted"
        assert headers["x-dlq-attempts"] == b"3"
        assert headers["x-dlq-original-topic"] == topic.encode()
        assert headers["x-dlq-consumer-group"] == b"dlq-test"
        assert letter.value == b'{"body":"poison","seq":0}'

        [listed] = await list_dead_letters(kafka_bootstrap_servers, dlq)
        assert listed.reason == reason
        assert listed.event_type == "mandi.test.noted.v1"

        handler.poisonous.clear()
        assert await replay_dead_letters(kafka_bootstrap_servers, dlq) == 1

        async def poison_applied() -> bool:
            return await count_rows("effects") == effects_before + 2

        await eventually(poison_applied)
        assert await replay_dead_letters(kafka_bootstrap_servers, dlq) == 0, "replayed once"


async def test_a_message_that_is_not_our_cloudevent_is_dead_lettered_at_once(
    sessions: async_sessionmaker[TenantAwareSession],
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    topic: str,
    make_topic: Callable[..., Awaitable[str]],
) -> None:
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    await (await producer.send(topic, value=b"<xml/>", key=b"k", headers=[("source", b"legacy")]))
    consumer = _consumer(sessions, producer, Handler(), group="malformed-test")
    async with consuming(kafka_bootstrap_servers, consumer, topic):
        [letter] = await read_topic(kafka_bootstrap_servers, dlq, expected=1)

    headers: dict[str, Any] = dict(letter.headers)
    assert headers["x-dlq-error-type"] == b"MalformedEnvelope"
    assert headers["x-dlq-attempts"] == b"1"
    assert headers["source"] == b"legacy", "the original headers travel with the dead letter"


class FlakyDeadLetters(DeadLetterPublisher):
    """Fails its first publish, as a Kafka briefly unreachable would, then works."""

    def __init__(self, producer: AIOKafkaProducer, *, group: str) -> None:
        super().__init__(producer, group=group)
        self.calls = 0

    async def publish(self, record: ConsumerRecord, error: BaseException, *, attempts: int) -> None:
        self.calls += 1
        if self.calls == 1:
            raise KafkaConnectionError("the dead-letter topic is unreachable")
        await super().publish(record, error, attempts=attempts)


async def test_a_message_whose_dead_letter_cannot_be_written_is_read_again_not_lost(
    sessions: async_sessionmaker[TenantAwareSession],
    producer: AIOKafkaProducer,
    make_relay: Callable[..., OutboxRelay],
    kafka_bootstrap_servers: str,
    make_topic: Callable[..., Awaitable[str]],
    count_rows: CountRows,
) -> None:
    topic = await make_topic(partitions=1)
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    handler = Handler()
    handler.poisonous.add("poison")
    group = "flaky-dlq-test"
    dead_letters = FlakyDeadLetters(producer, group=group)
    consumer = EventConsumer(
        group=group,
        registry=TEST_EVENTS,
        unit_of_work=lambda tenant: UnitOfWork(sessions, tenant_id=UUID(tenant)),
        handler=handler,  # type: ignore[arg-type]
        dead_letters=dead_letters,
        retry=RetryPolicy(attempts=2, initial_backoff=0.01, max_backoff=0.02),
    )
    effects_before = await count_rows("effects")
    await write_events(
        sessions, topic, [("lot-1", Noted(body="poison")), ("lot-1", Noted(body="after"))]
    )

    async with running(make_relay()), consuming(kafka_bootstrap_servers, consumer, topic):

        async def the_next_message_was_applied() -> bool:
            return await count_rows("effects") == effects_before + 1

        await eventually(the_next_message_was_applied)
        letters = await read_topic(kafka_bootstrap_servers, dlq, expected=2, timeout=2)

    assert dead_letters.calls == 2, "the failed dead-lettering was retried with the message"
    assert len(letters) == 1
    lag = REGISTRY.get_sample_value(
        "mandi_consumer_lag", {"group": group, "topic": topic, "partition": "0"}
    )
    assert lag == 0
