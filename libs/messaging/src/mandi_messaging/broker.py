"""The FastStream Kafka broker each service builds in its bootstrap, and how consumers attach.

Subscribers ack manually, after the database transaction has committed (FastStream's default
acks first, which is at-most-once); they wait at most a few milliseconds for data, since every
hop of a saga would otherwise cost aiokafka's default half second.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import Consumer, KafkaMessage
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from mandi_messaging.consumer import EventConsumer
from mandi_messaging.producer import start_or_fail
from mandi_observability.metrics import CONSUMER_LAG

__all__ = ["FETCH_MAX_WAIT_MS", "create_broker", "start_broker", "subscribe"]

FETCH_MAX_WAIT_MS = 10


def create_broker(bootstrap_servers: str, *, client_id: str) -> KafkaBroker:
    """A broker with an idempotent producer (acks=all) and FastStream's Prometheus metrics."""
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, app_name=client_id)],
    )


async def start_broker(broker: KafkaBroker, bootstrap_servers: str) -> None:
    """Starts the broker, or stops the process with one line when Kafka cannot be reached."""
    await start_or_fail(broker, bootstrap_servers)


def subscribe(broker: KafkaBroker, consumer: EventConsumer, *topics: str, **options: Any) -> None:
    """Attaches an EventConsumer to topics; offsets are committed only after it has finished."""
    settings: dict[str, Any] = {
        "group_id": consumer.group,
        "ack_policy": AckPolicy.MANUAL,
        "auto_offset_reset": "earliest",
        "fetch_max_wait_ms": FETCH_MAX_WAIT_MS,
        **options,
    }

    @broker.subscriber(*topics, **settings)  # type: ignore[untyped-decorator]  # options as **kwargs
    async def deliver(message: KafkaMessage, kafka: Consumer) -> None:
        record = message.raw_message
        assert isinstance(record, ConsumerRecord)  # noqa: S101 - single-record subscriber
        try:
            await consumer.handle(record)
        except BaseException:
            await message.nack()  # seek back: the message is read again, never skipped
            raise
        await message.ack()
        _record_lag(kafka, record, consumer.group)


def _record_lag(kafka: AIOKafkaConsumer, record: ConsumerRecord, group: str) -> None:
    highwater = kafka.highwater(TopicPartition(record.topic, record.partition))
    if highwater is not None:
        lag = max(0, highwater - record.offset - 1)
        CONSUMER_LAG.labels(group, record.topic, str(record.partition)).set(lag)
