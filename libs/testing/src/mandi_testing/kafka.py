"""Topics of their own for each test, created with the partitions the test asks for."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from mandi_messaging import topic_partitions

__all__ = [
    "create_topics",
    "delete_topics",
    "end_offsets",
    "read_topic",
    "read_topic_since",
    "temporary_topics",
    "topic_name",
]


def topic_name(label: str) -> str:
    """A topic name no other test uses: the label, made safe, plus random hex."""
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", label).strip("-")[:60]
    return f"test.{slug}.{secrets.token_hex(4)}"


async def create_topics(bootstrap: str, names: list[str], partitions: int = 3) -> None:
    """Creates topics with one replica each."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in names]
        await admin.create_topics(topics)
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: list[str]) -> None:
    """Deletes topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


@contextmanager
def temporary_topics(bootstrap: str, names: list[str], partitions: int = 3) -> Iterator[list[str]]:
    """Creates the topics, yields their names, deletes them afterwards (outside an event loop)."""
    asyncio.run(create_topics(bootstrap, names, partitions))
    try:
        yield names
    finally:
        asyncio.run(delete_topics(bootstrap, names))


async def read_topic(
    bootstrap: str, topic: str, *, expected: int, timeout: float = 20.0
) -> list[ConsumerRecord]:
    """Reads a topic from the beginning until `expected` records arrived or `timeout` passed.

    Asking for more than should arrive, with a short timeout, proves that nothing more did.
    """
    # No group: the consumer assigns itself every partition and reads each from its start.
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout
        while len(records) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for received in batch.values():
                records += received
        return records
    finally:
        await consumer.stop()


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """Where each partition of a topic ends now (what a later read starts after)."""
    partitions = await topic_partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return {partition.partition: offset for partition, offset in ends.items()}
    finally:
        await consumer.stop()


async def read_topic_since(
    bootstrap: str, topic: str, since: dict[int, int]
) -> list[ConsumerRecord]:
    """Every record written to a topic after the offsets `since`, up to its end now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, partition) for partition in since]
        consumer.assign(assigned)
        for partition in assigned:
            consumer.seek(partition, since[partition.partition])
        ends = await consumer.end_offsets(assigned)
        records: list[ConsumerRecord] = []
        while [p for p in assigned if await consumer.position(p) < ends[p]]:
            for received in (await consumer.getmany(timeout_ms=500)).values():
                records += received
        return records
    finally:
        await consumer.stop()
