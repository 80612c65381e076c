"""One leader per cluster for periodic jobs: the process that holds a PostgreSQL advisory lock.

Every replica of a service runs the same job loops; before each round a loop asks whether its
process leads, and only the leader works. The lock is a session-level advisory lock on a
connection of its own, so it is held while that connection lives: if the leader dies or loses
its database, PostgreSQL releases the lock and another replica takes it at its next round.
"""

from __future__ import annotations

import asyncpg

__all__ = ["PERIODIC_JOBS", "LeaderLock"]

# Two-key advisory locks (class, id): "MAND", 2 — the outbox relay's is 1.
PERIODIC_JOBS = (0x4D414E44, 2)


class LeaderLock:
    """Whether this process leads its cluster's periodic jobs (one lock per database)."""

    def __init__(
        self, dsn: str, *, password: str | None, key: tuple[int, int] = PERIODIC_JOBS
    ) -> None:
        self._dsn = dsn
        self._password = password
        self._key = key
        self._connection: asyncpg.Connection | None = None
        self._leading = False

    async def holds(self) -> bool:
        """Whether this process leads now; it takes the lead when no other process holds it."""
        if self._connection is None or self._connection.is_closed():
            self._leading = False
            self._connection = await self._connect()
        if self._connection is not None and not self._leading:
            self._leading = bool(
                await self._connection.fetchval("SELECT pg_try_advisory_lock($1, $2)", *self._key)
            )
        return self._leading

    async def close(self) -> None:
        """Gives the lead up (closing the connection releases the lock)."""
        connection, self._connection, self._leading = self._connection, None, False
        if connection is not None and not connection.is_closed():
            await connection.close()

    async def _connect(self) -> asyncpg.Connection | None:
        try:
            return await asyncpg.connect(self._dsn, password=self._password)
        except (OSError, asyncpg.PostgresError):
            return None  # the database is away: nobody here leads until it is back
