"""The FastStream middleware of a consumer group: each poll through the pipeline, then commit.

Subscribers ack manually (never FastStream's default ack-first, which is at-most-once): offsets
are committed only after the pipeline made the poll's outcomes durable (applied with their inbox
claims, parked, skipped or dead-lettered), once for the whole poll. If it could not, every
partition of the poll is sought back to its first record and read again, never skipped; what
was applied meanwhile is then a duplicate to the inbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from faststream import BaseMiddleware, ContextRepo, StreamMessage
from faststream.kafka.message import KafkaMessage

from mandi_messaging.delivery import DeliveryPipeline
from mandi_observability.metrics import CONSUMER_LAG

__all__ = ["ConsumerMiddleware", "record_lag"]

CallNext = Callable[[StreamMessage[Any]], Awaitable[Any]]


class ConsumerMiddleware(BaseMiddleware):
    """Runs the group's pipeline over a poll's records in place of a handler, then commits."""

    def __init__(self, msg: Any, /, *, context: ContextRepo, pipeline: DeliveryPipeline) -> None:
        super().__init__(msg, context=context)
        self._pipeline = pipeline

    async def consume_scope(self, call_next: CallNext, msg: StreamMessage[Any]) -> Any:  # noqa: ARG002 - the pipeline calls the handlers
        """Delivers the records; commits once their outcomes are durable, else seeks back."""
        records = msg.raw_message
        if not isinstance(msg, KafkaMessage) or not _are_records(records):
            raise TypeError("a consumer group subscribes a batch of records")
        try:
            outcomes = await self._pipeline.deliver_all(records)
        except BaseException:
            await msg.nack()  # seek back: the records are read again, never skipped
            raise
        offsets = self._pipeline.offsets_to_commit(records, outcomes)
        kafka = msg.consumer
        if isinstance(kafka, AIOKafkaConsumer):
            if offsets:
                await kafka.commit(offsets)
            record_lag(kafka, records, self._pipeline.group)
        elif offsets:
            await msg.ack()  # FastStream's in-memory Kafka: there are no offsets to name


def _are_records(raw: object) -> bool:
    return isinstance(raw, Sequence) and all(isinstance(item, ConsumerRecord) for item in raw)


def record_lag(kafka: AIOKafkaConsumer, records: Sequence[ConsumerRecord], group: str) -> None:
    """Sets each partition's lag behind its high watermark after a poll."""
    read_up_to = {
        TopicPartition(record.topic, record.partition): record.offset for record in records
    }
    for partition, offset in read_up_to.items():
        highwater = kafka.highwater(partition)
        if highwater is not None:
            lag = max(0, highwater - offset - 1)
            CONSUMER_LAG.labels(group, partition.topic, str(partition.partition)).set(lag)
