"""What the command benchmarks share: one service's `consume` process applying a saga's commands.

The commands are sent as fast as the producer batches them; a run lasts from the first sent
until the service's outbox holds a reply to the last, and the consumer's CPU is read from
/proc (utime+stime) around it. The group's offsets are first moved to the end of its topics,
so a run applies its own commands only (no other consumer of the group may run meanwhile).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from benchlib import cpu_seconds

from mandi_messaging import create_producer, ensure_topics
from mandi_messaging.envelope import Envelope

__all__ = ["command_run", "consumer_pid", "skip_backlog"]


async def skip_backlog(bootstrap: str, group: str, topics: list[str]) -> None:
    """Commits the group's offsets at the topics' ends: the run applies its own only."""
    await ensure_topics(bootstrap, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - aiokafka names no other way
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in consumer.partitions_for_topic(topic) or set()
        ]
        consumer.assign(partitions)
        await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


def consumer_pid(package: str) -> int:
    """The pid of `python -m <package> consume`."""
    for stat in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = stat.read_bytes().split(b"\0")
        except OSError:
            continue
        if package.encode() in command and b"consume" in command:
            return int(stat.parent.name)
    raise RuntimeError(f"{package} consume is not running")


async def _replies(owner_url: str, tenant: Any, replies_topic: str) -> int:
    owner = await asyncpg.connect(owner_url)
    try:
        count = await owner.fetchval(
            "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND topic = $2",
            str(tenant),
            replies_topic,
        )
    finally:
        await owner.close()
    return int(count)


async def _send_all(producer: AIOKafkaProducer, topic: str, envelopes: Sequence[Envelope]) -> None:
    sent = [
        await producer.send(
            topic,
            value=envelope.data,
            key=envelope.subject.encode(),
            headers=envelope.kafka_headers(),
        )
        for envelope in envelopes
    ]
    await asyncio.gather(*sent)


async def command_run(
    bootstrap: str,
    owner_url: str,
    tenant: Any,
    *,
    topics: tuple[str, str],
    envelopes: Sequence[Envelope],
    pid: int,
) -> tuple[float, float]:
    """Commands per second and CPU ms per command of the consumer `pid`, for these envelopes
    sent on `topics[0]` and answered on `topics[1]`."""
    commands, replies = topics
    already = await _replies(owner_url, tenant, replies)
    producer = create_producer(bootstrap, client_id="bench-commands")
    await producer.start()
    try:
        cpu_before, started = cpu_seconds(pid), time.perf_counter()
        await _send_all(producer, commands, envelopes)
        while await _replies(owner_url, tenant, replies) < already + len(envelopes):
            await asyncio.sleep(0.05)
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
    finally:
        await producer.stop()
    return len(envelopes) / elapsed, 1000 * cpu / len(envelopes)
