"""The FastStream middleware of a consumer group: each message through the pipeline, then commit.

Subscribers ack manually (never FastStream's default ack-first, which is at-most-once): the
offset is committed only after the pipeline made the message's outcome durable (applied with
its inbox claim, parked, skipped or dead-lettered). If it could not, the message is sought back
and read again, never skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from faststream import BaseMiddleware, ContextRepo, StreamMessage
from faststream.kafka.message import KafkaMessage

from mandi_messaging.delivery import DeliveryPipeline, Outcome
from mandi_messaging.registry import Event
from mandi_observability.metrics import CONSUMER_LAG

__all__ = ["ConsumerMiddleware"]

CallNext = Callable[[StreamMessage[Any]], Awaitable[Any]]


class ConsumerMiddleware(BaseMiddleware):
    """Runs the group's pipeline around FastStream's typed call, committing the offset after."""

    def __init__(self, msg: Any, /, *, context: ContextRepo, pipeline: DeliveryPipeline) -> None:
        super().__init__(msg, context=context)
        self._pipeline = pipeline

    async def consume_scope(self, call_next: CallNext, msg: StreamMessage[Any]) -> Any:
        """Delivers the record; acks it once its outcome is durable, else seeks back and raises."""
        record = msg.raw_message
        if not isinstance(record, ConsumerRecord) or not isinstance(msg, KafkaMessage):
            raise TypeError("a consumer group subscribes one record at a time")

        async def run_typed_call(_event: Event) -> None:
            await call_next(msg)  # FastStream's decoder hands the call the decoded event

        try:
            outcome = await self._pipeline.deliver(record, run_typed_call)
        except BaseException:
            await msg.nack()  # seek back: the message is read again, never skipped
            raise
        if outcome is not Outcome.SKIPPED or self._pipeline.commit_after_skipping(record):
            # A skipped record needs no commit of its own: the next record acknowledged on its
            # partition commits past it, and read again after a restart it is skipped again.
            # Every so many skipped in a row are committed, so a restart re-reads a few only.
            await msg.ack()
        _record_lag(msg, record, self._pipeline.group)


def _record_lag(message: KafkaMessage, record: ConsumerRecord, group: str) -> None:
    kafka = message.consumer
    if not isinstance(kafka, AIOKafkaConsumer):
        return  # FastStream's in-memory test broker has no partitions to measure
    highwater = kafka.highwater(TopicPartition(record.topic, record.partition))
    if highwater is not None:
        lag = max(0, highwater - record.offset - 1)
        CONSUMER_LAG.labels(group, record.topic, str(record.partition)).set(lag)
