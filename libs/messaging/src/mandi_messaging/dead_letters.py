"""Dead letters: what a consumer gave up on goes to `<topic>.dlq` with why; replay puts it back.

The dead letter is the original message (value, key, headers) plus `x-dlq-*` headers naming the
reason, the consumer group, the original position and the attempts. Replaying republishes it
to its original topic with the same CloudEvents id, so an inbox still recognises it; discarding
republishes an empty marker with that id instead, so the group stops waiting for it (its key's
parked messages are released, `sequencing.py`). Both are addressed to the group that gave up
(`x-mandi-for-group`): other groups of the topic skip them. Replay and discard share one cursor
(the replay group's offsets): each acts on the next dead letters neither has acted on yet.
The command `python -m mandi_messaging.dlq` lists, replays and discards them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from mandi_config import StartupError
from mandi_messaging.producer import create_producer, start_producer
from mandi_messaging.topics import DLQ_SUFFIX, dead_letter_topic, topic_partitions
from mandi_observability.metrics import DEAD_LETTERS
from mandi_observability.redaction import redact_text

__all__ = [
    "REPLAY_GROUP",
    "DeadLetter",
    "DeadLetterPublisher",
    "addressed_elsewhere",
    "dead_letter_reason",
    "discard_dead_letters",
    "is_discard",
    "list_dead_letters",
    "replay_dead_letters",
]

REPLAY_GROUP = "mandi-dlq-replay"
_PREFIX = "x-dlq-"
_REPLAYS = "x-mandi-replays"
_FOR_GROUP = "x-mandi-for-group"
_DISCARD = "x-mandi-discard"
_ADDRESSING = (_FOR_GROUP, _DISCARD)
_REASON_LIMIT = 1000
Headers = Sequence[tuple[str, bytes]]


def dead_letter_reason(error: BaseException) -> str:
    """Why a message was given up on, as its dead letter and its blocked key record it."""
    # Exception texts can quote the data that failed: redact before it leaves the process.
    return redact_text(f"{type(error).__name__}: {error}")[:_REASON_LIMIT]


def addressed_elsewhere(headers: Headers, group: str) -> bool:
    """True for a replay or discard meant for another consumer group, which this one skips."""
    addressee = _header(headers, _FOR_GROUP)
    return addressee is not None and addressee != group


def not_for(headers: Headers, group: str) -> bool:
    """`addressed_elsewhere or is_discard`, in one pass over the headers (a batch group asks
    it of every record)."""
    for key, value in headers:
        if key in _ADDRESSING and (key == _DISCARD or value.decode(errors="replace") != group):
            return True
    return False


def is_discard(headers: Headers) -> bool:
    """True for the marker an operator's discard sends in place of the dead letter."""
    return _header(headers, _DISCARD) is not None


class DeadLetterPublisher:
    """Sends messages a consumer group gave up on to their dead-letter topic."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def publish(
        self, record: ConsumerRecord, error: BaseException, *, group: str, attempts: int
    ) -> None:
        """Publishes and awaits Kafka's acknowledgement; raises if it cannot, so nothing is lost."""
        headers = [
            *_original_headers(record.headers),
            *_error_headers(record, error, group, attempts),
        ]
        acknowledgement = await self._producer.send(
            dead_letter_topic(record.topic), value=record.value, key=record.key, headers=headers
        )
        await acknowledgement
        DEAD_LETTERS.labels(group, record.topic).inc()


def _error_headers(
    record: ConsumerRecord, error: BaseException, group: str, attempts: int
) -> list[tuple[str, bytes]]:
    values = {
        "reason": dead_letter_reason(error),
        "error-type": type(error).__name__,
        "original-topic": record.topic,
        "original-partition": str(record.partition),
        "original-offset": str(record.offset),
        "consumer-group": group,
        "attempts": str(attempts),
        "failed-at": datetime.now(UTC).isoformat(),
    }
    return [(_PREFIX + name, value.encode()) for name, value in values.items()]


def _original_headers(headers: Headers) -> list[tuple[str, bytes]]:
    """The message's own headers and its replay count, without what dead-lettering added."""
    return [
        (name, value)
        for name, value in headers
        if not name.startswith(_PREFIX) and name not in _ADDRESSING
    ]


def _header(headers: Headers, name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode(errors="replace")
    return None


@dataclass(frozen=True)
class DeadLetter:
    """What an operator needs to judge a dead letter (never its payload, which may hold PII)."""

    partition: int
    offset: int
    event_id: str | None
    event_type: str | None
    original_topic: str | None
    consumer_group: str | None
    reason: str | None
    attempts: int
    failed_at: str | None

    @classmethod
    def from_record(cls, record: ConsumerRecord) -> DeadLetter:
        """Reads the x-dlq-* headers of a dead-letter message."""
        headers = record.headers
        return cls(
            partition=record.partition,
            offset=record.offset,
            event_id=_header(headers, "ce_id"),
            event_type=_header(headers, "ce_type"),
            original_topic=_header(headers, _PREFIX + "original-topic"),
            consumer_group=_header(headers, _PREFIX + "consumer-group"),
            reason=_header(headers, _PREFIX + "reason"),
            attempts=int(_header(headers, _PREFIX + "attempts") or 0),
            failed_at=_header(headers, _PREFIX + "failed-at"),
        )


async def _assigned_consumer(bootstrap: str, dlq_topic: str, group: str | None) -> AIOKafkaConsumer:
    partitions = await topic_partitions(bootstrap, dlq_topic)
    if not partitions:
        raise StartupError(f"no topic named {dlq_topic}")
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    consumer.assign([TopicPartition(dlq_topic, partition) for partition in partitions])
    return consumer


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return True
    return False


async def _records_until_end(consumer: AIOKafkaConsumer, limit: int | None) -> list[ConsumerRecord]:
    """Reads from each partition's current position to the end it had when reading began."""
    ends = await consumer.end_offsets(list(consumer.assignment()))
    records: list[ConsumerRecord] = []
    while await _behind(consumer, ends):
        batch = await consumer.getmany(timeout_ms=1000)
        for tp, received in batch.items():
            records += [record for record in received if record.offset < ends[tp]]
        if limit is not None and len(records) >= limit:
            return records[:limit]
    return records


async def list_dead_letters(bootstrap: str, dlq_topic: str) -> list[DeadLetter]:
    """Every message in a dead-letter topic, without consuming it."""
    consumer = await _assigned_consumer(bootstrap, dlq_topic, group=None)
    try:
        await consumer.seek_to_beginning()
        return [
            DeadLetter.from_record(record) for record in await _records_until_end(consumer, None)
        ]
    finally:
        await consumer.stop()


async def replay_dead_letters(
    bootstrap: str, dlq_topic: str, *, limit: int | None = None, group: str = REPLAY_GROUP
) -> int:
    """Republishes dead letters not yet acted on to their original topics; returns how many."""
    return await _act_on_dead_letters(bootstrap, dlq_topic, limit, group, discard=False)


async def discard_dead_letters(
    bootstrap: str, dlq_topic: str, *, limit: int | None = None, group: str = REPLAY_GROUP
) -> int:
    """Gives up on dead letters not yet acted on, releasing what waits behind them; how many."""
    return await _act_on_dead_letters(bootstrap, dlq_topic, limit, group, discard=True)


async def _act_on_dead_letters(
    bootstrap: str, dlq_topic: str, limit: int | None, group: str, *, discard: bool
) -> int:
    consumer = await _assigned_consumer(bootstrap, dlq_topic, group=group)
    producer = create_producer(bootstrap, client_id=group)
    try:
        await start_producer(producer, bootstrap)
        records = await _records_until_end(consumer, limit)
        for record in records:
            await _republish(producer, record, dlq_topic, discard=discard)
            tp = TopicPartition(record.topic, record.partition)
            await consumer.commit({tp: record.offset + 1})
        return len(records)
    finally:
        await producer.stop()
        await consumer.stop()


async def _republish(
    producer: AIOKafkaProducer, record: ConsumerRecord, dlq_topic: str, *, discard: bool
) -> None:
    """Sends the dead letter back to its topic, or, to discard it, an empty marker with its id."""
    original = _header(record.headers, _PREFIX + "original-topic") or dlq_topic.removesuffix(
        DLQ_SUFFIX
    )
    replays = int(_header(record.headers, _REPLAYS) or 0) + 1
    headers = [(k, v) for k, v in _original_headers(record.headers) if k != _REPLAYS]
    headers.append((_REPLAYS, str(replays).encode()))
    if group := _header(record.headers, _PREFIX + "consumer-group"):
        headers.append((_FOR_GROUP, group.encode()))
    if discard:
        headers.append((_DISCARD, b"1"))
    value = b"" if discard else record.value
    await (await producer.send(original, value=value, key=record.key, headers=headers))
