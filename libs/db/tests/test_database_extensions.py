"""Extensions only a superuser may create are made by provisioning, for the app role to use."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from mandi_testing import TestDatabase, fresh_database

pytestmark = pytest.mark.integration

DATABASE_EXTENSIONS = ("postgis",)  # the `database` fixture provisions it
_NEARBY = """
    SELECT ST_DWithin(
        ST_SetSRID(ST_MakePoint(70.80, 22.30), 4326)::geography,
        ST_SetSRID(ST_MakePoint(70.81, 22.31), 4326)::geography,
        $1
    )
"""


async def _fetchval(url: str, query: str, *args: object) -> object:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


async def test_the_app_role_measures_distances_on_the_globe_with_postgis(
    database: TestDatabase,
) -> None:
    assert await _fetchval(database.app_url, _NEARBY, 2000.0) is True  # about 1.5 km apart
    assert await _fetchval(database.app_url, _NEARBY, 1000.0) is False


def test_a_database_gets_no_extension_it_did_not_ask_for(postgres_admin_url: str) -> None:
    with fresh_database(postgres_admin_url, "no-extensions") as plain:
        found = asyncio.run(
            _fetchval(
                plain.owner_url, "SELECT count(*) FROM pg_extension WHERE extname = 'postgis'"
            )
        )
    assert found == 0


async def test_the_owner_role_may_not_create_postgis_itself(database: TestDatabase) -> None:
    # Why provisioning creates it: migrations run as the owner, which is no superuser.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await _fetchval(database.owner_url, "CREATE EXTENSION IF NOT EXISTS postgis_topology")
