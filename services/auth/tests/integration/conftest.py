"""The auth service built on the real PostgreSQL, Redis and Kafka, on a database of the module's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from mandi_auth.config import Settings
from mandi_auth.entrypoints.commands import AuthRunning
from mandi_auth.entrypoints.service import DEFINITION
from mandi_runtime import migrate, running
from mandi_runtime.redis import redis_of
from mandi_testing import Infrastructure, TestDatabase
from mandi_testing.platform import settings_values


@pytest.fixture(scope="module")
def settings(infrastructure: Infrastructure, database: TestDatabase) -> Settings:
    """Settings pointing at this module's database, migrated to the newest revision."""
    built = Settings(**settings_values("auth", infrastructure, database))
    migrate(built, DEFINITION.migrations)
    return built


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[AuthRunning]:
    """The built service with its keys loaded and its outbox relay running."""
    async with running(DEFINITION, settings) as started:
        yield started


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    """A Redis client of the test's own, as the service makes them."""
    client = redis_of(settings)
    try:
        yield client
    finally:
        await client.aclose()
