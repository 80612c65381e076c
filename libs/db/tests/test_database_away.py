"""On the real PostgreSQL: a connection the server closed, a database away, and what errors say."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from mandi_db import create_database_engine, database_unavailable
from mandi_observability import configure_logging, get_logger
from mandi_testing import TestDatabase
from mandi_testing.processes import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    built = create_database_engine(database.app_url, pool_size=1, max_overflow=0)
    try:
        yield built
    finally:
        await built.dispose()


async def _backend(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT pg_backend_pid()")))


async def test_a_pooled_connection_the_server_closed_is_replaced_without_an_error(
    engine: AsyncEngine, postgres_admin_url: str
) -> None:
    first = await _backend(engine)
    await _terminate_as_superuser(postgres_admin_url, first)
    await asyncio.sleep(0.2)  # asyncpg notices the closed socket on its own
    assert await _backend(engine) != first


async def _terminate_as_superuser(admin_url: str, pid: int) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_connection_lost_mid_statement_reads_as_the_database_away(
    engine: AsyncEngine, postgres_admin_url: str
) -> None:
    pid = await _backend(engine)

    async def sleep_on_it() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_sleep(5)"))

    statement = asyncio.create_task(sleep_on_it())
    await asyncio.sleep(0.3)
    await _terminate_as_superuser(postgres_admin_url, pid)
    with pytest.raises(DBAPIError) as lost:
        await statement
    assert database_unavailable(lost.value)


async def test_a_database_nobody_listens_for_reads_as_away() -> None:
    nowhere = create_database_engine(f"postgresql://mandi@127.0.0.1:{free_port()}/mandi")
    try:
        with pytest.raises(ConnectionRefusedError) as refused:
            async with nowhere.connect():
                pass
    finally:
        await nowhere.dispose()
    assert database_unavailable(refused.value)


def test_a_pooled_connection_left_failed_by_a_restart_reads_as_the_database_away() -> None:
    # What the next statement on such a connection raised in a restart under load (CI).
    failed = asyncpg.InternalClientError(
        'cannot switch to state 13; protocol is in the "failed" state'
    )

    assert database_unavailable(failed)


@pytest.mark.parametrize(
    "statement",
    ["SELECT CAST(:value AS integer)", "SELECT * FROM no_such_table WHERE x = :value"],
)
async def test_a_failing_statement_is_ours_and_its_message_holds_no_parameter(
    engine: AsyncEngine, statement: str
) -> None:
    with pytest.raises(DBAPIError) as failed:
        async with engine.connect() as connection:
            await connection.execute(text(statement), {"value": "mandi_live_secret-hash"})
    assert not database_unavailable(failed.value)
    assert "[SQL parameters hidden" in str(failed.value)


@pytest.fixture
def json_logs() -> Iterator[None]:
    """The service's logging for one test; the test runner's own afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging("db-tests")
    yield
    root.handlers, root.level = saved_handlers, saved_level
    structlog.reset_defaults()


@pytest.mark.usefixtures("json_logs")
async def test_no_log_line_of_a_failed_statement_holds_its_values(
    engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        async with engine.connect() as connection:
            await connection.execute(
                text("SELECT CAST(:value AS integer)"), {"value": "mandi_live_secret-hash"}
            )
    except DBAPIError:
        get_logger("db-tests").exception("the statement failed")
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["event"] == "the statement failed"
    assert "DataError" in line["exception"]  # what happened, and where, is kept
    assert "test_database_away.py" in line["exception"]
    assert "secret-hash" not in json.dumps(line)
