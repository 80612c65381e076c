"""A fresh PostgreSQL database per test module, with its own owner and application roles."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import asyncpg
from sqlalchemy.engine import make_url

from mandi_db import DatabaseSpec, drop_database, provision_database

__all__ = ["TestDatabase", "fresh_database"]


@dataclass(frozen=True)
class TestDatabase:
    """URLs (with passwords) of a throwaway database: owner for migrations, app role under RLS."""

    __test__ = False  # not a test class, despite the name

    name: str
    owner_url: str
    app_url: str
    owner_role: str
    app_role: str


def _role_url(admin_url: str, role: str, password: str, database: str) -> str:
    url = make_url(admin_url).set(username=role, password=password, database=database)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[-24:]


async def _drop_roles(admin_url: str, *roles: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        for role in roles:
            await admin.execute(f"DROP ROLE IF EXISTS {role}")
    finally:
        await admin.close()


@contextmanager
def fresh_database(
    admin_url: str, label: str, extensions: tuple[str, ...] = ()
) -> Iterator[TestDatabase]:
    """Creates a database (with `extensions`) and its two roles, and drops all three after."""
    name = f"t_{_slug(label)}_{secrets.token_hex(3)}"
    spec = DatabaseSpec(
        name=name,
        owner_role=f"{name}_owner",
        owner_password=secrets.token_urlsafe(16),
        app_role=f"{name}_app",
        app_password=secrets.token_urlsafe(16),
        extensions=extensions,
    )
    asyncio.run(provision_database(admin_url, spec))
    try:
        yield TestDatabase(
            name=name,
            owner_url=_role_url(admin_url, spec.owner_role, spec.owner_password, name),
            app_url=_role_url(admin_url, spec.app_role, spec.app_password, name),
            owner_role=spec.owner_role,
            app_role=spec.app_role,
        )
    finally:
        asyncio.run(drop_database(admin_url, name))
        asyncio.run(_drop_roles(admin_url, spec.app_role, spec.owner_role))


T = TypeVar("T")


async def as_tenant(
    url: str, tenant_id: UUID, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    """Runs `work` on a plain asyncpg connection in one transaction of the tenant's, as
    row-level security sees a service's: to seed rows in bulk or EXPLAIN a service's query."""
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            await connection.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
            return await work(connection)
    finally:
        await connection.close()
