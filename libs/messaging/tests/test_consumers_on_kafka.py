"""Typed consumers on the real Kafka and PostgreSQL: inbox, crashes, dead letters, parked keys."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import TenantAwareSession
from mandi_messaging import (
    ConsumerRuntime,
    DeadLetterPublisher,
    Envelope,
    OutboxRelay,
    RetryPolicy,
    dead_letter_topic,
    list_dead_letters,
    replay_dead_letters,
)
from mandi_testing import TestDatabase, eventually, read_topic
from mandi_testing.messaging import (
    TEST_TENANT,
    EffectRecorder,
    Noted,
    consuming,
    noted,
    recording_group,
    running,
    send_envelopes,
    write_events,
)

pytestmark = pytest.mark.integration

CountRows = Callable[[str], Awaitable[int]]
QUICK_RETRIES = RetryPolicy(attempts=2, initial_backoff=0.01, max_backoff=0.02)


@pytest.fixture
def runtime(
    sessions: async_sessionmaker[TenantAwareSession], producer: AIOKafkaProducer
) -> ConsumerRuntime:
    """A service's consumer runtime: its database, dead letters on Kafka, quick retries."""
    return ConsumerRuntime(
        sessions=sessions, dead_letters=DeadLetterPublisher(producer), retry=QUICK_RETRIES
    )


@pytest.fixture
def effects(messaging_database: TestDatabase) -> Callable[[str], Awaitable[list[str]]]:
    """The bodies the handlers recorded that start with a prefix, in the order they were applied."""

    async def read(prefix: str) -> list[str]:
        connection = await asyncpg.connect(messaging_database.owner_url)
        try:
            rows = await connection.fetch(
                "SELECT body FROM effects WHERE body LIKE $1 || '%' ORDER BY applied_at", prefix
            )
        finally:
            await connection.close()
        return [row["body"] for row in rows]

    return read


def _outcomes(group: str, topic: str, outcome: str) -> float:
    labels = {"group": group, "topic": topic, "outcome": outcome}
    return REGISTRY.get_sample_value("mandi_consumer_messages_total", labels) or 0.0


async def test_a_message_delivered_twice_is_applied_once(
    runtime: ConsumerRuntime,
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    topic: str,
    effects: Callable[[str], Awaitable[list[str]]],
) -> None:
    once = noted("twice-sent once", key="lot-1")
    group = "inbox-test"
    await send_envelopes(producer, topic, [once, once])

    consumers = recording_group(group, topic, EffectRecorder())
    async with consuming(kafka_bootstrap_servers, consumers, runtime):
        await eventually(lambda: _outcomes(group, topic, "duplicate") == 1)

    assert await effects("twice-sent") == ["twice-sent once"]
    assert _outcomes(group, topic, "processed") == 1


CRASHING_CONSUMER = """
import asyncio, os, sys
from sqlalchemy import text
from mandi_db import UnitOfWork, create_database_engine, create_session_factory
from mandi_messaging import (
    ConsumerRuntime, Consumers, DeadLetterPublisher, create_broker, create_producer, start_broker,
)
from mandi_testing.messaging import TEST_EVENTS, Noted

dsn, bootstrap, topic, group, moment = sys.argv[1:6]


class DiesAfterCommit(UnitOfWork):
    async def commit(self):
        await super().commit()
        os._exit(17)  # the transaction committed; the offset did not


async def main():
    sessions = create_session_factory(create_database_engine(dsn))
    consumers = Consumers(group=group, topics=[topic], registry=TEST_EVENTS)

    @consumers.on(Noted)
    async def on_noted(event: Noted, uow, envelope) -> None:
        await uow.session.exec(
            text("INSERT INTO effects (event_id, body) VALUES (:id, :body)"),
            params={"id": envelope.id, "body": event.body},
        )
        if moment == "before-commit":
            os._exit(17)  # the effects are written, not committed

    producer = create_producer(bootstrap, client_id="crashing-consumer")
    await producer.start()
    dying = (lambda tenant: DiesAfterCommit(sessions, tenant_id=tenant))
    runtime = ConsumerRuntime(
        sessions=sessions,
        dead_letters=DeadLetterPublisher(producer),
        unit_of_work=dying if moment == "after-commit" else None,
    )
    broker = create_broker(bootstrap, client_id=group)
    broker.include_router(consumers.router(runtime, session_timeout_ms=6000))
    await start_broker(broker, bootstrap)
    await asyncio.sleep(60)
    sys.exit("the consumer never received its message")


asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("moment", "then"),
    [("before-commit", "processed"), ("after-commit", "duplicate")],
)
async def test_a_consumer_killed_before_its_offset_is_committed_is_read_again_and_applied_once(
    moment: str,
    then: str,
    runtime: ConsumerRuntime,
    producer: AIOKafkaProducer,
    messaging_database: TestDatabase,
    kafka_bootstrap_servers: str,
    make_topic: Callable[..., Awaitable[str]],
    effects: Callable[[str], Awaitable[list[str]]],
) -> None:
    topic = await make_topic(partitions=1)
    group = f"crash-{moment}"
    await send_envelopes(producer, topic, [noted(f"{moment} survives", key="lot-1")])
    arguments = [messaging_database.app_url, kafka_bootstrap_servers, topic, group, moment]

    crashed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", CRASHING_CONSUMER, *arguments],
        capture_output=True,
        timeout=90,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert crashed.returncode == 17, crashed.stderr.decode()[-2000:]
    committed = [f"{moment} survives"] if moment == "after-commit" else []
    assert await effects(moment) == committed

    recorder = recording_group(group, topic, EffectRecorder())
    async with consuming(kafka_bootstrap_servers, recorder, runtime):
        await eventually(lambda: _outcomes(group, topic, then) == 1, timeout=40)

    assert await effects(moment) == [f"{moment} survives"]


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
    runtime: ConsumerRuntime,
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

    group = "relay-crash-test"
    consumers = recording_group(group, topic, EffectRecorder())
    async with running(make_relay()), consuming(kafka_bootstrap_servers, consumers, runtime):

        async def all_applied() -> bool:
            return await count_rows("effects") - effects_before == 3000

        await eventually(all_applied, timeout=60)
        await eventually(lambda: _outcomes(group, topic, "duplicate") >= 500)

    assert len(await read_topic(kafka_bootstrap_servers, topic, expected=3500)) == 3500
    assert _outcomes(group, topic, "processed") == 3000
    assert _outcomes(group, topic, "duplicate") == 500
    assert await count_rows("outbox") == 0


async def test_a_message_that_always_fails_is_dead_lettered_with_its_reason_and_replayed(
    runtime: ConsumerRuntime,
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    topic: str,
    make_topic: Callable[..., Awaitable[str]],
    effects: Callable[[str], Awaitable[list[str]]],
) -> None:
    recorder = EffectRecorder()
    recorder.poisonous.add("dlq poison")
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    poison = noted("dlq poison", key="lot-1")
    await send_envelopes(producer, topic, [poison, noted("dlq fine", key="lot-2")])

    consumers = recording_group("dlq-test", topic, recorder)
    async with consuming(kafka_bootstrap_servers, consumers, runtime):
        await eventually(lambda: _outcomes("dlq-test", topic, "dead_lettered") == 1)
        [letter] = await read_topic(kafka_bootstrap_servers, dlq, expected=2, timeout=2)
        headers = dict(letter.headers)
        reason = headers["x-dlq-reason"].decode()
        assert reason.startswith("RuntimeError: cannot settle dlq poison")
        assert "ravi.kumar@example.com" not in reason, "the reason is redacted"
        assert headers["x-dlq-attempts"] == b"2"
        assert headers["x-dlq-original-topic"] == topic.encode()
        assert headers["x-dlq-consumer-group"] == b"dlq-test"
        assert headers["ce_id"] == poison.id.encode()
        assert letter.value == poison.data
        await eventually(lambda: effects("dlq fine"))  # the poison did not hold its partition up

        [listed] = await list_dead_letters(kafka_bootstrap_servers, dlq)
        assert listed.reason == reason
        assert listed.event_type == "mandi.test.noted.v1"

        recorder.poisonous.clear()
        assert await replay_dead_letters(kafka_bootstrap_servers, dlq) == 1
        await eventually(lambda: effects("dlq poison"))
        assert await replay_dead_letters(kafka_bootstrap_servers, dlq) == 0, "replayed once"

    assert await effects("dlq ") == ["dlq fine", "dlq poison"]


async def test_a_message_that_is_not_our_cloudevent_is_dead_lettered_at_once(
    runtime: ConsumerRuntime,
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    topic: str,
    make_topic: Callable[..., Awaitable[str]],
) -> None:
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    legacy = [("source", b"legacy"), ("x-legacy-checksum", b"\xff\xfe")]  # not even UTF-8
    await (await producer.send(topic, value=b"<xml/>", key=b"k", headers=legacy))

    consumers = recording_group("malformed-test", topic, EffectRecorder())
    async with consuming(kafka_bootstrap_servers, consumers, runtime):
        [letter] = await read_topic(kafka_bootstrap_servers, dlq, expected=1)

    headers: dict[str, Any] = dict(letter.headers)
    assert headers["x-dlq-error-type"] == b"MalformedEnvelope"
    assert headers["x-dlq-attempts"] == b"1"
    assert headers["source"] == b"legacy", "the original headers travel with the dead letter"
    assert headers["x-legacy-checksum"] == b"\xff\xfe"


class FlakyDeadLetters(DeadLetterPublisher):
    """Fails its first publish, as a Kafka briefly unreachable would, then works."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        super().__init__(producer)
        self.calls = 0

    async def publish(
        self, record: ConsumerRecord, error: BaseException, *, group: str, attempts: int
    ) -> None:
        """Fails the first time."""
        self.calls += 1
        if self.calls == 1:
            raise KafkaConnectionError("the dead-letter topic is unreachable")
        await super().publish(record, error, group=group, attempts=attempts)


async def test_a_message_whose_dead_letter_cannot_be_written_is_read_again_not_lost(
    sessions: async_sessionmaker[TenantAwareSession],
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    make_topic: Callable[..., Awaitable[str]],
    effects: Callable[[str], Awaitable[list[str]]],
) -> None:
    topic = await make_topic(partitions=1)
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    recorder = EffectRecorder()
    recorder.poisonous.add("flaky poison")
    group = "flaky-dlq-test"
    dead_letters = FlakyDeadLetters(producer)
    runtime = ConsumerRuntime(sessions=sessions, dead_letters=dead_letters, retry=QUICK_RETRIES)
    await send_envelopes(
        producer, topic, [noted("flaky poison", "lot-1"), noted("flaky after", "lot-2")]
    )

    async with consuming(kafka_bootstrap_servers, recording_group(group, topic, recorder), runtime):
        await eventually(lambda: effects("flaky after"))
        letters = await read_topic(kafka_bootstrap_servers, dlq, expected=2, timeout=2)

    assert dead_letters.calls == 2, "the failed dead-lettering was retried with the message"
    assert len(letters) == 1
    lag = REGISTRY.get_sample_value(
        "mandi_consumer_lag", {"group": group, "topic": topic, "partition": "0"}
    )
    assert lag == 0


async def test_records_a_group_skips_are_committed_every_so_often_not_one_by_one(
    runtime: ConsumerRuntime,
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    make_topic: Callable[..., Awaitable[str]],
) -> None:
    topic, group = await make_topic(partitions=1), f"skipping-{uuid.uuid4().hex[:8]}"
    others = [
        Envelope(
            id=str(uuid.uuid4()),
            source="mandi/tests",
            type="mandi.other.thing.v1",  # no handler of this group's
            subject="lot-1",
            data=b"{}",
            tenant_id=str(TEST_TENANT),
            correlation_id=str(uuid.uuid4()),
        )
        for _ in range(250)
    ]
    await send_envelopes(producer, topic, others)
    recorder = recording_group(group, topic, EffectRecorder())
    async with consuming(kafka_bootstrap_servers, recorder, runtime):
        await eventually(lambda: _outcomes(group, topic, "skipped") == 250, timeout=40)

    committed = await _committed(kafka_bootstrap_servers, group, topic)
    # Two hundred skipped were committed (one commit per hundred): a restart re-reads fifty.
    assert committed == 200


async def _committed(bootstrap: str, group: str, topic: str) -> int | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(topic, 0))
    finally:
        await consumer.stop()
