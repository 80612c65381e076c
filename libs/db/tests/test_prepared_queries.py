"""Prepared queries on the driver, in a read transaction or a unit of work's, on the real
PostgreSQL: the tenant's rows only, read-only, nothing left on the pooled connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    Uuid,
    bindparam,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.types import TypeDecorator

from mandi_db import (
    PreparedQuery,
    ReadTransaction,
    SqlRepository,
    StatementSource,
    TenantAwareSession,
    TenantRequired,
    UnitOfWork,
    create_database_engine,
    create_session_factory,
    enable_tenant_isolation,
)
from mandi_testing import TestDatabase

pytestmark = pytest.mark.integration

SCHEMA = [
    """
    CREATE TABLE notes (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        title text NOT NULL,
        tags text[] NOT NULL,
        extra jsonb NOT NULL
    )
    """,
    *enable_tenant_isolation("notes"),
]
notes = Table(
    "notes",
    MetaData(),
    Column("id", Uuid(), primary_key=True),
    Column("tenant_id", Uuid()),
    Column("title", String),
    Column("tags", ARRAY(String)),
    Column("extra", JSONB),
)
_BY_ID = PreparedQuery(
    select(notes, literal("fixed").label("constant")).where(notes.c.id == bindparam("note_id"))
)
_ALL = PreparedQuery(select(notes.c.id).order_by(notes.c.title))
_CURRENT_TENANT = text("SELECT current_setting('app.tenant_id', true)")


class SqlNotes(SqlRepository):
    """Notes read by prepared queries, in whatever transaction the repository is given."""

    def __init__(self, source: StatementSource) -> None:
        super().__init__(source)

    async def get(self, note_id: UUID) -> Any:
        rows = await self._fetch(_BY_ID, {"note_id": note_id})
        return rows[0] if rows else None

    async def ids(self) -> list[UUID]:
        return [row.id for row in await self._fetch(_ALL, {})]


@pytest.fixture
async def engine(schema_database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    """One pooled connection, so each transaction meets what the one before it left."""
    engine = create_database_engine(schema_database.app_url, pool_size=1, max_overflow=0)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _add(sessions: async_sessionmaker[TenantAwareSession], tenant: UUID, title: str) -> UUID:
    note_id = uuid4()
    async with UnitOfWork(sessions, tenant_id=tenant) as uow:
        values = {"id": note_id, "tenant_id": tenant, "title": title, "tags": ["a", "b"]}
        await uow.session.exec(insert(notes).values({**values, "extra": {"n": 1}}))
        await uow.commit()
    return note_id


async def test_a_read_sees_its_tenants_rows_with_the_drivers_values(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    mine, theirs = uuid4(), uuid4()
    note_id = await _add(sessions, mine, "mine")
    other_note = await _add(sessions, theirs, "theirs")

    async with ReadTransaction(engine, tenant_id=mine) as read:
        row = await SqlNotes(read).get(note_id)
        assert await SqlNotes(read).ids() == [note_id]
        assert await SqlNotes(read).get(other_note) is None

    assert (row.id, row.tenant_id, row.title) == (note_id, mine, "mine")
    assert row.tags == ["a", "b"]
    assert row.extra == {"n": 1}
    assert row.constant == "fixed"  # a literal of the statement travels as a fixed parameter
    with pytest.raises(AttributeError):
        _ = row.no_such_column


async def test_a_read_transaction_refuses_to_write(engine: AsyncEngine) -> None:
    tenant = uuid4()
    async with ReadTransaction(engine, tenant_id=tenant) as read:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await read.driver.execute(
                "INSERT INTO notes VALUES ($1, $2, 't', '{}', '{}')", uuid4(), tenant
            )


async def test_the_next_user_of_the_connection_gets_neither_tenant_nor_transaction(
    engine: AsyncEngine,
) -> None:
    async with ReadTransaction(engine, tenant_id=uuid4()) as read:
        await SqlNotes(read).ids()
    with pytest.raises(RuntimeError):
        _ = read.driver  # left: nothing to run statements on
    async with engine.connect() as connection:  # the pool's one connection, outside any read
        raw = await connection.get_raw_connection()
        assert not raw.driver_connection.is_in_transaction()
        assert (await connection.execute(_CURRENT_TENANT)).scalar_one() in {None, ""}


async def test_a_failed_read_rolls_back_and_gives_the_connection_back(engine: AsyncEngine) -> None:
    with pytest.raises(asyncpg.UndefinedTableError):
        async with ReadTransaction(engine, tenant_id=uuid4()) as read:
            await read.driver.fetch("SELECT * FROM no_such_table")
    async with ReadTransaction(engine, tenant_id=uuid4()) as read:  # the same connection
        assert await SqlNotes(read).ids() == []


async def test_a_unit_of_work_runs_prepared_queries_in_its_own_transaction(
    engine: AsyncEngine,
) -> None:
    sessions, tenant = create_session_factory(engine), uuid4()
    async with UnitOfWork(sessions, tenant_id=tenant) as uow:
        note_id = uuid4()
        values = {"id": note_id, "tenant_id": tenant, "title": "uncommitted", "tags": []}
        await uow.session.exec(insert(notes).values({**values, "extra": {}}))
        row = await SqlNotes(uow.session).get(note_id)  # sees the transaction's own write
        assert row is not None
        assert row.title == "uncommitted"
    async with ReadTransaction(engine, tenant_id=tenant) as read:  # rolled back: never was
        assert await SqlNotes(read).get(note_id) is None


async def test_a_read_transaction_runs_prepared_queries_only(engine: AsyncEngine) -> None:
    async with ReadTransaction(engine, tenant_id=uuid4()) as read:
        with pytest.raises(TypeError, match="prepared queries only"):
            await SqlNotes(read)._execute(select(notes))


def test_a_read_runs_as_one_tenant_named_by_a_uuid(engine: AsyncEngine) -> None:
    with pytest.raises(TenantRequired):
        ReadTransaction(engine, tenant_id="not-a-uuid")  # type: ignore[arg-type]


def test_every_parameter_a_query_asks_for_must_be_given() -> None:
    with pytest.raises(TypeError, match="note_id"):
        _BY_ID.arguments({})


class _Upper(TypeDecorator[str]):
    """A type whose bound values SQLAlchemy converts before the driver sees them."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, _dialect: Any) -> str | None:
        return None if value is None else value.upper()


async def test_a_parameter_sqlalchemy_converts_is_converted_as_it_would(
    engine: AsyncEngine,
) -> None:
    tenant = uuid4()
    note_id = await _add(create_session_factory(engine), tenant, "LOUD")
    by_title = PreparedQuery(
        select(notes.c.id).where(notes.c.title == bindparam("title", type_=_Upper()))
    )
    async with ReadTransaction(engine, tenant_id=tenant) as read:
        rows = await by_title.fetch(read.driver, {"title": "loud"})
    assert [row.id for row in rows] == [note_id]
