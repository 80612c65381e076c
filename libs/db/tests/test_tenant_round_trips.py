"""The tenant travels with BEGIN, on the real PostgreSQL: one round trip fewer per transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from mandi_db import (
    TenantlessUnitOfWork,
    UnitOfWork,
    create_database_engine,
    create_session_factory,
)
from mandi_testing import TestDatabase

pytestmark = pytest.mark.integration

TENANT = uuid.uuid4()
CURRENT_TENANT = text("SELECT current_setting('app.tenant_id', true)")


@pytest.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    """One pooled connection, so every unit of work meets the one before it."""
    engine = create_database_engine(database.app_url, pool_size=1, max_overflow=0)
    try:
        yield engine
    finally:
        await engine.dispose()


def _record_round_trips(engine: AsyncEngine) -> list[bytes]:
    """What each new connection writes to PostgreSQL from now on: one write per round trip
    (a simple query, or a prepared statement's bind and execute)."""
    sent: list[bytes] = []

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        transport = dbapi_connection.driver_connection._transport
        write = transport.write

        def recorded(data: bytes) -> None:
            sent.append(bytes(data))
            write(data)

        transport.write = recorded

    event.listen(engine.sync_engine, "connect", on_connect)
    return sent


async def _tenant_seen(unit: UnitOfWork | TenantlessUnitOfWork) -> str | None:
    async with unit as uow:
        return (await uow.session.exec(CURRENT_TENANT)).scalar_one()


async def test_a_tenants_transaction_costs_its_statements_begin_and_rollback_only(
    engine: AsyncEngine,
) -> None:
    sessions = create_session_factory(engine)
    await _tenant_seen(UnitOfWork(sessions, tenant_id=TENANT))  # connects, prepares
    sent = _record_round_trips(engine)
    await engine.dispose()  # the next unit of work connects anew, recorded
    seen = await _tenant_seen(UnitOfWork(sessions, tenant_id=TENANT))
    assert seen == str(TENANT)
    begin, *statement, rollback = [data for data in sent if data[:1] in {b"Q", b"B"}]
    assert begin.startswith(b"Q")  # a simple query: BEGIN, and the tenant with it
    assert b"BEGIN" in begin
    assert f"set_config('app.tenant_id', '{TENANT}', true)".encode() in begin
    assert len(statement) == 1
    assert rollback.startswith(b"Q")
    assert b"ROLLBACK" in rollback


async def test_a_tenant_named_for_a_transaction_that_sent_nothing_reaches_no_one_else(
    engine: AsyncEngine,
) -> None:
    sessions = create_session_factory(engine)
    async with UnitOfWork(sessions, tenant_id=TENANT) as uow:
        await uow.session.connection()  # begun, but no statement: BEGIN was never sent
    assert await _tenant_seen(TenantlessUnitOfWork(sessions)) in {None, ""}
    async with UnitOfWork(sessions, tenant_id=TENANT) as uow:
        await uow.session.connection()
    async with engine.connect() as connection:  # the pool's next user, outside any session
        assert (await connection.execute(CURRENT_TENANT)).scalar_one() in {None, ""}


async def test_every_transaction_of_a_unit_sends_its_tenant_with_its_begin(
    engine: AsyncEngine,
) -> None:
    async with UnitOfWork(create_session_factory(engine), tenant_id=TENANT) as uow:
        assert (await uow.session.exec(CURRENT_TENANT)).scalar_one() == str(TENANT)
        await uow.commit()
        assert (await uow.session.exec(CURRENT_TENANT)).scalar_one() == str(TENANT)


@pytest.mark.parametrize("forged", ["x', true); SELECT pg_sleep(1); --", "not-a-uuid"])
async def test_only_a_uuid_is_ever_written_into_begin(engine: AsyncEngine, forged: str) -> None:
    # Units of work take UUIDs only; a session made by hand is refused before anything is sent.
    async with create_session_factory(engine)(info={"tenant_id": forged}) as session:
        with pytest.raises(ValueError, match="badly formed"):
            await session.exec(CURRENT_TENANT)


async def test_concurrent_units_of_work_each_see_their_own_tenant(database: TestDatabase) -> None:
    engine = create_database_engine(database.app_url, pool_size=4, max_overflow=0)
    sessions = create_session_factory(engine)
    tenants = [uuid.uuid4() for _ in range(8)]
    try:
        seen = await asyncio.gather(
            *(_tenant_seen(UnitOfWork(sessions, tenant_id=tenant)) for tenant in tenants)
        )
    finally:
        await engine.dispose()
    assert seen == [str(tenant) for tenant in tenants]
