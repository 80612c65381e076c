"""The tenant of a transaction, given to PostgreSQL so row-level security policies can use it.

`set_config('app.tenant_id', …, true)` is transaction-local: it works behind PgBouncer and cannot
leak to the next user of a pooled connection. Policies read it with
`current_setting('app.tenant_id', true)`, which is NULL or '' when unset, so they fail closed.

It travels in the same round trip as the transaction's BEGIN: a session's transaction names its
tenant to its connection (`TenantConnection.begin_as`), and the connection sends
`BEGIN; SELECT set_config(…)` as one simple query. A read then costs its own statements plus
BEGIN and ROLLBACK, not one more round trip for the tenant. A connection of another class (an
engine not made by `create_database_engine`) gets the tenant by a statement of its own, as before.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import Pool
from sqlalchemy.util import await_only
from sqlmodel import Session as SQLModelSession
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["TENANT_SETTING", "TenantAwareSession", "TenantConnection"]

TENANT_SETTING = "app.tenant_id"
_SET_TENANT = text(f"SELECT set_config('{TENANT_SETTING}', :tenant_id, true)")
_BEGIN = "BEGIN"


class TenantConnection(asyncpg.Connection):
    """An asyncpg connection that sets the next transaction's tenant together with its BEGIN."""

    _tenant_at_begin: str | None = None

    def begin_as(self, tenant_id: str | None) -> None:
        """The tenant the next BEGIN sets (None: the next transaction has none)."""
        # Written into the query as a literal, so only a UUID's canonical text is taken.
        self._tenant_at_begin = str(UUID(tenant_id)) if tenant_id is not None else None

    async def execute(
        self,
        query: str,
        *args: Any,
        timeout: float | None = None,  # noqa: ASYNC109 - asyncpg's signature, overridden
    ) -> str:
        """asyncpg's execute; a parameterless BEGIN also sets the tenant it was told of."""
        tenant_id = self._tenant_at_begin
        if tenant_id is not None and not args and query.startswith(_BEGIN):
            self._tenant_at_begin = None
            query = f"{query} SELECT set_config('{TENANT_SETTING}', '{tenant_id}', true);"
        return await super().execute(query, *args, timeout=timeout)


class _TenantAwareSyncSession(SQLModelSession):
    """The synchronous session under TenantAwareSession; carries the tenant in `info`."""


class TenantAwareSession(AsyncSession):
    """A SQLModel async session; `info["tenant_id"]` is applied to every transaction it begins."""

    sync_session_class = _TenantAwareSyncSession


@event.listens_for(_TenantAwareSyncSession, "after_begin")
def _apply_tenant(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> Any:
    tenant_id = session.info.get("tenant_id")
    driver = _tenant_connection(connection.connection.driver_connection)
    if driver is not None:
        # Told None too, so a tenantless transaction never inherits a tenant.
        driver.begin_as(None if tenant_id is None else str(tenant_id))
        _begin_now(connection)
    elif tenant_id is not None:
        connection.execute(_SET_TENANT, {"tenant_id": str(tenant_id)})


def _begin_now(connection: Connection) -> None:
    # The driver would begin at the transaction's first statement; it begins now, as it did
    # when the tenant was a statement of its own, so a session asked for its connection has
    # begun (a read on a replica learns there that the replica refuses, see replicas.py).
    adapter: Any = connection.connection.dbapi_connection
    if adapter._transaction is None and adapter.isolation_level != "autocommit":  # noqa: SLF001
        try:
            await_only(adapter._start_transaction())  # noqa: SLF001 - the driver's own begin
        except Exception as error:
            # As a failed statement would be: wrapped in SQLAlchemy's DBAPIError.
            raise DBAPIError.instance(_BEGIN, None, error, Exception) from error


@event.listens_for(Pool, "checkout")
@event.listens_for(Pool, "checkin")
def _forget_tenant(dbapi_connection: Any, _record: Any, _proxy: Any = None) -> None:
    # A tenant named for a transaction that never sent a statement is not the next user's.
    driver = _tenant_connection(getattr(dbapi_connection, "driver_connection", None))
    if driver is not None:
        driver.begin_as(None)


def _tenant_connection(driver: object) -> TenantConnection | None:
    # Not isinstance: asyncpg's metaclass makes every asyncpg connection an instance of any
    # Connection subclass.
    return driver if issubclass(type(driver), TenantConnection) else None  # type: ignore[return-value]
