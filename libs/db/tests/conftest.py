"""Fixtures for tests on a module's own tables: its SCHEMA applied once, sessions, a tenant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from uuid import UUID, uuid4

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import TenantAwareSession, create_database_engine, create_session_factory
from mandi_testing import TestDatabase


async def _apply(owner_url: str, statements: Sequence[str]) -> None:
    connection = await asyncpg.connect(owner_url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def schema_database(database: TestDatabase, request: pytest.FixtureRequest) -> TestDatabase:
    """This module's database with the statements of the module's `SCHEMA` applied."""
    asyncio.run(_apply(database.owner_url, request.module.SCHEMA))
    return database


@pytest.fixture
async def sessions(
    schema_database: TestDatabase,
) -> AsyncIterator[async_sessionmaker[TenantAwareSession]]:
    """Sessions as the application role, which row-level security binds."""
    engine = create_database_engine(schema_database.app_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def tenant() -> UUID:
    """A tenant of this test's own, so tests see none of each other's rows."""
    return uuid4()
