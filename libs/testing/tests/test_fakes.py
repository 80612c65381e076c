"""The fake unit of work behaves as the real one where a use case could tell the difference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from mandi_testing.fakes import FakeClock, FakeStore, FakeUnitOfWork, PublishedEvent


@dataclass
class Row:
    id: UUID
    tenant_id: UUID
    name: str


async def test_a_tenant_sees_and_writes_its_own_rows_only() -> None:
    store, mine, theirs = FakeStore(), uuid4(), uuid4()
    other = Row(uuid4(), theirs, "theirs")
    store.table("things")[other.id] = other
    async with FakeUnitOfWork(store, mine) as uow:
        own = Row(uuid4(), mine, "mine")
        uow.rows("things").put(own)
        assert uow.rows("things").get(other.id) is None
        assert [row.name for row in uow.rows("things")] == ["mine"]
        with pytest.raises(PermissionError):
            uow.rows("things").put(Row(uuid4(), theirs, "forged"))


async def test_writes_and_events_reach_the_store_on_commit_only() -> None:
    store, tenant = FakeStore(), uuid4()
    async with FakeUnitOfWork(store, tenant) as uow:
        uow.rows("things").put(Row(uuid4(), tenant, "forgotten"))
        await uow.publish("ThingMade", subject="a")
    assert store.table("things") == {}
    assert store.events == []

    async with FakeUnitOfWork(store, tenant) as uow:
        kept = Row(uuid4(), tenant, "kept")
        uow.rows("things").put(kept)
        await uow.publish("ThingMade", subject=str(kept.id))
        await uow.commit()
    assert list(store.table("things")) == [kept.id]
    assert store.events == [PublishedEvent(tenant, "ThingMade", str(kept.id))]


async def test_a_rollback_discards_in_place_so_repositories_keep_their_tables() -> None:
    store, tenant = FakeStore(), uuid4()
    async with FakeUnitOfWork(store, tenant) as uow:
        things = uow.rows("things")
        things.put(Row(uuid4(), tenant, "undone"))
        await uow.rollback()
        assert list(things) == []
        redone = Row(uuid4(), tenant, "redone")
        things.put(redone)
        await uow.commit()
    assert list(store.table("things")) == [redone.id]


def test_the_clock_moves_only_when_told() -> None:
    clock = FakeClock()
    start = clock.now()
    assert clock.now() == start
    clock.advance(timedelta(minutes=5))
    assert clock.now() - start == timedelta(minutes=5)


def test_a_unit_of_work_without_a_tenant_is_refused() -> None:
    with pytest.raises(TypeError):
        FakeUnitOfWork(FakeStore(), "not-a-uuid")  # type: ignore[arg-type]
