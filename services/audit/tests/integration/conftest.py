"""The audit service on the real PostgreSQL, on a database of the module's; events made as
producers make them (CloudEvents envelopes in Kafka records) and handed to the journal."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import ConsumerRecord
from sqlalchemy.engine import make_url

from mandi_audit.config import Settings
from mandi_audit.entrypoints.service import DEFINITION
from mandi_audit.service_layer.checkpoints import publish_keys
from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_messaging import Envelope, ReceivedEvent
from mandi_runtime import RunningService, migrate, running
from mandi_testing import Infrastructure, TestDatabase
from mandi_testing.fakes import FakeClock
from mandi_testing.platform import settings_values

EventFactory = Callable[..., ReceivedEvent]


@pytest.fixture(scope="module")
def settings(
    infrastructure: Infrastructure, database: TestDatabase, tmp_path_factory: Any
) -> Settings:
    """Settings on this module's database, migrated; a checkpoint every 10 records, kept in a
    file of the module's."""
    folder = tmp_path_factory.mktemp("audit")
    built = Settings(
        **settings_values(
            "audit",
            infrastructure,
            database,
            {
                "MANDI_AUDIT_CHECKPOINT_EVERY_RECORDS": "10",
                "MANDI_AUDIT_CHECKPOINT_FILE": str(folder / "checkpoints.json"),
                "MANDI_AUDIT_VERIFY_BATCH_SIZE": "7",
            },
        )
    )
    migrate(built, DEFINITION.migrations)
    return built


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[RunningService[Settings, AuditDependencies]]:
    """The service's resources and use cases, without its background work; keys published."""
    async with running(DEFINITION, settings, background=False) as started:
        await publish_keys(started.deps)
        yield started


@pytest.fixture
def clock() -> FakeClock:
    """Time that moves only when the test moves it."""
    return FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))


@pytest.fixture
def deps(
    service: RunningService[Settings, AuditDependencies], clock: FakeClock
) -> AuditDependencies:
    """The use cases' dependencies on the test's clock."""
    journal = replace(service.deps.journal, now=clock.now)
    return replace(service.deps, clock=clock, journal=journal)


@pytest.fixture
def event() -> EventFactory:
    """Makes an event as a producer would: `event(tenant, type=..., data={...}, ...)`."""
    offsets = iter(range(10**9))

    def make(
        tenant_id: UUID | None,
        *,
        type: str = "mandi.partners.partner_approved.v1",  # noqa: A002 - the attribute's name
        data: dict[str, Any] | None = None,
        event_id: str | None = None,
        subject: str = "partner-1",
        correlation_id: str | None = "corr-1",
        occurred_at: datetime | None = None,
        topic: str = "mandi.partners.events",
    ) -> ReceivedEvent:
        envelope = Envelope(
            id=event_id or str(uuid4()),
            source="mandi/partners",
            type=type,
            subject=subject,
            data=json.dumps(data if data is not None else {"approved_by": "user-7"}).encode(),
            time=occurred_at or datetime.now(UTC),
            tenant_id=None if tenant_id is None else str(tenant_id),
            correlation_id=correlation_id,
        )
        record = ConsumerRecord(
            topic=topic,
            partition=0,
            offset=next(offsets),
            timestamp=0,
            timestamp_type=0,
            key=subject.encode(),
            value=envelope.data,
            checksum=None,
            serialized_key_size=len(subject),
            serialized_value_size=len(envelope.data),
            headers=envelope.kafka_headers(),
        )
        return ReceivedEvent(envelope, record)

    return make


def events_of(
    make: EventFactory, tenant_id: UUID, count: int, **given: Any
) -> Sequence[ReceivedEvent]:
    """Several events of one tenant (a helper the tests reach through the `many` fixture)."""
    return [make(tenant_id, **given) for _ in range(count)]


@pytest.fixture
def many(event: EventFactory) -> Callable[..., Sequence[ReceivedEvent]]:
    """`many(tenant, 5, type=...)`: five events of the tenant."""
    return lambda tenant_id, count, **given: events_of(event, tenant_id, count, **given)


@pytest.fixture
async def superuser(
    postgres_admin_url: str, database: TestDatabase
) -> AsyncIterator[asyncpg.Connection]:
    """A superuser's connection to the module's database: what a tamperer would need."""
    url = make_url(postgres_admin_url).set(database=database.name, drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        yield connection
    finally:
        await connection.close()
