"""The async engine and session factory every service builds once, in its bootstrap."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from mandi_db.tenancy import TenantAwareSession, TenantConnection

__all__ = ["create_database_engine", "create_session_factory", "database_url"]


def database_url(url: str, *, password: str | None = None) -> URL:
    """A PostgreSQL URL for asyncpg, with the password (kept out of URLs in settings) set."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    if password is not None:
        parsed = parsed.set(password=password)
    return parsed


def create_database_engine(
    url: str,
    *,
    password: str | None = None,
    application_name: str = "mandi",
    pool_size: int = 10,
    max_overflow: int = 10,
    pre_ping: bool = False,
    connect_timeout: float | None = None,
) -> AsyncEngine:
    """An asyncpg engine whose connections name the service in pg_stat_activity.

    Pre-ping costs three round trips per checkout (BEGIN, ping, ROLLBACK), more than a typical
    use case's own statements, so it is off. Instead a checkout refuses a connection the server
    has already closed (a restart closes every one): asyncpg notices that on its own, so the
    check costs no round trip, and the pool hands out a new connection. Statement parameters
    are never put in an error's message, so no log line can carry them. `connect_timeout` bounds
    opening a connection (asyncpg waits 60 s by default).
    """
    connect_args: dict[str, Any] = {
        "server_settings": {"application_name": application_name},
        # Sets a transaction's tenant in the round trip of its BEGIN (see tenancy.py).
        "connection_class": TenantConnection,
    }
    if connect_timeout is not None:
        connect_args["timeout"] = connect_timeout
    engine = create_async_engine(
        database_url(url, password=password),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        hide_parameters=True,
        connect_args=connect_args,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connections)
    return engine


def _refuse_closed_connections(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    # Raising DisconnectionError makes the pool discard this one and check out another.
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("the server closed this pooled connection")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[TenantAwareSession]:
    """Sessions that set the tenant for row-level security at the start of each transaction."""
    return async_sessionmaker(engine, class_=TenantAwareSession, expire_on_commit=False)
