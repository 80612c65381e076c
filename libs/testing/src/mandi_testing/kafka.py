"""Topics of their own for each test, created with the partitions the test asks for."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

__all__ = ["create_topics", "delete_topics", "read_topic", "temporary_topics", "topic_name"]


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
