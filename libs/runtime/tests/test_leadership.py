"""On the real PostgreSQL: one leader per database, and another takes over when it goes."""

from __future__ import annotations

import asyncpg
import pytest

from mandi_runtime import LeaderLock
from mandi_testing import TestDatabase

pytestmark = pytest.mark.integration


async def test_one_process_leads_and_another_takes_over_when_it_goes(
    database: TestDatabase,
) -> None:
    first, second = (LeaderLock(database.app_url, password=None) for _ in range(2))
    try:
        assert await first.holds()
        assert not await second.holds()
        assert await first.holds()  # still leading, round after round
        await first.close()
        assert await second.holds()
        assert not await first.holds()
    finally:
        await first.close()
        await second.close()


async def test_a_leader_that_loses_its_connection_loses_the_lead(
    database: TestDatabase, postgres_admin_url: str
) -> None:
    first, second = (LeaderLock(database.app_url, password=None) for _ in range(2))
    try:
        assert await first.holds()
        admin = await asyncpg.connect(postgres_admin_url)
        try:  # what a restart or a network cut does to the leader's session
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE locktype = 'advisory' AND classid = $1 AND objid = $2",
                0x4D414E44,
                2,
            )
        finally:
            await admin.close()
        assert await second.holds()
        assert not await first.holds()  # it reconnects, and finds the lead taken
    finally:
        await first.close()
        await second.close()


async def test_nobody_leads_while_the_database_is_away() -> None:
    away = LeaderLock("postgresql://mandi@127.0.0.1:1/mandi", password=None)
    assert not await away.holds()
    await away.close()
