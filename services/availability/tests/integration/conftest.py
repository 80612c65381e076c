"""The availability service built on the real PostgreSQL (with PostGIS), on a database of the
module's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from mandi_availability.config import Settings
from mandi_availability.entrypoints.consumers import consumers
from mandi_availability.entrypoints.service import DEFINITION
from mandi_runtime import RunningService, migrate, running
from mandi_testing import Infrastructure, TestDatabase, fresh_database
from mandi_testing.messaging import DeadLetterRecorder, delivering_in_memory
from mandi_testing.platform import settings_values


@pytest.fixture(scope="module")
def database(postgres_admin_url: str, request: pytest.FixtureRequest) -> Iterator[TestDatabase]:
    """This module's database, with the extensions the service's settings declare."""
    label = request.module.__name__
    with fresh_database(postgres_admin_url, label, Settings.database_extensions) as created:
        yield created


@pytest.fixture(scope="module")
def settings(infrastructure: Infrastructure, database: TestDatabase) -> Settings:
    """Settings pointing at this module's database, migrated to the newest revision."""
    built = Settings(**settings_values("availability", infrastructure, database))
    migrate(built, DEFINITION.migrations)
    return built


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[RunningService[Settings, Any]]:
    """The service's resources and use cases, without its background loops."""
    async with running(DEFINITION, settings, background=False) as started:
        yield started


Delivering = Callable[[DeadLetterRecorder], AbstractAsyncContextManager[KafkaBroker]]


@pytest.fixture
def delivering(service: RunningService[Settings, Any]) -> Delivering:
    """FastStream's in-memory Kafka delivering to the service's consumer group, with its own
    unit of work and handler dependencies, on this module's database."""

    def deliver(dead_letters: DeadLetterRecorder) -> AbstractAsyncContextManager[KafkaBroker]:
        unit_of_work = service.wiring.consumer_unit_of_work
        assert unit_of_work is not None
        return delivering_in_memory(
            consumers,
            service.database.sessions,
            unit_of_work,
            dead_letters,
            service.wiring.handler_dependencies,
        )

    return deliver
