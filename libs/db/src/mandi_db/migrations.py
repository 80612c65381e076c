"""Alembic for each service: one `env.py` line, and upgrade/downgrade callable from code.

Migrations run as the database's owner role; the application role never changes the schema.
The URL (with its password) travels in the Alembic config's attributes, not in an ini file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from mandi_db.engine import database_url

__all__ = ["alembic_config", "downgrade", "run_migrations", "upgrade"]

_URL_ATTRIBUTE = "mandi_database_url"


def alembic_config(script_location: str | Path, url: str, *, password: str | None = None) -> Config:
    """An Alembic config for a service's migrations folder and its owner role's URL."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes[_URL_ATTRIBUTE] = database_url(url, password=password)
    return config


def upgrade(config: Config, revision: str = "head") -> None:
    """Upgrades to `revision`; call through asyncio.to_thread from async code."""
    command.upgrade(config, revision)


def downgrade(config: Config, revision: str = "base") -> None:
    """Downgrades to `revision`; call through asyncio.to_thread from async code."""
    command.downgrade(config, revision)


def run_migrations(target_metadata: MetaData | None) -> None:
    """The body of a service's migrations/env.py."""
    url = context.config.attributes[_URL_ATTRIBUTE]
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, target_metadata))


def _migrate(connection: Connection, target_metadata: MetaData | None) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: object, target_metadata: MetaData | None) -> None:
    engine = create_async_engine(url, poolclass=NullPool)  # type: ignore[arg-type]
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate, target_metadata)
    finally:
        await engine.dispose()
