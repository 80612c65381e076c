"""Batch consumer groups on the real Kafka: whole polls handed over, committed only after the
handler returned, dead letters for what is not ours or refused, failed polls read again."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import RecordMetadata
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import TenantAwareSession
from mandi_messaging import (
    BatchConsumers,
    ConsumerRuntime,
    DeadLetterPublisher,
    Envelope,
    ReceivedEvent,
    Rejected,
    create_broker,
    dead_letter_topic,
    replay_dead_letters,
    start_broker,
)
from mandi_testing import eventually, read_topic
from mandi_testing.kafka import end_offsets
from mandi_testing.messaging import TEST_EVENTS, noted

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

MakeTopic = Callable[..., Awaitable[str]]
Headers = list[tuple[str, bytes]]
FIRST_PAUSE = 0.5  # the runner's first pause after a failed poll, doubled after each failure


class JournalUnavailable(ConnectionError):
    """What the journal raises while it is told to fail, as a database that blinks would."""


class Journal:
    """The batch handler's dependency: keeps every poll it is handed, fails or refuses as told."""

    def __init__(self, *, failures: int = 0) -> None:
        self.failures = failures
        self.refusing: dict[str, str] = {}  # event id -> the reason to refuse it
        self.gates: dict[int, asyncio.Event] = {}  # call number -> what that call waits for
        self.handed: list[list[ReceivedEvent]] = []
        self.applied: list[ReceivedEvent] = []
        self.started_at: list[float] = []
        self.failed_at: list[float] = []

    async def append(self, events: Sequence[ReceivedEvent]) -> list[Rejected]:
        """Applies the poll's events, bar the refused ones; raises for the first `failures`."""
        self.handed.append(list(events))
        self.started_at.append(time.monotonic())
        call = len(self.handed)
        if call in self.gates:
            await self.gates[call].wait()
        if call <= self.failures:
            self.failed_at.append(time.monotonic())
            raise JournalUnavailable("the journal's database is unreachable")
        refused = [Rejected(e, self.refusing[e.envelope.id]) for e in events if self._refuses(e)]
        self.applied += [event for event in events if not self._refuses(event)]
        return refused

    def applied_ids(self) -> list[str]:
        """The ids of the events applied, in the order they were applied."""
        return [event.envelope.id for event in self.applied]

    def _refuses(self, event: ReceivedEvent) -> bool:
        return event.envelope.id in self.refusing


def journal_group(group: str, topic: str) -> BatchConsumers:
    """A batch consumer group of `topic` that appends each poll to the runtime's journal."""
    consumers = BatchConsumers(group=group, topics=[topic], registry=TEST_EVENTS)

    @consumers.handle
    async def append(events: Sequence[ReceivedEvent], journal: Journal) -> Sequence[Rejected]:
        """Appends a poll's events to the journal."""
        return await journal.append(events)

    return consumers


Journaling = Callable[[str, str, Journal], contextlib.AbstractAsyncContextManager[None]]


@pytest.fixture
def journaling(
    sessions: async_sessionmaker[TenantAwareSession],
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
) -> Journaling:
    """`async with journaling(group, topic, journal)`: a batch group of `topic` appending to
    the journal, consuming from the real Kafka for the duration of the block."""

    @contextlib.asynccontextmanager
    async def consuming(group: str, topic: str, journal: Journal) -> AsyncIterator[None]:
        # The handler asks for `journal` alone: the others must not be passed to it.
        dependencies = {"clock": time.monotonic, "journal": journal, "writer": object()}
        runtime = ConsumerRuntime(
            sessions=sessions, dead_letters=DeadLetterPublisher(producer), dependencies=dependencies
        )
        broker = create_broker(kafka_bootstrap_servers, client_id=group)
        broker.include_router(journal_group(group, topic).router(runtime))
        await start_broker(broker, kafka_bootstrap_servers)
        try:
            yield
        finally:
            await broker.stop()

    return consuming


def _group(label: str) -> str:
    return f"batch-{label}-{uuid.uuid4().hex[:8]}"


async def _send(
    producer: AIOKafkaProducer,
    topic: str,
    envelope: Envelope,
    *,
    headers: Headers | None = None,
    partition: int | None = None,
) -> RecordMetadata:
    """Publishes an envelope as the relay does (binary mode, keyed by subject)."""
    sent = await producer.send(
        topic,
        value=envelope.data,
        key=envelope.subject.encode(),
        headers=envelope.kafka_headers() if headers is None else headers,
        partition=partition,
    )
    return await sent


async def _send_all(
    producer: AIOKafkaProducer, topic: str, envelopes: Sequence[Envelope]
) -> list[RecordMetadata]:
    return [await _send(producer, topic, envelope) for envelope in envelopes]


async def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """The group's committed offset of each partition of `topic` it committed."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


async def _eventually_committed(bootstrap: str, group: str, topic: str) -> None:
    """Waits until the group has committed every partition of `topic` up to its end."""
    ends = {p: end for p, end in (await end_offsets(bootstrap, topic)).items() if end}

    async def caught_up() -> bool:
        return await _committed(bootstrap, group, topic) == ends

    await eventually(caught_up, timeout=20)


def _outcomes(group: str, topic: str, outcome: str) -> float:
    labels = {"group": group, "topic": topic, "outcome": outcome}
    return REGISTRY.get_sample_value("mandi_consumer_messages_total", labels) or 0.0


def _by_partition(events: Sequence[ReceivedEvent]) -> dict[int, list[tuple[int, str]]]:
    """The (offset, event id) pairs handed for each partition, in the order they were handed."""
    partitions: dict[int, list[tuple[int, str]]] = {}
    for event in events:
        partitions.setdefault(event.record.partition, []).append(
            (event.record.offset, event.envelope.id)
        )
    return partitions


async def test_a_poll_reaches_the_handler_in_order_and_is_committed_so_a_restart_reads_nothing(
    journaling: Journaling,
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    make_topic: MakeTopic,
) -> None:
    topic, group = await make_topic(partitions=3), _group("in-order")
    envelopes = [noted(f"entry {n}", key=f"lot-{n % 5}") for n in range(15)]
    sent = await _send_all(producer, topic, envelopes)
    journal = Journal()

    async with journaling(group, topic, journal):
        await eventually(lambda: len(journal.applied) >= len(envelopes))
        await _eventually_committed(kafka_bootstrap_servers, group, topic)

    expected: dict[int, list[tuple[int, str]]] = {}
    for metadata, envelope in zip(sent, envelopes, strict=True):
        expected.setdefault(metadata.partition, []).append((metadata.offset, envelope.id))
    assert len(expected) > 1, "the events spread over several partitions"
    assert _by_partition(journal.applied) == expected, "each partition's events in its order"
    by_id = {event.envelope.id: event for event in journal.applied}
    for envelope in envelopes:
        received = by_id[envelope.id]
        assert received.envelope == envelope, "the envelope as the producer wrote it"
        assert received.record.key == envelope.subject.encode()
        assert received.record.topic == topic
    assert _outcomes(group, topic, "processed") == len(envelopes)

    restarted = Journal()
    async with journaling(group, topic, restarted):
        # A new event at the end of each partition: whatever came before it would come first.
        markers = [noted(f"after restart {p}", key="lot-0") for p in range(3)]
        for partition, marker in enumerate(markers):
            await _send(producer, topic, marker, partition=partition)
        await eventually(lambda: len(restarted.applied) >= len(markers))

    assert sorted(restarted.applied_ids()) == sorted(m.id for m in markers), "nothing re-read"


async def test_records_that_are_not_our_cloudevents_are_dead_lettered_and_the_rest_handled(
    journaling: Journaling,
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    make_topic: MakeTopic,
) -> None:
    topic, group = await make_topic(partitions=1), _group("malformed")
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    first, second, third = (noted(f"kept {n}", key="lot-1") for n in range(3))
    old_spec = noted("cloudevents 0.3", key="lot-1")
    old_spec_headers = [
        (name, b"0.3" if name == "ce_specversion" else value)
        for name, value in old_spec.kafka_headers()
    ]
    await _send(producer, topic, first)
    not_ours = b'{"body": "no envelope"}'
    await (await producer.send(topic, value=not_ours, key=b"lot-1", headers=[]))
    await _send(producer, topic, second)
    await _send(producer, topic, old_spec, headers=old_spec_headers)
    await _send(producer, topic, third)
    journal = Journal()

    async with journaling(group, topic, journal):
        await eventually(lambda: len(journal.applied) >= 3)
        await _eventually_committed(kafka_bootstrap_servers, group, topic)
        letters = await read_topic(kafka_bootstrap_servers, dlq, expected=3, timeout=1)

    assert journal.applied_ids() == [first.id, second.id, third.id]
    assert [dict(letter.headers).get("x-dlq-original-offset") for letter in letters] == [b"1", b"3"]
    plain_letter, old_spec_letter = (dict(letter.headers) for letter in letters)
    assert plain_letter["x-dlq-reason"].startswith(b"MalformedEnvelope: not a CloudEvent: missing")
    assert old_spec_letter["x-dlq-reason"] == b"MalformedEnvelope: unsupported specversion '0.3'"
    for letter in letters:
        headers = dict(letter.headers)
        assert headers["x-dlq-error-type"] == b"MalformedEnvelope"
        assert headers["x-dlq-consumer-group"] == group.encode()
        assert headers["x-dlq-original-topic"] == topic.encode()
        assert headers["x-dlq-attempts"] == b"1"
        assert letter.key == b"lot-1"
    assert letters[0].value == not_ours, "the record itself is kept"
    assert old_spec_letter["ce_id"] == old_spec.id.encode(), "with its own headers"
    assert _outcomes(group, topic, "dead_lettered") == 2
    assert _outcomes(group, topic, "processed") == 3


async def test_a_record_whose_headers_are_not_text_is_dead_lettered_not_lost(
    journaling: Journaling,
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    make_topic: MakeTopic,
) -> None:
    topic, group = await make_topic(partitions=1), _group("not-text")
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    before, after = noted("before legacy", key="lot-1"), noted("after legacy", key="lot-1")
    legacy = [("source", b"legacy"), ("x-legacy-checksum", b"\xff\xfe")]  # not even UTF-8
    await _send(producer, topic, before)
    await (await producer.send(topic, value=b"<xml/>", key=b"lot-1", headers=legacy))
    await _send(producer, topic, after)
    journal = Journal()

    async with journaling(group, topic, journal):
        await eventually(lambda: len(journal.applied) >= 2, timeout=5)
        await _eventually_committed(kafka_bootstrap_servers, group, topic)
        letters = await read_topic(kafka_bootstrap_servers, dlq, expected=2, timeout=1)

    assert [dict(letter.headers).get("x-dlq-error-type") for letter in letters] == [
        b"MalformedEnvelope"
    ]
    assert dict(letters[0].headers)["x-legacy-checksum"] == b"\xff\xfe"
    assert journal.applied_ids() == [before.id, after.id]


async def test_an_event_the_handler_rejects_is_dead_lettered_with_its_reason_and_can_be_replayed(
    journaling: Journaling,
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    make_topic: MakeTopic,
) -> None:
    topic, group = await make_topic(partitions=1), _group("rejected")
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    envelopes = [noted(f"entry {n}", key="lot-7") for n in range(4)]
    refused = envelopes[1]
    await _send_all(producer, topic, envelopes)
    journal = Journal()
    journal.refusing[refused.id] = "lot-7 is closed for the season"

    async with journaling(group, topic, journal):
        await eventually(lambda: len(journal.applied) >= 3)
        await _eventually_committed(kafka_bootstrap_servers, group, topic)
        letters = await read_topic(kafka_bootstrap_servers, dlq, expected=2, timeout=1)
        assert [event.envelope.id for poll in journal.handed for event in poll] == [
            envelope.id for envelope in envelopes
        ], "the refused event was handed over with the others, once"
        assert journal.applied_ids() == [e.id for e in envelopes if e is not refused]

        [letter] = letters
        headers = dict(letter.headers)
        assert headers["x-dlq-reason"].endswith(b": lot-7 is closed for the season")
        assert headers["x-dlq-consumer-group"] == group.encode()
        assert headers["x-dlq-original-offset"] == b"1"
        assert headers["x-dlq-attempts"] == b"1"
        assert headers["ce_id"] == refused.id.encode()
        assert letter.value == refused.data
        assert _outcomes(group, topic, "dead_lettered") == 1
        assert _outcomes(group, topic, "processed") == 3

        journal.refusing.clear()  # the season opened: the operator replays the dead letter
        assert await replay_dead_letters(kafka_bootstrap_servers, dlq) == 1
        await eventually(lambda: len(journal.applied) >= 4)

    replayed = journal.applied[-1]
    assert replayed.envelope == refused
    assert dict(replayed.record.headers)["x-mandi-for-group"] == group.encode()


async def test_a_poll_whose_handler_raises_is_not_committed_and_is_handed_again_after_a_pause(
    journaling: Journaling,
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    make_topic: MakeTopic,
) -> None:
    topic, group = await make_topic(partitions=3), _group("failing")
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    envelopes = [noted(f"entry {n}", key=f"lot-{n % 4}") for n in range(12)]
    sent = await _send_all(producer, topic, envelopes)
    journal = Journal(failures=2)
    second_call = journal.gates[2] = asyncio.Event()

    async with journaling(group, topic, journal):
        await eventually(lambda: len(journal.handed) >= 2)
        assert await _committed(kafka_bootstrap_servers, group, topic) == {}, (
            "a failed poll is not committed"
        )
        second_call.set()
        await eventually(lambda: len(journal.applied) >= len(envelopes))
        await _eventually_committed(kafka_bootstrap_servers, group, topic)
        letters = await read_topic(kafka_bootstrap_servers, dlq, expected=1, timeout=1)

    assert journal.handed[0], "the first call was handed events"
    first_failed = {event.envelope.id for event in journal.handed[0]}
    handed_later = {event.envelope.id for poll in journal.handed[1:] for event in poll}
    assert first_failed <= handed_later, "the failed poll's events were handed again"
    assert Counter(journal.applied_ids()) == Counter(e.id for e in envelopes), "each once"
    expected: dict[int, list[tuple[int, str]]] = {}
    for metadata, envelope in zip(sent, envelopes, strict=True):
        expected.setdefault(metadata.partition, []).append((metadata.offset, envelope.id))
    assert _by_partition(journal.applied) == expected, "in order, though read again"
    # The runner pauses before reading a failed poll again, doubling the pause each time.
    assert journal.started_at[1] - journal.failed_at[0] >= 0.95 * FIRST_PAUSE
    assert journal.started_at[2] - journal.failed_at[1] >= 0.95 * 2 * FIRST_PAUSE
    assert letters == [], "a failing handler dead-letters nothing"
    assert _outcomes(group, topic, "processed") == len(envelopes)


async def test_replays_for_other_groups_and_discard_markers_are_skipped_not_handed_over(
    journaling: Journaling,
    producer: AIOKafkaProducer,
    kafka_bootstrap_servers: str,
    make_topic: MakeTopic,
) -> None:
    topic, group = await make_topic(partitions=1), _group("addressed")
    dlq = await make_topic(partitions=1, name=dead_letter_topic(topic))
    plain, elsewhere, discarded, for_us, last = (noted(f"n{n}", key="lot-2") for n in range(5))
    replay_to = [("x-mandi-replays", b"1"), ("x-mandi-for-group", b"another-group")]
    discard = [("x-mandi-for-group", group.encode()), ("x-mandi-discard", b"1")]
    replay_to_us = [("x-mandi-replays", b"1"), ("x-mandi-for-group", group.encode())]
    await _send(producer, topic, plain)
    await _send(producer, topic, elsewhere, headers=[*elsewhere.kafka_headers(), *replay_to])
    marker = [*discarded.kafka_headers(), *discard]  # an operator's discard: no data
    await (await producer.send(topic, value=b"", key=b"lot-2", headers=marker))
    await _send(producer, topic, for_us, headers=[*for_us.kafka_headers(), *replay_to_us])
    await _send(producer, topic, last)
    journal = Journal()

    async with journaling(group, topic, journal):
        await eventually(lambda: len(journal.applied) >= 3)
        await _eventually_committed(kafka_bootstrap_servers, group, topic)
        letters = await read_topic(kafka_bootstrap_servers, dlq, expected=1, timeout=1)

    assert journal.applied_ids() == [plain.id, for_us.id, last.id]
    assert letters == [], "skipped records are not dead letters"
    assert _outcomes(group, topic, "skipped") == 2
    assert _outcomes(group, topic, "processed") == 3
