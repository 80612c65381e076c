"""Fixtures for the messaging tests: a migrated database, sessions, a producer, relays."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import TenantAwareSession, create_database_engine, create_session_factory
from mandi_messaging import (
    OutboxRelay,
    create_messaging_tables,
    create_producer,
    create_sequencing_tables,
)
from mandi_testing import TestDatabase
from mandi_testing.messaging import EFFECTS_TABLE


async def _apply_schema(owner_url: str) -> None:
    connection = await asyncpg.connect(owner_url)
    try:
        for statement in [*create_messaging_tables(), *create_sequencing_tables(), EFFECTS_TABLE]:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def messaging_database(database: TestDatabase) -> TestDatabase:
    """This module's database with the messaging tables and an `effects` table."""
    asyncio.run(_apply_schema(database.owner_url))
    return database


@pytest.fixture
async def sessions(
    messaging_database: TestDatabase,
) -> AsyncIterator[async_sessionmaker[TenantAwareSession]]:
    """Sessions as the application role."""
    engine = create_database_engine(messaging_database.app_url, pool_size=20)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def producer(kafka_bootstrap_servers: str) -> AsyncIterator[AIOKafkaProducer]:
    """An idempotent producer, started."""
    started = create_producer(kafka_bootstrap_servers, client_id="mandi-tests")
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
def make_relay(
    messaging_database: TestDatabase, producer: AIOKafkaProducer
) -> Callable[..., OutboxRelay]:
    """Builds relays on this module's database, connected as the application role."""

    def build(**options: float) -> OutboxRelay:
        settings = {"batch_size": 500, "poll_interval": 0.2, "standby_interval": 0.2, **options}
        return OutboxRelay(
            dsn=messaging_database.app_url,
            producer=producer,
            service="tests",
            batch_size=int(settings.pop("batch_size")),
            **settings,
        )

    return build


@pytest.fixture
def count_rows(messaging_database: TestDatabase) -> Callable[[str], object]:
    """Counts a table's rows as its owner."""

    async def count(table: str) -> int:
        connection = await asyncpg.connect(messaging_database.owner_url)
        try:
            return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
        finally:
            await connection.close()

    return count
