"""OutboxUnitOfWork: events commit with the unit's writes, as its tenant's, to its address."""

from __future__ import annotations

import json
from uuid import UUID, uuid4

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import TenantAwareSession
from mandi_messaging import OutboxAddress, OutboxUnitOfWork
from mandi_testing import TestDatabase
from mandi_testing.messaging import TEST_EVENTS, Noted

pytestmark = pytest.mark.integration


class LotsUnitOfWork(OutboxUnitOfWork):
    """A sample service's unit of work, whose events go to its own topic."""

    outbox = OutboxAddress(TEST_EVENTS, source="mandi/lots", topic="mandi.lots.events")


async def _outbox_rows(database: TestDatabase, subject: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database.owner_url)
    try:
        return await connection.fetch(
            "SELECT tenant_id, topic, source, message_key, event_type, payload FROM outbox "
            "WHERE message_key = $1 ORDER BY id",
            subject,
        )
    finally:
        await connection.close()


async def _publish_then_fail(
    sessions: async_sessionmaker[TenantAwareSession], subject: str
) -> None:
    async with LotsUnitOfWork(sessions, tenant_id=uuid4()) as uow:
        await uow.publish(Noted(body="never listed either"), subject=subject)
        raise RuntimeError("the use case failed after publishing")


@pytest.fixture
def subject() -> str:
    """An aggregate of this test's own, so tests see none of each other's events."""
    return f"lot-{uuid4()}"


async def test_an_event_published_in_a_committed_unit_is_in_the_outbox_as_its_tenants(
    sessions: async_sessionmaker[TenantAwareSession],
    messaging_database: TestDatabase,
    subject: str,
) -> None:
    tenant = uuid4()
    async with LotsUnitOfWork(sessions, tenant_id=tenant) as uow:
        await uow.publish(Noted(body="40 t of wheat listed", seq=1), subject=subject)
        await uow.commit()

    rows = await _outbox_rows(messaging_database, subject)

    assert len(rows) == 1
    row = rows[0]
    assert UUID(row["tenant_id"]) == tenant
    assert row["topic"] == "mandi.lots.events"
    assert row["source"] == "mandi/lots"
    assert row["message_key"] == subject
    assert row["event_type"] == "mandi.test.noted.v1"
    assert json.loads(row["payload"]) == {"body": "40 t of wheat listed", "seq": 1}


async def test_a_unit_left_without_commit_leaves_nothing_in_the_outbox(
    sessions: async_sessionmaker[TenantAwareSession],
    messaging_database: TestDatabase,
    subject: str,
) -> None:
    async with LotsUnitOfWork(sessions, tenant_id=uuid4()) as uow:
        await uow.publish(Noted(body="never listed"), subject=subject)

    with pytest.raises(RuntimeError, match="use case failed"):
        await _publish_then_fail(sessions, subject)

    assert await _outbox_rows(messaging_database, subject) == []
