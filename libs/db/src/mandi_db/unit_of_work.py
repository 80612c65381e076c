"""One database transaction as a unit of work: commit explicitly, roll back on anything else."""

from __future__ import annotations

from types import TracebackType
from typing import Self
from uuid import UUID

from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db.tenancy import TenantAwareSession
from mandi_observability import current_context

__all__ = ["UnitOfWork"]


class UnitOfWork:
    """A session scoped to one use case; the tenant comes from the argument or the request context.

    Services subclass it to add their repositories and their outbox, all on `self.session`, so a
    state change and the events it emits commit together or not at all.
    """

    session: TenantAwareSession

    def __init__(
        self,
        sessions: async_sessionmaker[TenantAwareSession],
        *,
        tenant_id: UUID | str | None = None,
    ) -> None:
        self._sessions = sessions
        self._tenant_id = tenant_id

    @property
    def tenant_id(self) -> str | None:
        """The tenant every transaction of this unit of work runs as, if any."""
        tenant = self._tenant_id or current_context().tenant_id
        return str(tenant) if tenant is not None else None

    async def __aenter__(self) -> Self:
        self.session = self._sessions(info={"tenant_id": self.tenant_id})
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
        """Commits the transaction; the next statement begins a new one with the same tenant."""
        await self.session.commit()

    async def rollback(self) -> None:
        """Discards everything since the last commit."""
        await self.session.rollback()
