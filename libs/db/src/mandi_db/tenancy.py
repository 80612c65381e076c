"""The tenant of a transaction, given to PostgreSQL so row-level security policies can use it.

`set_config('app.tenant_id', …, true)` is transaction-local: it works behind PgBouncer and cannot
leak to the next user of a pooled connection. Policies read it with
`current_setting('app.tenant_id', true)`, which is NULL or '' when unset, so they fail closed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import Session as SQLModelSession
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["TENANT_SETTING", "TenantAwareSession"]

TENANT_SETTING = "app.tenant_id"
_SET_TENANT = text(f"SELECT set_config('{TENANT_SETTING}', :tenant_id, true)")


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
    if tenant_id is not None:
        connection.execute(_SET_TENANT, {"tenant_id": str(tenant_id)})
