"""Reads that may be slightly stale go to a streaming replica while it is up and close behind.

A service gives `ReadSessions` to the units of work of its lists, reports and other queries that
tolerate a little staleness; everything in a transaction that writes keeps the primary's
sessions. Every read transaction is READ ONLY, on the replica or not, so a use case that writes
by mistake fails the same way whether the replica is up or not.

Where a read goes is decided without a check per request: a `ReadReplica` keeps a health state,
measured in the background (can it be reached, how far behind is its replay) and updated at once
when a read cannot begin on it. A read unit of work begins its transaction on entry, on the
replica, so a replica that refuses sends that very read to the primary before the use case ran
anything. A change of state is logged once; every read the primary serves instead is counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from mandi_db.tenancy import TenantAwareSession
from mandi_observability.metrics import READ_FALLBACKS, REPLICA_LAG, REPLICA_SERVING_READS

__all__ = ["BEHIND", "UNAVAILABLE", "ReadReplica", "ReadSessions", "open_session"]

_log = logging.getLogger(__name__)

# Why reads avoid the replica: the `reason` label of mandi_db_read_fallbacks_total.
UNAVAILABLE = "unavailable"
BEHIND = "behind"
# A replica too far behind is avoided once this many measures in a row say so (see `check`).
_BEHIND_MEASURES = 2

# Anything that keeps a transaction from beginning on the replica; nothing has run yet then, so
# the read can go to the primary whatever the cause.
_CANNOT_BEGIN = (SQLAlchemyError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)

# Seconds the standby's replay is behind the primary, measured on the standby. While it streams,
# a standby that has replayed all it received is current however old its last commit is (an idle
# primary sends nothing); otherwise it is the age of the last commit it replayed. NULL (nothing
# replayed since it started, and not streaming) means unknown.
_LAG = text("""
    SELECT CASE
        WHEN NOT pg_is_in_recovery() THEN 0.0
        WHEN (SELECT pid FROM pg_stat_wal_receiver) IS NOT NULL
            AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
        ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
    END
""")


class ReadReplica:
    """A streaming replica of a service's database, and whether reads go to it now.

    `check()` measures it; entered with `async with`, it checks every `check_every_seconds`
    in the background until the block ends, then disposes of its engine.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        service: str,
        max_lag_seconds: float = 5.0,
        check_every_seconds: float = 1.0,
    ) -> None:
        self.engine = engine
        self._service = service
        self._max_lag = max_lag_seconds
        self._check_every = check_every_seconds
        self._avoided_because: str | None = None
        self._behind_in_a_row = 0
        self._watch: asyncio.Task[None] | None = None
        self._lag = REPLICA_LAG.labels(service)
        self._serving_gauge = REPLICA_SERVING_READS.labels(service)
        self._fallbacks = {
            why: READ_FALLBACKS.labels(service, why) for why in (UNAVAILABLE, BEHIND)
        }
        self._serving_gauge.set(1)

    @property
    def serving(self) -> bool:
        """Whether reads go to the replica now."""
        return self._avoided_because is None

    async def check(self) -> None:
        """Measures the replica's lag and decides whether reads go to it."""
        try:
            async with asyncio.timeout(max(self._check_every, 1.0)):
                lag = await self._measure()
        except _CANNOT_BEGIN as error:
            self._lag.set(math.nan)
            self._avoid(UNAVAILABLE, f"cannot be reached ({_kind(error)})")
            return
        self._lag.set(lag)
        if lag <= self._max_lag:
            self._behind_in_a_row = 0
            self._serve(lag)
            return
        self._behind_in_a_row += 1
        # One measure may fall in the instant between the first commit after an idle spell
        # arriving and being replayed, when the last replayed commit is old: wait for another.
        if self._behind_in_a_row >= _BEHIND_MEASURES or not self.serving:
            self._avoid(BEHIND, f"{_behind(lag)} (more than {self._max_lag:g} s)")

    async def watch(self) -> None:
        """Checks the replica every `check_every_seconds`, until cancelled."""
        while True:
            await self.check()
            await asyncio.sleep(self._check_every)

    def refused(self, error: BaseException) -> None:
        """Sends reads to the primary at once: a read could not begin on the replica."""
        self._lag.set(math.nan)
        self._avoid(UNAVAILABLE, f"refused a read ({_kind(error)})")

    def count_fallback(self) -> None:
        """Counts one read the primary serves instead of the replica."""
        self._fallbacks[self._avoided_because or UNAVAILABLE].inc()

    async def __aenter__(self) -> Self:
        self._watch = asyncio.create_task(self.watch(), name=f"{self._service}.replica-watch")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await self.engine.dispose()

    async def _measure(self) -> float:
        async with self.engine.connect() as connection:
            lag = await connection.scalar(_LAG)
        return math.inf if lag is None else float(lag)

    def _avoid(self, why: str, detail: str) -> None:
        if self._avoided_because == why:
            return
        self._avoided_because = why
        self._serving_gauge.set(0)
        _log.warning("reads of %s go to the primary: its replica %s", self._service, detail)

    def _serve(self, lag: float) -> None:
        if self._avoided_because is None:
            return
        self._avoided_because = None
        self._serving_gauge.set(1)
        _log.info("reads of %s go to the replica again (%.1f s behind)", self._service, lag)


@dataclass(frozen=True)
class _ReplicaSide:
    replica: ReadReplica
    sessions: async_sessionmaker[TenantAwareSession]


class ReadSessions(async_sessionmaker[TenantAwareSession]):
    """Sessions for reads: on the replica while it serves reads, else on the primary; READ ONLY.

    A session factory like the primary's, so any unit of work takes it in the primary's place.
    Without a replica every read goes to the primary, still read-only.
    """

    def __init__(self, primary: AsyncEngine, replica: ReadReplica | None = None) -> None:
        super().__init__(_read_only(primary), class_=TenantAwareSession, expire_on_commit=False)
        self._replica = None
        if replica is not None:
            on_replica = async_sessionmaker(
                _read_only(replica.engine), class_=TenantAwareSession, expire_on_commit=False
            )
            self._replica = _ReplicaSide(replica, on_replica)

    @property
    def replica(self) -> ReadReplica | None:
        """The replica these sessions read from while it serves, if there is one."""
        return self._replica.replica if self._replica else None

    def __call__(self, **local_kw: Any) -> TenantAwareSession:
        """A session on the replica while it serves reads, else on the primary."""
        side = self._replica
        if side is not None and side.replica.serving:
            return side.sessions(**local_kw)
        return self._on_primary(**local_kw)

    async def begun(self, **local_kw: Any) -> TenantAwareSession:
        """A session whose transaction has begun: on the replica if it serves and answers."""
        side = self._replica
        if side is None or not side.replica.serving:
            return self._on_primary(**local_kw)
        session = side.sessions(**local_kw)
        try:
            # The round trips the first statement would make anyway (BEGIN, the tenant).
            await session.connection()
        except _CANNOT_BEGIN as error:
            await session.close()
            side.replica.refused(error)
            return self._on_primary(**local_kw)
        return session

    def _on_primary(self, **local_kw: Any) -> TenantAwareSession:
        if self._replica is not None:
            self._replica.replica.count_fallback()
        return super().__call__(**local_kw)


async def open_session(
    sessions: async_sessionmaker[TenantAwareSession], info: dict[str, object]
) -> TenantAwareSession:
    """A unit of work's session; from `ReadSessions`, one already begun where it will read."""
    if isinstance(sessions, ReadSessions):
        return await sessions.begun(info=info)
    return sessions(info=info)


def _behind(lag: float) -> str:
    if math.isinf(lag):
        return "has replayed nothing since it started and does not stream"
    return f"is {lag:.1f} s behind"


def _kind(error: BaseException) -> str:
    # The driver's error class under SQLAlchemy's wrapper; never a message, which may hold values.
    if isinstance(error, DBAPIError) and error.orig is not None:
        return type(error.orig.__cause__ or error.orig).__name__
    return type(error).__name__


def _read_only(engine: AsyncEngine) -> AsyncEngine:
    # asyncpg then opens each transaction with BEGIN READ ONLY: no round trip of its own.
    return engine.execution_options(postgresql_readonly=True)
