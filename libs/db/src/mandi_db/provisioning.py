"""Creates a service's database with an owner role (migrations) and an application role (the app).

The application role owns nothing, so row-level security binds it; it gets data rights on what
the owner creates through default privileges. Extensions a service needs that only a superuser
may create (PostGIS) are created here, once, rather than by its migrations, which run as the
owner. Re-running changes nothing but the passwords.

`python -m mandi_db.service_databases` provisions every service's database this way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import asyncpg
from sqlalchemy.engine import make_url

__all__ = ["DatabaseSpec", "drop_database", "provision_database"]

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class DatabaseSpec:
    """A database with its two roles and their passwords."""

    name: str
    owner_role: str
    owner_password: str
    app_role: str
    app_password: str
    extensions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for identifier in (self.name, self.owner_role, self.app_role, *self.extensions):
            if not _IDENTIFIER.match(identifier):
                raise ValueError(f"not a plain lower-case identifier: {identifier!r}")


# Row-level security lets an index serve a condition only when the condition is leakproof (it
# must not run on rows the policy hides before the policy does). PostGIS marks none of its
# functions so, and a radius search under RLS would read every row of the tenant instead of
# using the GiST index. The radius test and its bounding-box overlap compare a row's point with
# a given one and raise on nothing a row holds (a column has one SRID), so they are declared
# leakproof, as only a superuser may.
_EXTENSION_SETUP = {
    "postgis": [
        "ALTER FUNCTION geography_overlaps(geography, geography) LEAKPROOF",
        "ALTER FUNCTION st_dwithin(geography, geography, double precision, boolean) LEAKPROOF",
    ],
}


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def _ensure_role(admin: asyncpg.Connection, role: str, password: str) -> None:
    exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    verb = "ALTER" if exists else "CREATE"
    await admin.execute(
        f"{verb} ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS "
        f"PASSWORD {_literal(password)}"
    )


async def _ensure_database(admin: asyncpg.Connection, spec: DatabaseSpec) -> None:
    if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", spec.name):
        await admin.execute(f"CREATE DATABASE {spec.name} OWNER {spec.owner_role}")
    await admin.execute(f"REVOKE ALL ON DATABASE {spec.name} FROM PUBLIC")
    await admin.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {spec.name} TO {spec.app_role}")


async def _grant_app_rights(database: asyncpg.Connection, spec: DatabaseSpec) -> None:
    owner, app = spec.owner_role, spec.app_role
    await database.execute(f"""
        ALTER SCHEMA public OWNER TO {owner};
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
        GRANT USAGE ON SCHEMA public TO {app};
        ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app};
        ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public
            GRANT USAGE, SELECT ON SEQUENCES TO {app};
    """)


async def provision_database(admin_dsn: str, spec: DatabaseSpec) -> None:
    """Creates or updates the roles and the database; connects with a superuser's URL."""
    admin = await asyncpg.connect(admin_dsn)
    try:
        await _ensure_role(admin, spec.owner_role, spec.owner_password)
        await _ensure_role(admin, spec.app_role, spec.app_password)
        await _ensure_database(admin, spec)
    finally:
        await admin.close()
    database = await asyncpg.connect(_with_database(admin_dsn, spec.name))
    try:
        await _grant_app_rights(database, spec)
        for extension in spec.extensions:
            await database.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
            for statement in _EXTENSION_SETUP.get(extension, ()):
                await database.execute(statement)
    finally:
        await database.close()


async def drop_database(admin_dsn: str, name: str) -> None:
    """Drops a database even while connections remain (tests clean up with it)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain lower-case identifier: {name!r}")
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


def _with_database(dsn: str, database: str) -> str:
    return make_url(dsn).set(database=database).render_as_string(hide_password=False)
