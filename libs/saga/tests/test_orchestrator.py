"""The orchestrator on the real PostgreSQL: a saga's state, history and commands commit in the
caller's transaction, replies are idempotent, the sweep skips what others hold, and tenants
see only their own sagas."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import TenantAwareSession
from mandi_saga import SagaOrchestrator, SagaStatus, StepStatus, Transition
from mandi_testing import TestDatabase, as_tenant
from mandi_testing.fakes import FakeClock

pytestmark = pytest.mark.integration

DATA = {"lot": "lot-7", "quantity": 40}


@pytest.fixture
def clock() -> FakeClock:
    """Time the test moves."""
    return FakeClock()


@pytest.fixture
def sagas(kit: Any, clock: FakeClock) -> SagaOrchestrator:
    """An orchestrator of the test saga."""
    return SagaOrchestrator([kit.definition], clock)


@pytest.fixture
def tenant() -> UUID:
    """A tenant of this test's own."""
    return uuid4()


async def _owner_fetch(database: TestDatabase, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database.owner_url)
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


async def _commands(database: TestDatabase, saga_id: UUID) -> list[tuple[str, str, str]]:
    rows = await _owner_fetch(
        database,
        "SELECT event_type, topic, message_key FROM outbox "
        "WHERE convert_from(payload, 'UTF8')::jsonb ->> 'saga_id' = $1 ORDER BY id",
        str(saga_id),
    )
    return [(row["event_type"], row["topic"], row["message_key"]) for row in rows]


async def _saga_rows(database: TestDatabase, tenant: UUID, saga_id: UUID) -> list[asyncpg.Record]:
    """The saga's row as the table's owner sees it in the tenant's transaction (row-level
    security binds the owner too)."""

    async def fetch(connection: asyncpg.Connection) -> list[asyncpg.Record]:
        return await connection.fetch("SELECT * FROM sagas WHERE id = $1", saga_id)

    return await as_tenant(database.owner_url, tenant, fetch)


def _transitions_into(status: str) -> float:
    labels = {"saga_type": "lot_reservation", "status": status}
    return REGISTRY.get_sample_value("mandi_saga_transitions_total", labels) or 0.0


async def test_a_saga_and_its_first_command_commit_together_or_not_at_all(
    sessions: async_sessionmaker[TenantAwareSession],
    saga_database: TestDatabase,
    unit_of_work: Any,
    sagas: SagaOrchestrator,
    kit: Any,
    tenant: UUID,
) -> None:
    async with unit_of_work(sessions, tenant_id=tenant) as uow:
        kept = await sagas.start(uow, kit.definition, DATA)
        await uow.commit()
    async with unit_of_work(sessions, tenant_id=tenant) as uow:
        dropped = await sagas.start(uow, kit.definition, DATA)

    [row] = await _saga_rows(saga_database, tenant, kept.id)
    assert (row["tenant_id"], row["status"], row["version"]) == (tenant, "running", 0)
    assert row["deadline"] == kept.deadline
    assert await _commands(saga_database, kept.id) == [
        ("mandi.reserve.lot.v1", "mandi.lots.commands", "lot-7")
    ]
    assert await _saga_rows(saga_database, tenant, dropped.id) == []
    assert await _commands(saga_database, dropped.id) == []


async def test_replies_advance_the_saga_and_send_its_next_command_once(
    sessions: async_sessionmaker[TenantAwareSession],
    saga_database: TestDatabase,
    unit_of_work: Any,
    sagas: SagaOrchestrator,
    kit: Any,
    tenant: UUID,
) -> None:
    async with unit_of_work(sessions, tenant_id=tenant) as uow:
        saga = await sagas.start(uow, kit.definition, DATA, saga_id=uuid4())
        await uow.commit()
    reply = kit.reserved(saga_id=saga.id, step="reserve_quantity")

    for _ in range(2):  # the second is a duplicate delivery, in a transaction of its own
        async with unit_of_work(sessions, tenant_id=tenant) as uow:
            advanced = await sagas.on_reply(uow, reply)
            await uow.commit()

    assert advanced is not None
    assert advanced.steps[:2] == (StepStatus.DONE, StepStatus.SENT)
    [row] = await _saga_rows(saga_database, tenant, saga.id)
    assert (row["current_step"], row["version"]) == (1, 1)
    assert len(await _commands(saga_database, saga.id)) == 2
    async with unit_of_work(sessions, tenant_id=tenant) as uow:
        history = await sagas.history(uow, saga.id)
    assert [(entry.kind, entry.step) for entry in history] == [
        ("started", None),
        ("command_sent", "reserve_quantity"),
        ("completed", "reserve_quantity"),
        ("command_sent", "reserve_exposure"),
    ]
    assert history[-1].detail["command"] == "Reserve"


async def test_a_refusal_sends_the_release_and_the_saga_fails_when_it_is_confirmed(
    sessions: async_sessionmaker[TenantAwareSession],
    saga_database: TestDatabase,
    unit_of_work: Any,
    sagas: SagaOrchestrator,
    kit: Any,
    tenant: UUID,
) -> None:
    failures_before = _transitions_into("failed")
    async with unit_of_work(sessions, tenant_id=tenant) as uow:
        saga = await sagas.start(uow, kit.definition, DATA)
        for reply in (
            kit.reserved(saga_id=saga.id, step="reserve_quantity"),
            kit.refusal(saga_id=saga.id, step="reserve_exposure", reason="over the limit"),
            kit.released(saga_id=saga.id, step="reserve_quantity"),
        ):
            ended = await sagas.on_reply(uow, reply)
        await uow.commit()

    assert ended is not None
    assert ended.status is SagaStatus.FAILED
    commands = [event_type for event_type, _, _ in await _commands(saga_database, saga.id)]
    assert commands == ["mandi.reserve.lot.v1", "mandi.reserve.lot.v1", "mandi.release.lot.v1"]
    assert _transitions_into("failed") == failures_before + 1


async def test_two_sweeps_at_once_time_each_due_saga_out_once(
    sessions: async_sessionmaker[TenantAwareSession],
    unit_of_work: Any,
    sagas: SagaOrchestrator,
    kit: Any,
    clock: FakeClock,
    tenant: UUID,
) -> None:
    async with unit_of_work(sessions, tenant_id=tenant) as uow:
        started = [await sagas.start(uow, kit.definition, DATA) for _ in range(5)]
        await uow.commit()
    later = clock.now() + timedelta(seconds=31)

    async with (
        unit_of_work(sessions, tenant_id=tenant) as first,
        unit_of_work(sessions, tenant_id=tenant) as second,
    ):
        taken_first = await sagas.expire_due(first, later, limit=3)
        taken_second = await sagas.expire_due(second, later, limit=10)  # skips the first's
        await first.commit()
        await second.commit()
    async with unit_of_work(sessions, tenant_id=tenant) as uow:
        again = await sagas.expire_due(uow, later, limit=10)
        histories = [await sagas.history(uow, saga.id) for saga in started]

    assert (taken_first, taken_second, again) == (3, 2, 0)
    for history in histories:
        assert [entry.kind for entry in history].count("timed_out") == 1
        assert history[-1].kind == "saga_failed"


async def test_a_tenant_never_sees_nor_moves_another_tenants_saga(
    sessions: async_sessionmaker[TenantAwareSession],
    unit_of_work: Any,
    sagas: SagaOrchestrator,
    kit: Any,
    clock: FakeClock,
    tenant: UUID,
) -> None:
    async with unit_of_work(sessions, tenant_id=tenant) as uow:
        saga = await sagas.start(uow, kit.definition, DATA)
        await uow.commit()
    later = clock.now() + timedelta(seconds=31)

    async with unit_of_work(sessions, tenant_id=uuid4()) as other:
        assert await sagas.get(other, saga.id) is None
        assert await sagas.history(other, saga.id) == []
        reply = kit.reserved(saga_id=saga.id, step="reserve_quantity")
        assert await sagas.on_reply(other, reply) is None
        assert await sagas.expire_due(other, later, limit=10) == 0
        await other.commit()

    async with unit_of_work(sessions, tenant_id=tenant) as uow:
        unchanged = await sagas.get(uow, saga.id)
    assert unchanged == saga


class _Watcher:
    """An observer that notes each move, and publishes nothing."""

    def __init__(self) -> None:
        self.moves: list[tuple[SagaStatus | None, SagaStatus, int]] = []

    async def moved(self, _uow: Any, before: SagaStatus | None, transition: Transition) -> None:
        self.moves.append((before, transition.saga.status, len(transition.commands)))


async def test_the_observer_sees_every_move_and_no_duplicate(
    sessions: async_sessionmaker[TenantAwareSession],
    unit_of_work: Any,
    kit: Any,
    clock: FakeClock,
    tenant: UUID,
) -> None:
    watcher = _Watcher()
    sagas = SagaOrchestrator([kit.definition], clock, observer=watcher)
    async with unit_of_work(sessions, tenant_id=tenant) as uow:
        saga = await sagas.start(uow, kit.definition, DATA)
        reply = kit.refusal(saga_id=saga.id, step="reserve_quantity", reason="none free")
        await sagas.on_reply(uow, reply)
        await sagas.on_reply(uow, reply)  # a duplicate moves nothing, so is not seen
        await uow.commit()

    running, failed = SagaStatus.RUNNING, SagaStatus.FAILED
    assert watcher.moves == [(None, running, 1), (running, failed, 0)]
