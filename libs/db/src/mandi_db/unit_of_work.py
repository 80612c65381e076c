"""One database transaction as a unit of work: commit explicitly, roll back on anything else.

A unit of work runs as one tenant, named by the caller from a verified principal or a message's
envelope; it never reads the tenant from ambient request context, which a header could have
set. Tables that hold no tenant's data (a directory of tenants, signing keys) are reached
through a TenantlessUnitOfWork instead: it sets no tenant, so every row-level security policy
stays closed to it.

A unit of work given `ReadSessions` in place of the primary's sessions reads from the replica
while it serves reads, in a READ ONLY transaction (see mandi_db.replicas); the tenant holds the
same way there, since `set_config` works on a hot standby.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self
from uuid import UUID

from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db.replicas import open_session
from mandi_db.tenancy import TenantAwareSession

__all__ = ["TenantRequired", "TenantlessUnitOfWork", "Transaction", "UnitOfWork"]


class TenantRequired(TypeError):
    """A tenant-scoped unit of work was asked for without a tenant."""


class Transaction:
    """A session for one use case: begun on entry, rolled back on exit unless committed."""

    session: TenantAwareSession

    def __init__(self, sessions: async_sessionmaker[TenantAwareSession]) -> None:
        self._sessions = sessions

    def _session_info(self) -> dict[str, object]:
        return {"tenant_id": None}

    async def __aenter__(self) -> Self:
        self.session = await open_session(self._sessions, self._session_info())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.session.rollback()  # a no-op after commit; undoes what was not committed
        finally:
            await self.session.close()

    async def commit(self) -> None:
        """Commits the transaction; the next statement begins a new one in the same context."""
        await self.session.commit()

    async def rollback(self) -> None:
        """Discards everything since the last commit."""
        await self.session.rollback()


class UnitOfWork(Transaction):
    """A transaction of one tenant's: row-level security shows it that tenant's rows only.

    Services subclass it to add their repositories and their outbox, all on `self.session`, so a
    state change and the events it emits commit together or not at all.
    """

    def __init__(
        self, sessions: async_sessionmaker[TenantAwareSession], *, tenant_id: UUID
    ) -> None:
        if not isinstance(tenant_id, UUID):
            raise TenantRequired(f"a unit of work runs as one tenant, not {tenant_id!r}")
        super().__init__(sessions)
        self._tenant_id = tenant_id

    @property
    def tenant_id(self) -> UUID:
        """The tenant every transaction of this unit of work runs as."""
        return self._tenant_id

    def _session_info(self) -> dict[str, object]:
        return {"tenant_id": str(self._tenant_id)}


class TenantlessUnitOfWork(Transaction):
    """A transaction with no tenant, for tables that hold no tenant's data.

    No tenant is set, so a table under row-level security shows it nothing and refuses its
    writes; services give it repositories of tenant-less tables only.
    """
