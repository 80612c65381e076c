"""The transactional outbox against the real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import UnitOfWork
from mandi_messaging import OutboxRelay, OutboxWriter
from mandi_messaging.outbox import measure_backlog
from mandi_observability import bound_context
from mandi_testing import TestDatabase, read_topic
from mandi_testing.messaging import TEST_EVENTS, TEST_TENANT, Noted, running, write_events

pytestmark = pytest.mark.integration


def _bodies(records: list) -> list[str]:
    return [json.loads(record.value)["body"] for record in records]


async def test_a_rolled_back_transaction_publishes_nothing(
    sessions: async_sessionmaker,
    make_relay: Callable[..., OutboxRelay],
    topic: str,
    kafka_bootstrap_servers: str,
    count_rows: Callable[[str], Awaitable[int]],
) -> None:
    async with UnitOfWork(sessions, tenant_id=TEST_TENANT) as uow:
        writer = OutboxWriter(
            uow.session, TEST_EVENTS, source="mandi/tests", topic=topic, tenant_id=TEST_TENANT
        )
        await writer.add(Noted(body="rolled back"), subject="lot-1")
        await uow.rollback()
    await write_events(sessions, topic, [("lot-1", Noted(body="committed"))])

    async with running(make_relay()):
        records = await read_topic(kafka_bootstrap_servers, topic, expected=2, timeout=5)

    assert _bodies(records) == ["committed"]
    assert await count_rows("outbox") == 0


async def test_events_of_one_key_arrive_in_commit_order_under_concurrent_writers(
    sessions: async_sessionmaker,
    make_relay: Callable[..., OutboxRelay],
    topic: str,
    kafka_bootstrap_servers: str,
) -> None:
    commit_order: list[int] = []

    async def write(seq: int) -> None:
        async with UnitOfWork(sessions, tenant_id=TEST_TENANT) as uow:
            writer = OutboxWriter(
                uow.session, TEST_EVENTS, source="mandi/tests", topic=topic, tenant_id=TEST_TENANT
            )
            await writer.add(Noted(body=f"write {seq}", seq=seq), subject="hot-lot")
            # Held open so transactions overlap and commit in an order unlike their inserts'.
            await asyncio.sleep(random.uniform(0.005, 0.03))
            await uow.commit()
        commit_order.append(seq)

    async with running(make_relay(poll_interval=0.05)):
        await asyncio.gather(*(write(seq) for seq in range(40)))
        records = await read_topic(kafka_bootstrap_servers, topic, expected=40)

    assert [json.loads(record.value)["seq"] for record in records] == commit_order


async def test_only_one_relay_publishes_so_nothing_is_published_twice(
    sessions: async_sessionmaker,
    make_relay: Callable[..., OutboxRelay],
    topic: str,
    kafka_bootstrap_servers: str,
) -> None:
    events = [(f"lot-{n % 7}", Noted(body=f"event {n}", seq=n)) for n in range(300)]
    await write_events(sessions, topic, events)

    async with running(make_relay(batch_size=20)), running(make_relay(batch_size=20)):
        records = await read_topic(kafka_bootstrap_servers, topic, expected=301, timeout=6)

    assert sorted(_bodies(records)) == sorted(event.body for _, event in events)


async def test_a_standby_relay_takes_over_when_the_leader_stops(
    sessions: async_sessionmaker,
    make_relay: Callable[..., OutboxRelay],
    topic: str,
    kafka_bootstrap_servers: str,
) -> None:
    leader = make_relay()
    async with running(leader) as leading:
        await write_events(sessions, topic, [("lot-1", Noted(body="before"))])
        await read_topic(kafka_bootstrap_servers, topic, expected=1)  # the only relay leads
        async with running(make_relay()):
            leader.stop()
            await leading
            await write_events(sessions, topic, [("lot-1", Noted(body="after"))])
            records = await read_topic(kafka_bootstrap_servers, topic, expected=3, timeout=3)

    assert _bodies(records) == ["before", "after"]


async def test_the_trace_and_the_request_ids_survive_the_relay(
    sessions: async_sessionmaker,
    make_relay: Callable[..., OutboxRelay],
    topic: str,
    kafka_bootstrap_servers: str,
) -> None:
    tracer = TracerProvider().get_tracer("tests")
    with (
        tracer.start_as_current_span("request") as span,
        bound_context(correlation_id="corr-9"),
    ):
        await write_events(sessions, topic, [("lot-1", Noted(body="traced"))])
        trace_id = format(span.get_span_context().trace_id, "032x")

    async with running(make_relay()):
        [record] = await read_topic(kafka_bootstrap_servers, topic, expected=1)

    headers = dict(record.headers)
    assert headers["traceparent"].decode().split("-")[1] == trace_id
    assert headers["ce_tenantid"] == str(TEST_TENANT).encode()
    assert headers["ce_correlationid"] == b"corr-9"


async def test_an_event_takes_its_tenant_from_the_unit_of_work_never_the_context(
    sessions: async_sessionmaker,
    make_relay: Callable[..., OutboxRelay],
    topic: str,
    kafka_bootstrap_servers: str,
) -> None:
    own_tenant = uuid.uuid4()
    with bound_context(tenant_id="forged-by-a-header"):
        await write_events(sessions, topic, [("lot-1", Noted(body="x"))], tenant_id=own_tenant)

    async with running(make_relay()):
        [record] = await read_topic(kafka_bootstrap_servers, topic, expected=1)

    headers = dict(record.headers)
    assert headers["ce_tenantid"] == str(own_tenant).encode()
    # Made where no conversation was started, an event correlates to itself.
    assert headers["ce_correlationid"] == headers["ce_id"]


async def test_the_cloudevents_sdk_reads_what_the_relay_published(
    sessions: async_sessionmaker,
    make_relay: Callable[..., OutboxRelay],
    topic: str,
    kafka_bootstrap_servers: str,
) -> None:
    await write_events(sessions, topic, [("lot-77", Noted(body="read me", seq=7))])

    async with running(make_relay()):
        [record] = await read_topic(kafka_bootstrap_servers, topic, expected=1)

    event = from_binary_event(
        KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value)
    )
    assert event.get_type() == "mandi.test.noted.v1"
    assert event.get_source() == "mandi/tests"
    assert event.get_subject() == "lot-77"
    assert event.get_extension("tenantid") == str(TEST_TENANT)
    assert event.get_data() == {"body": "read me", "seq": 7}
    assert record.key == b"lot-77"


async def test_the_backlog_counts_waiting_events_and_ages_the_oldest(
    sessions: async_sessionmaker, topic: str, messaging_database: TestDatabase
) -> None:
    connection = await asyncpg.connect(messaging_database.app_url)
    try:
        await connection.execute("DELETE FROM outbox")  # what earlier tests' relays left
        assert await measure_backlog(connection) == (0, 0.0)
        await write_events(
            sessions, topic, [("lot-1", Noted(body=f"waiting {n}")) for n in range(3)]
        )
        await asyncio.sleep(0.2)
        waiting, oldest_age = await measure_backlog(connection)
    finally:
        await connection.close()
    assert waiting == 3
    assert 0.2 <= oldest_age < 10
