"""Topic names and their creation: `mandi.<service>.events`, a saga's `mandi.<service>.commands`
and their `mandi.<service>.replies`, each with its `.dlq` beside it."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

__all__ = [
    "DLQ_SUFFIX",
    "commands_topic",
    "dead_letter_topic",
    "ensure_topics",
    "events_topic",
    "replies_topic",
    "topic_partitions",
]

DLQ_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    """The dead-letter topic of a topic."""
    return topic + DLQ_SUFFIX


def events_topic(service: str) -> str:
    """The topic a service publishes its events on."""
    return f"mandi.{service}.events"


def commands_topic(service: str) -> str:
    """The topic a saga sends a service its commands on."""
    return f"mandi.{service}.commands"


def replies_topic(service: str) -> str:
    """The topic a service answers a saga's commands on."""
    return f"mandi.{service}.replies"


async def ensure_topics(
    bootstrap_servers: str, topics: list[str], *, partitions: int = 6, replication: int = 1
) -> None:
    """Creates the topics and their dead-letter topics that do not exist yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = {name for topic in topics for name in (topic, dead_letter_topic(topic))}
        missing = sorted(wanted - existing)
        new = [
            NewTopic(name, num_partitions=partitions, replication_factor=replication)
            for name in missing
        ]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):  # another replica was first
                await admin.create_topics(new)
    finally:
        await admin.close()


async def topic_partitions(bootstrap_servers: str, topic: str) -> list[int]:
    """The partition numbers of a topic; empty when it does not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if description["error_code"] != 0:
        return []
    return sorted(partition["partition"] for partition in description["partitions"])
