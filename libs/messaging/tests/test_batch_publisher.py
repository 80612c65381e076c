"""The batch publisher on the real Kafka: per-key order across batches; oversized messages."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from mandi_messaging import BatchPublisher, OutgoingMessage
from mandi_testing import read_topic

pytestmark = pytest.mark.integration


async def test_each_key_keeps_its_order_across_partitions_and_full_batches(
    producer: AIOKafkaProducer, topic: str, kafka_bootstrap_servers: str
) -> None:
    # 2,000 messages of 1 kB over 7 keys fill several 512 kB batches per partition.
    messages = [
        OutgoingMessage(topic, f"lot-{n % 7}".encode(), f"{n:06d}".encode() + b"x" * 1000, [])
        for n in range(2000)
    ]
    await BatchPublisher(producer).publish(messages)

    records = await read_topic(kafka_bootstrap_servers, topic, expected=2000)
    for key in {message.key for message in messages}:
        sent = [m.value[:6] for m in messages if m.key == key]
        received = [r.value[:6] for r in records if r.key == key]
        assert received == sent


async def test_a_message_larger_than_a_batch_is_sent_alone_and_in_order(
    producer: AIOKafkaProducer, topic: str, kafka_bootstrap_servers: str
) -> None:
    large = b"L" * (600 * 1024)  # over the 512 kB batch, under Kafka's 1 MB request limit
    messages = [
        OutgoingMessage(topic, b"lot-1", b"first", [("n", b"1")]),
        OutgoingMessage(topic, b"lot-1", large, [("n", b"2")]),
        OutgoingMessage(topic, b"lot-1", b"third", [("n", b"3")]),
    ]
    await BatchPublisher(producer).publish(messages)

    records = await read_topic(kafka_bootstrap_servers, topic, expected=3)
    assert [dict(r.headers)["n"] for r in records] == [b"1", b"2", b"3"]
    assert records[1].value == large
