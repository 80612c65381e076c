"""A service's database in one object: the primary for writes, and reads that may use a replica.

A service builds it once from its settings with `service_database(...)` and enters it with
`async with` for its lifetime (that watches the replica and disposes of both engines at the
end). Units of work that write take `database.sessions`; those of queries that may read
slightly stale data take `database.reads` in their place.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from mandi_db.engine import create_database_engine, create_session_factory
from mandi_db.replicas import ReadReplica, ReadSessions
from mandi_db.tenancy import TenantAwareSession

__all__ = ["ServiceDatabase", "service_database"]

# A replica that does not answer within this long is taken for away: reads go to the primary.
_REPLICA_CONNECT_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class ServiceDatabase:
    """The primary's engine and sessions (every writing transaction) and the read sessions."""

    engine: AsyncEngine
    sessions: async_sessionmaker[TenantAwareSession]
    reads: ReadSessions

    @property
    def replica(self) -> ReadReplica | None:
        """The read replica, when the service has one."""
        return self.reads.replica

    async def __aenter__(self) -> Self:
        if self.replica is not None:
            await self.replica.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self.replica is not None:
                await self.replica.__aexit__(exc_type, exc, traceback)
        finally:
            await self.engine.dispose()


def service_database(
    url: str,
    *,
    password: str | None,
    service: str,
    read_url: str | None = None,
    max_lag_seconds: float = 5.0,
    check_every_seconds: float = 1.0,
    pool_size: int = 10,
    max_overflow: int = 10,
) -> ServiceDatabase:
    """Engines and session factories for one service; nothing connects until it is used.

    The replica signs in with the primary's password: the application role replicates with it.
    """
    engine = create_database_engine(
        url,
        password=password,
        application_name=f"mandi-{service}",
        pool_size=pool_size,
        max_overflow=max_overflow,
    )
    replica = None
    if read_url is not None:
        replica_engine = create_database_engine(
            read_url,
            password=password,
            application_name=f"mandi-{service}",
            pool_size=pool_size,
            max_overflow=max_overflow,
            connect_timeout=_REPLICA_CONNECT_TIMEOUT_SECONDS,
        )
        replica = ReadReplica(
            replica_engine,
            service=service,
            max_lag_seconds=max_lag_seconds,
            check_every_seconds=check_every_seconds,
        )
    return ServiceDatabase(engine, create_session_factory(engine), ReadSessions(engine, replica))
