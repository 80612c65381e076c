"""Reads on a real streaming replica: served from it, its lag a metric, the primary when it is
away or behind, and writes never on it.

The module runs a PostgreSQL primary and a hot standby of its own (deploy/local/postgres.sh and
replica.sh on free ports), so stopping the replica or pausing its replay disturbs nobody.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from mandi_db import (
    ReadReplica,
    ReadSessions,
    TenantAwareSession,
    UnitOfWork,
    create_database_engine,
    create_session_factory,
    service_database,
)
from mandi_db.migrations import alembic_config, upgrade
from mandi_testing import TestDatabase, eventually, fresh_database
from mandi_testing.local_postgres import LocalPostgres, running_local_postgres

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).parent / "sample_migrations"
TENANT_A, TENANT_B = uuid.uuid4(), uuid.uuid4()
REPLICA_LOGGER = "mandi_db.replicas"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    """A primary and a streaming replica of it, of this module's own."""
    with running_local_postgres(tmp_path_factory.mktemp("replicated"), replica=True) as started:
        yield started


@pytest.fixture(scope="module")
def notes_database(cluster: LocalPostgres) -> Iterator[TestDatabase]:
    """A migrated database on the primary, with its owner and application roles."""
    with fresh_database(cluster.admin_url, "read_replica") as created:
        upgrade(alembic_config(MIGRATIONS, created.owner_url))
        yield created


@pytest.fixture
def service() -> str:
    """A service name of this test's own, so its metric samples are its own too."""
    return f"replica-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def primary(notes_database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_database_engine(notes_database.app_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def replica(
    cluster: LocalPostgres, notes_database: TestDatabase, service: str
) -> AsyncIterator[ReadReplica]:
    """The replica as the service's application role reaches it; running, caught up, checked."""
    cluster.start_replica()  # a no-op unless a test left it stopped
    await cluster.wait_for_replay()
    engine = create_database_engine(cluster.on_replica(notes_database.app_url), connect_timeout=2)
    watched = ReadReplica(engine, service=service, max_lag_seconds=60, check_every_seconds=0.2)
    try:
        await watched.check()
        yield watched
    finally:
        await engine.dispose()


@pytest.fixture
def writes(primary: AsyncEngine) -> async_sessionmaker[TenantAwareSession]:
    return create_session_factory(primary)


@pytest.fixture
def reads(primary: AsyncEngine, replica: ReadReplica) -> ReadSessions:
    return ReadSessions(primary, replica)


async def _add_note(sessions: async_sessionmaker[TenantAwareSession], tenant: uuid.UUID) -> str:
    body = f"note {uuid.uuid4().hex[:8]}"
    async with UnitOfWork(sessions, tenant_id=tenant) as uow:
        await uow.session.exec(
            text("INSERT INTO notes (id, tenant_id, body) VALUES (:id, :tenant, :body)"),
            params={"id": uuid.uuid4(), "tenant": tenant, "body": body},
        )
        await uow.commit()
    return body


async def _list_notes(
    sessions: async_sessionmaker[TenantAwareSession], tenant: uuid.UUID
) -> tuple[bool, set[str]]:
    """Whether the list was read on a standby, and the bodies it listed."""
    async with UnitOfWork(sessions, tenant_id=tenant) as uow:
        on_standby = (await uow.session.exec(text("SELECT pg_is_in_recovery()"))).one()[0]
        rows = await uow.session.exec(text("SELECT body FROM notes"))
        return bool(on_standby), {row.body for row in rows}


@asynccontextmanager
async def _replay_paused(cluster: LocalPostgres) -> AsyncIterator[None]:
    """The replica receives WAL but applies none of it until the block ends."""
    admin = await asyncpg.connect(cluster.replica_admin_url)
    try:
        await admin.execute("SELECT pg_wal_replay_pause()")
        yield
    finally:
        await admin.execute("SELECT pg_wal_replay_resume()")
        await admin.close()


async def _received_everything(cluster: LocalPostgres) -> None:
    primary = await asyncpg.connect(cluster.admin_url)
    replica = await asyncpg.connect(cluster.replica_admin_url)
    try:
        written = await primary.fetchval("SELECT pg_current_wal_lsn()")
        received = "SELECT pg_last_wal_receive_lsn() >= $1::pg_lsn"
        await eventually(lambda: replica.fetchval(received, written), timeout=10)
    finally:
        await primary.close()
        await replica.close()


def _sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def _lag(service: str) -> float:
    """The lag metric's value for the service; NaN when none was reported yet."""
    value = _sample("mandi_db_replica_lag_seconds", service=service)
    return math.nan if value is None else value


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == REPLICA_LOGGER and record.levelno == logging.WARNING
    ]


async def test_a_list_is_served_by_the_replica_as_the_tenant_sees_it(
    cluster: LocalPostgres,
    writes: async_sessionmaker[TenantAwareSession],
    reads: ReadSessions,
) -> None:
    mine = await _add_note(writes, TENANT_A)
    others = await _add_note(writes, TENANT_B)
    await cluster.wait_for_replay()

    async with _replay_paused(cluster):
        later = await _add_note(writes, TENANT_A)  # committed on the primary, not yet replayed
        on_standby, listed = await _list_notes(reads, TENANT_A)
        assert on_standby
        assert mine in listed
        assert later not in listed, "the list came from the primary"
        assert others not in listed, "row-level security must hold on the replica too"
        assert later in (await _list_notes(writes, TENANT_A))[1]

    await cluster.wait_for_replay()
    assert later in (await _list_notes(reads, TENANT_A))[1]


async def test_replica_lag_is_a_metric_measured_on_the_replica(
    cluster: LocalPostgres,
    notes_database: TestDatabase,
    writes: async_sessionmaker[TenantAwareSession],
    service: str,
) -> None:
    database = service_database(
        notes_database.app_url,
        password=None,  # in the test's URL
        service=service,
        read_url=cluster.on_replica(notes_database.app_url),
        max_lag_seconds=60,
        check_every_seconds=0.1,
    )
    async with database:  # measures the lag in the background
        await eventually(lambda: not math.isnan(_lag(service)), timeout=5)
        assert _lag(service) < 1.0

        async with _replay_paused(cluster):
            await _add_note(writes, TENANT_A)
            await _received_everything(cluster)
            await eventually(lambda: _lag(service) >= 1.0, timeout=10)
            assert _sample("mandi_db_replica_serving_reads", service=service) == 1.0

        await eventually(lambda: _lag(service) < 1.0, timeout=10)


async def test_a_replica_too_far_behind_sends_reads_to_the_primary_with_a_warning(
    cluster: LocalPostgres,
    primary: AsyncEngine,
    notes_database: TestDatabase,
    writes: async_sessionmaker[TenantAwareSession],
    service: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = create_database_engine(cluster.on_replica(notes_database.app_url))
    replica = ReadReplica(engine, service=service, max_lag_seconds=0.5)
    reads = ReadSessions(primary, replica)
    try:
        async with _replay_paused(cluster):
            later = await _add_note(writes, TENANT_A)
            await _received_everything(cluster)
            await asyncio.sleep(0.6)
            await replica.check()
            assert replica.serving, "one measure alone must not send reads away"
            await replica.check()

            assert not replica.serving
            on_standby, listed = await _list_notes(reads, TENANT_A)
            assert not on_standby
            assert later in listed
            [warning] = _warnings(caplog)
            assert warning.startswith(f"reads of {service} go to the primary: its replica is ")
            assert "behind (more than 0.5 s)" in warning
            assert _sample("mandi_db_read_fallbacks_total", service=service, reason="behind") == 1
            assert _sample("mandi_db_replica_serving_reads", service=service) == 0

        await cluster.wait_for_replay()
        await replica.check()
        assert replica.serving
        assert (await _list_notes(reads, TENANT_A))[0]
    finally:
        await engine.dispose()


async def test_with_the_replica_down_reads_fall_back_to_the_primary_with_a_warning(
    cluster: LocalPostgres,
    writes: async_sessionmaker[TenantAwareSession],
    reads: ReadSessions,
    replica: ReadReplica,
    service: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert (await _list_notes(reads, TENANT_A))[0], "the replica served reads before it stopped"
    written = await _add_note(writes, TENANT_A)
    cluster.stop_replica()
    try:
        # No health check ran since: the read itself finds the replica away.
        for _ in range(2):
            on_standby, listed = await _list_notes(reads, TENANT_A)
            assert not on_standby
            assert written in listed
        [warning] = _warnings(caplog)  # one line for the change, not one per read
        assert warning.startswith(f"reads of {service} go to the primary: its replica refused")
        assert _sample("mandi_db_read_fallbacks_total", service=service, reason="unavailable") == 2
        await replica.check()
        assert math.isnan(_lag(service)), "a replica away has no known lag"
    finally:
        cluster.start_replica()

    await replica.check()
    assert replica.serving
    assert (await _list_notes(reads, TENANT_A))[0]


async def test_a_write_never_goes_to_the_replica(
    cluster: LocalPostgres,
    writes: async_sessionmaker[TenantAwareSession],
    reads: ReadSessions,
    replica: ReadReplica,
) -> None:
    async with UnitOfWork(writes, tenant_id=TENANT_A) as uow:
        assert not (await uow.session.exec(text("SELECT pg_is_in_recovery()"))).one()[0]
    written = await _add_note(writes, TENANT_A)
    await cluster.wait_for_replay()
    assert written in (await _list_notes(reads, TENANT_A))[1]

    # A read unit of work refuses to write, on the replica and on the primary alike.
    for serving in (True, False):
        if not serving:
            replica.refused(ConnectionRefusedError())
        with pytest.raises(DBAPIError, match="read-only transaction"):
            await _add_note(reads, TENANT_A)


async def test_without_a_replica_reads_go_to_the_primary_read_only(
    primary: AsyncEngine, writes: async_sessionmaker[TenantAwareSession]
) -> None:
    reads = ReadSessions(primary)
    written = await _add_note(writes, TENANT_A)

    on_standby, listed = await _list_notes(reads, TENANT_A)

    assert not on_standby
    assert written in listed
    with pytest.raises(DBAPIError, match="read-only transaction"):
        await _add_note(reads, TENANT_A)
