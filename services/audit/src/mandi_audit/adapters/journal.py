"""The journal's transaction: appends a batch of records to many tenants' chains at once.

One writer per tenant chain: a transaction-scoped advisory lock per tenant, taken in a fixed
order (so two writers never deadlock), and the head read under it from the log itself. A second
writer (a replica mid-rebalance) waits for the first to commit and then reads the head it left.
`UNIQUE (tenant_id, seq)` and `UNIQUE (tenant_id, prev_hash)` refuse a fork should anything
get past that; the whole batch then rolls back and is read again.

The records go in by COPY; their event ids are unique, so a batch read again appends nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

import asyncpg
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_audit.domain.checkpoints import Checkpoint
from mandi_audit.domain.records import ChainHead, Linked
from mandi_audit.service_layer.journal import AlreadyRecorded
from mandi_db import TenantAwareSession, TenantlessUnitOfWork
from mandi_db.queries import driver_of

__all__ = ["JOURNAL_COLUMNS", "JournalTransaction", "record_row"]

JOURNAL_COLUMNS = (
    "tenant_id",
    "seq",
    "event_id",
    "type",
    "source",
    "aggregate",
    "actor",
    "occurred_at",
    "correlation_id",
    "payload_digest",
    "payload",
    "parties",
    "recorded_at",
    "prev_hash",
    "hash",
)
_AS_WRITER = "SELECT set_config('mandi.audit_writer', 'on', true)"
_KNOWN = "SELECT event_id FROM audit_records WHERE event_id = ANY($1::text[])"
# unnest keeps the array's (sorted) order, so the locks are always taken in that order.
_LOCK = "SELECT pg_advisory_xact_lock(7331, hashtext(t::text)) FROM unnest($1::uuid[]) AS t"
_HEADS = """
    SELECT t AS tenant_id, head.seq, head.hash, coalesce(chain.checkpoint_seq, 0) AS signed_seq
    FROM unnest($1::uuid[]) AS t
    LEFT JOIN LATERAL (
        SELECT seq, hash FROM audit_records WHERE tenant_id = t ORDER BY seq DESC LIMIT 1
    ) AS head ON true
    LEFT JOIN audit_chains AS chain ON chain.tenant_id = t
"""
_MOVE_CHAINS = """
    INSERT INTO audit_chains AS chain (tenant_id, head_seq, head_at, checkpoint_seq, checkpoint_at)
    SELECT t, s, $3::timestamptz, c, CASE WHEN c > 0 THEN $3::timestamptz END
    FROM unnest($1::uuid[], $2::bigint[], $4::bigint[]) AS moved (t, s, c)
    ON CONFLICT (tenant_id) DO UPDATE SET
        head_seq = excluded.head_seq,
        head_at = excluded.head_at,
        checkpoint_seq = greatest(chain.checkpoint_seq, excluded.checkpoint_seq),
        checkpoint_at = CASE WHEN excluded.checkpoint_seq > chain.checkpoint_seq
                             THEN excluded.checkpoint_at ELSE chain.checkpoint_at END
"""


def record_row(linked: Linked, recorded_at: datetime) -> tuple[object, ...]:
    """A linked record as the row COPY writes, in JOURNAL_COLUMNS order."""
    record = linked.record
    return (
        record.tenant_id,
        linked.seq,
        record.event_id,
        record.type,
        record.source,
        record.aggregate,
        record.actor,
        record.occurred_at,
        record.correlation_id,
        record.payload_digest,
        record.payload,
        record.parties,
        recorded_at,
        linked.prev_hash,
        linked.hash,
    )


def _chain_of(linked: Linked) -> UUID:
    return linked.record.tenant_id


class JournalTransaction:
    """One batch's transaction as the journal's writer, on the primary."""

    def __init__(self, sessions: async_sessionmaker[TenantAwareSession]) -> None:
        self._unit = TenantlessUnitOfWork(sessions)
        self._driver: asyncpg.Connection | None = None

    async def __aenter__(self) -> Self:
        await self._unit.__aenter__()
        self._driver = await driver_of(self._unit.session)
        await self._driver.execute(_AS_WRITER)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._driver = None
        await self._unit.__aexit__(exc_type, exc, traceback)

    @property
    def driver(self) -> asyncpg.Connection:
        if self._driver is None:
            raise RuntimeError("a journal transaction is used inside its `async with` block")
        return self._driver

    async def known(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these events the log holds already."""
        rows = await self.driver.fetch(_KNOWN, list(event_ids))
        return {row["event_id"] for row in rows}

    async def heads_locked(self, tenants: Iterable[UUID]) -> dict[UUID, tuple[ChainHead, int]]:
        """Each tenant's head and last signed seq, after taking its writer's lock."""
        ordered = sorted(set(tenants))
        await self.driver.execute(_LOCK, ordered)
        rows = await self.driver.fetch(_HEADS, ordered)
        return {
            row["tenant_id"]: (
                ChainHead(row["seq"], row["hash"]) if row["seq"] else ChainHead(),
                row["signed_seq"],
            )
            for row in rows
        }

    async def append(self, linked: Iterable[Linked], recorded_at: datetime) -> None:
        """Writes the linked records by COPY."""
        # Each chain's records side by side on the table's pages: a chain is read back (and
        # verified) a page at a time instead of a record a page.
        by_chain = sorted(linked, key=_chain_of)
        rows = [record_row(one, recorded_at) for one in by_chain]
        try:
            await self.driver.copy_records_to_table(
                "audit_records", records=rows, columns=JOURNAL_COLUMNS
            )
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name == "audit_records_event_once":
                raise AlreadyRecorded from error
            raise

    async def add_checkpoints(self, checkpoints: Sequence[Checkpoint]) -> None:
        """Keeps signed heads."""
        if checkpoints:
            await self.driver.executemany(
                "INSERT INTO audit_checkpoints (tenant_id, seq, hash, signed_at, key_id, signature)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, seq) DO NOTHING",
                [
                    (c.tenant_id, c.seq, c.hash, c.signed_at, c.key_id, c.signature)
                    for c in checkpoints
                ],
            )

    async def move_chains(
        self, heads: dict[UUID, ChainHead], signed: dict[UUID, int], now: datetime
    ) -> None:
        """Records where each chain's head now is, and up to where it is signed."""
        tenants = list(heads)
        await self.driver.execute(
            _MOVE_CHAINS,
            tenants,
            [heads[t].seq for t in tenants],
            now,
            [signed.get(t, 0) for t in tenants],
        )

    async def commit(self) -> None:
        """Commits the batch."""
        await self._unit.commit()
