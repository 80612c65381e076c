"""Sequenced dead letters on the real Kafka and PostgreSQL: a key waits behind its dead letter."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import TenantAwareSession
from mandi_messaging import (
    ConsumerRuntime,
    Consumers,
    DeadLetterPublisher,
    Envelope,
    RetryPolicy,
    dead_letter_topic,
    list_dead_letters,
    replay_dead_letters,
)
from mandi_testing import TestDatabase, eventually
from mandi_testing.messaging import (
    EffectRecorder,
    consuming,
    noted,
    recording_group,
    send_envelopes,
)

pytestmark = pytest.mark.integration


@asynccontextmanager
async def consuming_quickly(
    bootstrap: str,
    sessions: async_sessionmaker[TenantAwareSession],
    producer: AIOKafkaProducer,
    consumers: Consumers,
) -> AsyncIterator[None]:
    """The group consuming from the real Kafka, with quick retries, for a block."""
    runtime = ConsumerRuntime(
        sessions=sessions,
        dead_letters=DeadLetterPublisher(producer),
        retry=RetryPolicy(attempts=2, initial_backoff=0.01, max_backoff=0.02),
    )
    async with consuming(bootstrap, consumers, runtime):
        yield


def interleaved(label: str, count: int) -> tuple[list[Envelope], list[Envelope]]:
    """`count` events of one key K and, between them, one event each of other keys."""
    of_k = [noted(f"{label} K{n}", key=f"{label}-K") for n in range(1, count + 1)]
    others = [noted(f"{label} O{n}", key=f"{label}-O{n}") for n in range(1, count + 1)]
    return of_k, others


@dataclass(frozen=True)
class Sequences:
    """What the group's database says about waiting keys."""

    waiting_for: list[str]
    parked: list[str]


@pytest.fixture
def read_database(
    messaging_database: TestDatabase,
) -> Callable[..., Awaitable[object]]:
    """Runs a query as the owner and returns its rows."""

    async def fetch(query: str, *args: object) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(messaging_database.owner_url)
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    return fetch


@pytest.fixture
def effects(read_database: Callable[..., Awaitable[list[asyncpg.Record]]]) -> Callable[..., object]:
    """The bodies recorded with a prefix, in the order they were applied."""

    async def read(prefix: str) -> list[str]:
        query = "SELECT body FROM effects WHERE body LIKE $1 || '%' ORDER BY applied_at"
        return [row["body"] for row in await read_database(query, prefix)]

    return read


@pytest.fixture
def sequences(
    read_database: Callable[..., Awaitable[list[asyncpg.Record]]],
) -> Callable[..., object]:
    """The dead letters a group's keys wait for, and the ids of its parked messages in order."""

    async def read(group: str) -> Sequences:
        blocked = "SELECT dead_letter_id FROM blocked_sequences WHERE consumer = $1"
        parked = "SELECT message_id FROM parked_messages WHERE consumer = $1 ORDER BY id"
        return Sequences(
            waiting_for=[row["dead_letter_id"] for row in await read_database(blocked, group)],
            parked=[row["message_id"] for row in await read_database(parked, group)],
        )

    return read


def _parked_total(group: str, topic: str) -> float:
    labels = {"group": group, "topic": topic, "outcome": "parked"}
    return REGISTRY.get_sample_value("mandi_consumer_messages_total", labels) or 0.0


async def test_a_keys_later_messages_wait_for_its_dead_letter_and_a_replay_applies_them_in_order(
    sessions: async_sessionmaker[TenantAwareSession],
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    make_topic: Callable[..., Awaitable[str]],
    effects: Callable[[str], Awaitable[list[str]]],
    sequences: Callable[[str], Awaitable[Sequences]],
) -> None:
    topic = await make_topic(partitions=1)  # one partition: other keys share K's queue
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    of_k, others = interleaved("replay", 5)
    recorder = EffectRecorder("replay K3")
    group = "sequenced-replay"
    await send_envelopes(
        producer, topic, [event for pair in zip(of_k, others, strict=True) for event in pair]
    )

    consumers = recording_group(group, topic, recorder)
    async with consuming_quickly(kafka_bootstrap_servers, sessions, producer, consumers):
        await eventually(lambda: _parked_total(group, topic) == 2)
        await eventually(lambda: effects("replay O5"))
        assert await effects("replay O") == [f"replay O{n}" for n in range(1, 6)], "never delayed"
        assert await effects("replay K") == ["replay K1", "replay K2"]
        [letter] = await list_dead_letters(kafka_bootstrap_servers, dlq)
        assert (letter.event_id, letter.reason) == (
            of_k[2].id,
            "RuntimeError: cannot settle replay K3 for buyer [REDACTED:email]",
        )
        assert await sequences(group) == Sequences([of_k[2].id], [of_k[3].id, of_k[4].id])

        recorder.poisonous.clear()  # the fix is deployed
        assert await replay_dead_letters(kafka_bootstrap_servers, dlq) == 1
        await eventually(lambda: effects("replay K5"))
        assert await effects("replay K") == [f"replay K{n}" for n in range(1, 6)]
        assert await sequences(group) == Sequences([], [])

        await send_envelopes(producer, topic, [noted("replay K6", key="replay-K")])
        await eventually(lambda: effects("replay K6"))  # K flows again

    assert _parked_total(group, topic) == 2


async def test_discarding_the_dead_letter_releases_the_parked_messages_in_order(
    sessions: async_sessionmaker[TenantAwareSession],
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    make_topic: Callable[..., Awaitable[str]],
    effects: Callable[[str], Awaitable[list[str]]],
    sequences: Callable[[str], Awaitable[Sequences]],
) -> None:
    topic = await make_topic(partitions=1)
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    of_k, _ = interleaved("discard", 4)
    group = "sequenced-discard"
    await send_envelopes(producer, topic, of_k)

    consumers = recording_group(group, topic, EffectRecorder("discard K2"))
    async with consuming_quickly(kafka_bootstrap_servers, sessions, producer, consumers):
        await eventually(lambda: _parked_total(group, topic) == 2)
        command = [sys.executable, "-m", "mandi_messaging.dlq", "discard", "--dlq-topic", dlq]
        discarded = await asyncio.to_thread(
            subprocess.run,
            [*command, "--bootstrap-servers", kafka_bootstrap_servers],
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert discarded.returncode == 0, discarded.stderr.decode()[-2000:]
        assert discarded.stdout.decode().strip() == f"discarded 1 message(s) from {dlq}"
        await eventually(lambda: effects("discard K4"))

    assert await effects("discard K") == ["discard K1", "discard K3", "discard K4"]
    assert await sequences(group) == Sequences([], [])


async def test_a_released_message_that_fails_for_good_becomes_the_dead_letter_its_key_waits_for(
    sessions: async_sessionmaker[TenantAwareSession],
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    make_topic: Callable[..., Awaitable[str]],
    effects: Callable[[str], Awaitable[list[str]]],
    sequences: Callable[[str], Awaitable[Sequences]],
) -> None:
    topic = await make_topic(partitions=1)
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    of_k, _ = interleaved("again", 4)
    recorder = EffectRecorder("again K2", "again K3")
    group = "sequenced-again"
    await send_envelopes(producer, topic, of_k)

    async with consuming_quickly(
        kafka_bootstrap_servers, sessions, producer, recording_group(group, topic, recorder)
    ):
        await eventually(lambda: _parked_total(group, topic) == 2)
        recorder.poisonous.discard("again K2")  # a fix for K2 only
        assert await replay_dead_letters(kafka_bootstrap_servers, dlq) == 1
        await eventually(lambda: effects("again K2"))
        await eventually(lambda: _waits_for(sequences, group, of_k[2].id))

    assert await effects("again K") == ["again K1", "again K2"]
    assert await sequences(group) == Sequences([of_k[2].id], [of_k[3].id])
    letters = await list_dead_letters(kafka_bootstrap_servers, dlq)
    assert [letter.event_id for letter in letters] == [of_k[1].id, of_k[2].id]


async def _waits_for(
    sequences: Callable[[str], Awaitable[Sequences]], group: str, dead_letter_id: str
) -> bool:
    return (await sequences(group)).waiting_for == [dead_letter_id]
