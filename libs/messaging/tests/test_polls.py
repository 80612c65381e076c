"""A poll's records through the delivery pipeline, on the real PostgreSQL: a tenant's run of
events shares one transaction, and a failure in it leaves each event to be taken on its own."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from aiokafka import ConsumerRecord, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import TenantAwareSession, Transaction, UnitOfWork
from mandi_messaging import (
    SKIPS_PER_COMMIT,
    ConsumerRuntime,
    Consumers,
    DeliveryPipeline,
    Envelope,
    Outcome,
    RetryPolicy,
)
from mandi_observability import current_context
from mandi_testing import TestDatabase
from mandi_testing.messaging import TEST_EVENTS, TEST_TENANT, Noted, envelope_of

pytestmark = pytest.mark.integration

TOPIC = "mandi.polls.events"
OTHER_TENANT = UUID("00000000-0000-4000-8000-00000000beef")
_SEEN = text("""
    INSERT INTO effects (event_id, body)
    VALUES (:event_id, :body || ' in ' || txid_current() || ' as '
            || current_setting('app.tenant_id', true))
""")


@dataclass
class Applied:
    """What the handler saw of each event it applied, in order."""

    bodies: list[str] = field(default_factory=list)
    causations: dict[str, str | None] = field(default_factory=dict)
    poisonous: set[str] = field(default_factory=set)


def poll_group(applied: Applied) -> Consumers:
    """A group of its own (its keys wait for no other test's dead letters) recording each Noted
    event with its transaction and tenant; poison fails."""
    group = f"polls-{uuid.uuid4().hex[:8]}"
    consumers = Consumers(group=group, topics=[TOPIC], registry=TEST_EVENTS)

    @consumers.on(Noted)
    async def on_noted(event: Noted, uow: Transaction, envelope: Envelope) -> None:
        if event.body in applied.poisonous:
            raise RuntimeError(f"cannot settle {event.body}")
        applied.causations[envelope.id] = current_context().causation_id
        await uow.session.exec(_SEEN, params={"event_id": envelope.id, "body": event.body})

    return consumers


class DeadLetters:
    """The ids of the records the group gave up on."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def publish(
        self, record: ConsumerRecord, error: BaseException, *, group: str, attempts: int
    ) -> None:
        """Keeps the record's CloudEvents id."""
        assert group.startswith("polls-"), group
        assert attempts == 2, error
        self.ids.append(dict(record.headers)["ce_id"].decode())


@pytest.fixture
def dead_letters() -> DeadLetters:
    """Where the group's dead letters go."""
    return DeadLetters()


@pytest.fixture
def pipeline(
    sessions: async_sessionmaker[TenantAwareSession], dead_letters: DeadLetters
) -> Callable[[Applied], DeliveryPipeline]:
    """The pipeline of the poll group, as its FastStream subscriber runs it."""

    def build(applied: Applied) -> DeliveryPipeline:
        consumers = poll_group(applied)
        runtime = ConsumerRuntime(
            sessions=sessions,
            dead_letters=dead_letters,
            unit_of_work=lambda tenant: UnitOfWork(sessions, tenant_id=tenant),
            retry=RetryPolicy(attempts=2, initial_backoff=0.001, max_backoff=0.002),
        )
        return DeliveryPipeline(
            group=consumers.group,
            registry=TEST_EVENTS,
            handlers=consumers.handler_for,
            runtime=runtime,
        )

    return build


@pytest.fixture
def effects(messaging_database: TestDatabase) -> Callable[..., Any]:
    """What the handler recorded for some envelopes, in the order it was applied."""

    async def read(*envelopes: Envelope) -> list[str]:
        connection = await asyncpg.connect(messaging_database.owner_url)
        try:
            rows = await connection.fetch(
                "SELECT body FROM effects WHERE event_id = ANY($1) ORDER BY applied_at",
                [envelope.id for envelope in envelopes],
            )
        finally:
            await connection.close()
        return [row["body"] for row in rows]

    return read


def note(body: str, key: str, tenant: UUID = TEST_TENANT) -> Envelope:
    """A Noted event about `key` of `tenant`, with a correlation id of its own."""
    envelope = envelope_of(Noted(body=body), subject=key, tenant_id=tenant)
    return dataclasses.replace(envelope, correlation_id=f"conversation-{body}")


def poll(*envelopes: Envelope, partition: int = 0, first_offset: int = 0) -> list[ConsumerRecord]:
    """The records one poll of a partition returns for these envelopes, in order."""
    return [
        ConsumerRecord(
            TOPIC,
            partition,
            first_offset + position,
            0,
            0,
            envelope.subject.encode(),
            envelope.data,
            None,
            len(envelope.subject),
            len(envelope.data),
            envelope.kafka_headers(),
        )
        for position, envelope in enumerate(envelopes)
    ]


def transactions(seen: list[str]) -> list[str]:
    """The transaction id each recorded effect was written in."""
    return [body.split(" in ")[1].split(" as ")[0] for body in seen]


async def test_a_tenants_run_of_events_in_a_poll_commits_in_one_transaction_in_order(
    pipeline: Callable[[Applied], DeliveryPipeline], effects: Callable[..., Any]
) -> None:
    applied = Applied()
    notes = [note(f"lot {n}", key=f"L{n % 2}") for n in range(5)]

    outcomes = await pipeline(applied).deliver_all(poll(*notes))

    assert outcomes == [Outcome.PROCESSED] * 5
    seen = await effects(*notes)
    assert [body.split(" in ")[0] for body in seen] == [f"lot {n}" for n in range(5)]
    assert len(set(transactions(seen))) == 1, "one commit for the poll's run"
    # Each event was handled in its own context, though they shared a transaction.
    assert applied.causations == {envelope.id: envelope.id for envelope in notes}


async def test_a_failure_in_a_poll_leaves_each_event_to_its_own_transaction(
    pipeline: Callable[[Applied], DeliveryPipeline],
    effects: Callable[..., Any],
    dead_letters: DeadLetters,
) -> None:
    applied = Applied(poisonous={"rotten"})
    good, rotten, behind, other = (
        note("sound", key="L1"),
        note("rotten", key="L2"),
        note("behind the rotten", key="L2"),  # its key now waits for the dead letter
        note("other", key="L3"),
    )

    outcomes = await pipeline(applied).deliver_all(poll(good, rotten, behind, other))

    assert outcomes == [
        Outcome.PROCESSED,
        Outcome.DEAD_LETTERED,
        Outcome.PARKED,
        Outcome.PROCESSED,
    ]
    assert dead_letters.ids == [rotten.id]
    seen = await effects(good, rotten, behind, other)
    assert [body.split(" in ")[0] for body in seen] == ["sound", "other"]
    assert len(set(transactions(seen))) == 2, "taken one by one after the run failed"


async def test_a_poll_of_two_tenants_applies_each_event_as_its_own_tenant(
    pipeline: Callable[[Applied], DeliveryPipeline], effects: Callable[..., Any]
) -> None:
    notes = [
        note("first", key="L1"),
        note("second", key="L2"),
        note("elsewhere", key="L3", tenant=OTHER_TENANT),
        note("back", key="L1"),
    ]

    outcomes = await pipeline(Applied()).deliver_all(poll(*notes))

    assert outcomes == [Outcome.PROCESSED] * 4
    seen = await effects(*notes)
    tenants = [body.split(" as ")[1] for body in seen]
    assert tenants == [str(TEST_TENANT)] * 2 + [str(OTHER_TENANT), str(TEST_TENANT)]
    assert len(set(transactions(seen))) == 3, "a transaction for each tenant's run"


async def test_an_event_twice_in_one_poll_is_applied_once(
    pipeline: Callable[[Applied], DeliveryPipeline], effects: Callable[..., Any]
) -> None:
    once = note("sent twice", key="L1")

    outcomes = await pipeline(Applied()).deliver_all(poll(once, once))

    assert outcomes == [Outcome.PROCESSED, Outcome.DUPLICATE]
    assert len(await effects(once)) == 1


def test_offsets_move_past_the_last_record_not_skipped_and_every_so_many_skipped(
    pipeline: Callable[[Applied], DeliveryPipeline],
) -> None:
    group = pipeline(Applied())
    handled = poll(note("a", key="L1"), partition=0, first_offset=40)
    skipped = poll(*(note(str(n), key="L2") for n in range(SKIPS_PER_COMMIT + 5)), partition=1)
    records = [*handled, *skipped]
    outcomes = [Outcome.PROCESSED] + [Outcome.SKIPPED] * len(skipped)

    offsets = group.offsets_to_commit(records, outcomes)

    assert offsets == {TopicPartition(TOPIC, 0): 41, TopicPartition(TOPIC, 1): SKIPS_PER_COMMIT}
    assert group.offsets_to_commit(skipped[:3], [Outcome.SKIPPED] * 3) == {}
