"""A three-step saga of reservations for the tests, and a database with the saga tables.

Each step reserves something of a participant's (quantity, exposure, a slot) and is undone by
releasing it; replies name the saga and the step, as the contracts' do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Self
from uuid import UUID

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import TenantAwareSession, create_database_engine, create_session_factory
from mandi_messaging import (
    Event,
    EventRegistry,
    OutboxAddress,
    OutboxUnitOfWork,
    create_messaging_tables,
)
from mandi_saga import (
    Command,
    Compensation,
    Completed,
    Refused,
    Saga,
    SagaDefinition,
    SagaRepository,
    Step,
    StepOutcome,
    create_saga_tables,
)
from mandi_testing import TestDatabase

EVENTS = EventRegistry()
COMMANDS_TOPIC = "mandi.lots.commands"
STEP_NAMES = ("reserve_quantity", "reserve_exposure", "book_slot")


class _StepMessage(Event):
    saga_id: UUID
    step: str


@EVENTS.event("mandi.reserve.lot", 1)
class Reserve(_StepMessage):
    """Reserve `quantity` for the saga."""

    quantity: int


@EVENTS.event("mandi.release.lot", 1)
class Release(_StepMessage):
    """Give back what the saga reserved."""


@EVENTS.event("mandi.lot.reserved", 1)
class Reserved(_StepMessage):
    """The quantity is the saga's."""


@EVENTS.event("mandi.lot.refused", 1)
class Refusal(_StepMessage):
    """Nothing was reserved."""

    reason: str


@EVENTS.event("mandi.lot.released", 1)
class Released(_StepMessage):
    """What the saga had reserved is free again."""


def _read(reply: Any) -> StepOutcome | None:
    if isinstance(reply, Reserved):
        return Completed()
    if isinstance(reply, Refusal):
        return Refused(reply.reason)
    return None


def _step(name: str) -> Step:
    def reserve(saga: Saga) -> Command:
        event = Reserve(saga_id=saga.id, step=name, quantity=saga.data["quantity"])
        return Command(event, topic=COMMANDS_TOPIC, key=saga.data["lot"])

    def release(saga: Saga) -> Command:
        return Command(Release(saga_id=saga.id, step=name), COMMANDS_TOPIC, saga.data["lot"])

    return Step(
        name=name,
        command=reserve,
        read_reply=_read,
        deadline=timedelta(seconds=30),
        compensation=Compensation(
            command=release,
            recognises=lambda reply: isinstance(reply, Released),
            deadline=timedelta(seconds=10),
        ),
    )


@dataclass(frozen=True)
class Kit:
    """The test saga and the messages its participants exchange with it."""

    definition: SagaDefinition
    reserve: type[Reserve] = Reserve
    release: type[Release] = Release
    reserved: type[Reserved] = Reserved
    refusal: type[Refusal] = Refusal
    released: type[Released] = Released


@pytest.fixture(scope="session")
def kit() -> Kit:
    """A saga of three reservations, each compensated by its release, tried three times."""
    steps = tuple(_step(name) for name in STEP_NAMES)
    return Kit(SagaDefinition("lot_reservation", steps, compensation_attempts=3))


class LotsUnitOfWork(OutboxUnitOfWork):
    """A sample service's unit of work, with its sagas."""

    outbox = OutboxAddress(EVENTS, source="mandi/lots", topic="mandi.lots.events")
    sagas: SagaRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.sagas = SagaRepository(self.session)
        return self


@pytest.fixture(scope="module")
def saga_database(database: TestDatabase) -> TestDatabase:
    """This module's database with the messaging and saga tables."""

    async def migrate() -> None:
        connection = await asyncpg.connect(database.owner_url)
        try:
            for statement in [*create_messaging_tables(), *create_saga_tables()]:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(migrate())
    return database


@pytest.fixture
async def sessions(
    saga_database: TestDatabase,
) -> AsyncIterator[async_sessionmaker[TenantAwareSession]]:
    """Sessions as the application role, under row-level security."""
    engine = create_database_engine(saga_database.app_url, pool_size=10)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def unit_of_work() -> type[LotsUnitOfWork]:
    """The sample service's unit of work class."""
    return LotsUnitOfWork
