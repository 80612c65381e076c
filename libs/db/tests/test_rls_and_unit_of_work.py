"""Migrations, row-level security and the unit of work, on the real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mandi_db import (
    TenantlessUnitOfWork,
    TenantRequired,
    UnitOfWork,
    create_database_engine,
    create_session_factory,
)
from mandi_db.migrations import alembic_config, downgrade, upgrade
from mandi_observability import bound_context
from mandi_testing import TestDatabase

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).parent / "sample_migrations"
TENANT_A, TENANT_B = uuid.uuid4(), uuid.uuid4()


async def _tables(url: str) -> set[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row["tablename"] for row in rows}
    finally:
        await connection.close()


async def _columns(url: str, table: str) -> set[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1", table
        )
        return {row["column_name"] for row in rows}
    finally:
        await connection.close()


async def test_migrations_upgrade_downgrade_and_upgrade_again(database: TestDatabase) -> None:
    config = alembic_config(MIGRATIONS, database.owner_url)
    await asyncio.to_thread(upgrade, config)
    assert {"notes", "alembic_version"} <= await _tables(database.owner_url)
    assert "title" in await _columns(database.owner_url, "notes")

    await asyncio.to_thread(downgrade, config, "0001")
    assert "title" not in await _columns(database.owner_url, "notes")
    await asyncio.to_thread(downgrade, config, "base")
    assert "notes" not in await _tables(database.owner_url)

    await asyncio.to_thread(upgrade, config)
    assert "title" in await _columns(database.owner_url, "notes")


@pytest.fixture
async def sessions(database: TestDatabase) -> AsyncIterator[object]:
    await asyncio.to_thread(upgrade, alembic_config(MIGRATIONS, database.owner_url))
    engine = create_database_engine(database.app_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def _add_note(sessions: object, tenant: uuid.UUID, body: str) -> None:
    async with UnitOfWork(sessions, tenant_id=tenant) as uow:  # type: ignore[arg-type]
        await uow.session.exec(
            text("INSERT INTO notes (id, tenant_id, body) VALUES (:id, :tenant, :body)"),
            params={"id": uuid.uuid4(), "tenant": tenant, "body": body},
        )
        await uow.commit()


async def _bodies(sessions: object, tenant: uuid.UUID | None) -> set[str]:
    unit = (
        TenantlessUnitOfWork(sessions)  # type: ignore[arg-type]
        if tenant is None
        else UnitOfWork(sessions, tenant_id=tenant)  # type: ignore[arg-type]
    )
    async with unit as uow:
        rows = await uow.session.exec(text("SELECT body FROM notes"))
        return {row.body for row in rows}


async def test_two_tenants_cannot_see_each_others_rows(sessions: object) -> None:
    await _add_note(sessions, TENANT_A, "a's price list")
    await _add_note(sessions, TENANT_B, "b's price list")

    assert await _bodies(sessions, TENANT_A) == {"a's price list"}
    assert await _bodies(sessions, TENANT_B) == {"b's price list"}
    assert await _bodies(sessions, None) == set(), "no tenant must mean no rows, not all rows"


async def test_a_tenant_cannot_write_a_row_for_another(sessions: object) -> None:
    forged = text("INSERT INTO notes (id, tenant_id, body) VALUES (:id, :tenant, 'forged')")
    async with UnitOfWork(sessions, tenant_id=TENANT_A) as uow:  # type: ignore[arg-type]
        with pytest.raises(DBAPIError, match="row-level security"):
            await uow.session.exec(forged, params={"id": uuid.uuid4(), "tenant": TENANT_B})


async def test_the_request_context_never_chooses_the_tenant(sessions: object) -> None:
    # A tenant id bound from a header must not open a tenant's rows to a tenant-less unit.
    await _add_note(sessions, TENANT_A, "context note")
    with bound_context(tenant_id=str(TENANT_A)):
        assert await _bodies(sessions, None) == set()


@pytest.mark.parametrize("tenant", [None, str(TENANT_A), ""])
def test_a_tenant_unit_of_work_cannot_be_made_without_a_tenant(sessions, tenant) -> None:
    with pytest.raises(TenantRequired):
        UnitOfWork(sessions, tenant_id=tenant)


async def test_a_tenantless_unit_of_work_cannot_write_tenant_rows(sessions: object) -> None:
    insert = text("INSERT INTO notes (id, tenant_id, body) VALUES (:id, :tenant, 'orphan')")
    async with TenantlessUnitOfWork(sessions) as uow:  # type: ignore[arg-type]
        with pytest.raises(DBAPIError, match="row-level security"):
            await uow.session.exec(insert, params={"id": uuid.uuid4(), "tenant": TENANT_A})


async def test_tenant_holds_for_every_transaction_of_the_unit(sessions: object) -> None:
    async with UnitOfWork(sessions, tenant_id=TENANT_A) as uow:  # type: ignore[arg-type]
        await uow.session.exec(
            text("INSERT INTO notes (id, tenant_id, body) VALUES (:id, :tenant, 'first')"),
            params={"id": uuid.uuid4(), "tenant": TENANT_A},
        )
        await uow.commit()
        rows = await uow.session.exec(text("SELECT body FROM notes WHERE body = 'first'"))
        assert [row.body for row in rows] == ["first"]


async def test_leaving_without_commit_rolls_back(sessions: object) -> None:
    async def failing_use_case() -> None:
        async with UnitOfWork(sessions, tenant_id=TENANT_A) as uow:  # type: ignore[arg-type]
            await uow.session.exec(
                text("INSERT INTO notes (id, tenant_id, body) VALUES (:id, :tenant, 'lost')"),
                params={"id": uuid.uuid4(), "tenant": TENANT_A},
            )
            raise RuntimeError("use case failed")

    with pytest.raises(RuntimeError):
        await failing_use_case()
    assert "lost" not in await _bodies(sessions, TENANT_A)


@pytest.mark.usefixtures("sessions")  # the migrated schema
async def test_the_application_role_cannot_change_the_schema(database: TestDatabase) -> None:
    connection = await asyncpg.connect(database.app_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("CREATE TABLE sneaky (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("ALTER TABLE notes DISABLE ROW LEVEL SECURITY")
    finally:
        await connection.close()
