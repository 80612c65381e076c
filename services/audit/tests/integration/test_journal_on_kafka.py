"""The journal's consumer group on the real Kafka: many tenants at once, a rebalance midway,
and concurrent writers: every chain stays one unbroken line, every event in it once."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from mandi_audit.config import Settings
from mandi_audit.entrypoints.consumers import append_to_chains
from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_audit.service_layer.verification import verify_chain
from mandi_audit.service_layer.verifying import published_keys
from mandi_contracts import EVENTS
from mandi_messaging import BatchConsumers, ConsumerRuntime, DeadLetterPublisher, ReceivedEvent
from mandi_runtime import RunningService
from mandi_testing import eventually
from mandi_testing.messaging import consuming

pytestmark = pytest.mark.integration

_TENANTS, _PER_TENANT = 12, 40


def _journal(topic: str, group: str) -> BatchConsumers:
    journal = BatchConsumers(group=group, topics=[topic], registry=EVENTS, max_records=50)
    journal.handle(append_to_chains)
    return journal


async def _recorded(superuser: asyncpg.Connection, tenants: Sequence[UUID]) -> int:
    count: int = await superuser.fetchval(
        "SELECT count(*) FROM audit_records WHERE tenant_id = ANY($1::uuid[])", list(tenants)
    )
    return count


async def test_chains_hold_through_a_rebalance_with_many_tenants_at_once(
    service: RunningService[Settings, AuditDependencies],
    many: Callable[..., Sequence[ReceivedEvent]],
    make_topic: Callable[..., object],
    kafka_bootstrap_servers: str,
    superuser: asyncpg.Connection,
) -> None:
    topic = await make_topic(partitions=4)  # type: ignore[misc]
    tenants = [uuid4() for _ in range(_TENANTS)]
    events = [one for tenant in tenants for one in many(tenant, _PER_TENANT)]
    random.Random(7).shuffle(events)
    group = f"audit-test-{uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await producer.start()
    runtime = ConsumerRuntime(
        sessions=service.database.sessions,
        dead_letters=DeadLetterPublisher(producer),
        dependencies={"writer": service.deps.journal},
    )

    async def recorded() -> int:
        return await _recorded(superuser, tenants)

    try:
        half = len(events) // 2
        async with consuming(kafka_bootstrap_servers, _journal(topic, group), runtime):
            await _send(producer, topic, events[:half])
            await eventually(lambda: _at_least(recorded, 1), timeout=30)
            # A second member joins while the first is appending: the partitions move.
            async with consuming(kafka_bootstrap_servers, _journal(topic, group), runtime):
                await _send(producer, topic, events[half:])
                await eventually(lambda: _at_least(recorded, len(events)), timeout=60)
    finally:
        await producer.stop()
    assert await recorded() == len(events)

    keys = await published_keys(service.deps)
    for tenant in tenants:
        report = await verify_chain(service.deps.log, keys, tenant)
        assert report.intact, report.broken
        assert report.checked == _PER_TENANT


async def _at_least(count: Callable[[], Awaitable[int]], wanted: int) -> bool:
    return await count() >= wanted


async def _send(producer: AIOKafkaProducer, topic: str, events: Sequence[ReceivedEvent]) -> None:
    for one in events:
        record = one.record
        await producer.send(topic, value=record.value, key=record.key, headers=record.headers)
    await producer.flush()


async def test_concurrent_writers_of_the_same_tenants_never_fork_a_chain(
    deps: AuditDependencies,
    many: Callable[..., Sequence[ReceivedEvent]],
    superuser: asyncpg.Connection,
) -> None:
    tenants = [uuid4() for _ in range(5)]
    polls = [[one for tenant in tenants for one in many(tenant, 6)] for _ in range(8)]

    await asyncio.gather(*(deps.journal.write(poll) for poll in polls))

    keys = await published_keys(deps)
    for tenant in tenants:
        report = await verify_chain(deps.log, keys, tenant)
        assert report.intact, report.broken
        assert report.checked == 6 * len(polls)
    forks = await superuser.fetchval(
        "SELECT count(*) FROM (SELECT tenant_id, prev_hash FROM audit_records"
        " WHERE tenant_id = ANY($1::uuid[]) GROUP BY 1, 2 HAVING count(*) > 1) AS shared",
        tenants,
    )
    assert forks == 0


async def test_writers_that_link_ahead_from_stale_heads_link_again_under_the_locks(
    deps: AuditDependencies,
    many: Callable[..., Sequence[ReceivedEvent]],
) -> None:
    tenant = uuid4()
    first, second = deps.journal, replace(deps.journal, expected_heads={})
    await first.write(many(tenant, 3))
    await second.write(many(tenant, 3))  # `first` expects the head it left at seq 3
    await first.write(many(tenant, 3))  # linked ahead from seq 3, found at seq 6: linked again
    await second.write(many(tenant, 3))

    report = await verify_chain(deps.log, await published_keys(deps), tenant)
    assert report.intact, report.broken
    assert report.checked == 12
    assert first.expected_heads[tenant].seq == 9
