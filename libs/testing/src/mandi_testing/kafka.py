"""Topics of their own for each test, created with the partitions the test asks for."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

__all__ = ["temporary_topics", "topic_name"]


def topic_name(label: str) -> str:
    """A topic name no other test uses: the label, made safe, plus random hex."""
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", label).strip("-")[-60:]
    return f"test.{slug}.{secrets.token_hex(4)}"


async def _create(bootstrap: str, names: list[str], partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in names]
        await admin.create_topics(topics)
    finally:
        await admin.close()


async def _delete(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


@contextmanager
def temporary_topics(bootstrap: str, names: list[str], partitions: int = 3) -> Iterator[list[str]]:
    """Creates the topics, yields their names, deletes them afterwards."""
    asyncio.run(_create(bootstrap, names, partitions))
    try:
        yield names
    finally:
        asyncio.run(_delete(bootstrap, names))
