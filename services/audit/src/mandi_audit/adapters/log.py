"""Reading the log: chains to verify, records to query and export, checkpoints and keys.

Each read runs as one tenant, in a READ ONLY transaction, so row-level security shows it that
tenant's records only; the background jobs list the chains as the journal's writer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from mandi_audit.domain.checkpoints import Checkpoint
from mandi_audit.service_layer.ports import ChainState, RecordFilter
from mandi_db import ReadTransaction, TenantAwareSession, TenantlessUnitOfWork
from mandi_db.queries import driver_of
from mandi_errors import NotFound

__all__ = ["SqlAuditLog", "TenantLog"]

# A chunk of a tenant's chain, checked here, and in STORED_FIELDS order the rows worth a look
# (domain/stored.py): the chunk's first and last, every row where a link does not hold, those
# signed by a checkpoint ($4). Each digest is computed from the stored fields as domain/chain.py
# lays out version 1 of the encoding (each text: its UTF-8 length, then it; the database's
# encoding is UTF-8, which the migration makes sure of, so a text's bytes as sent are UTF-8).
_STORED = """
    SELECT seq, digest, payload_intact, prev_hash, hash, prior_seq, prior_hash
    FROM (
        SELECT seq, digest, payload_intact, prev_hash, hash,
            lag(seq) OVER chain AS prior_seq, lag(hash) OVER chain AS prior_hash,
            lead(seq) OVER chain AS following_seq
        FROM (
            SELECT seq, prev_hash, hash, sha256(payload) = payload_digest AS payload_intact,
                sha256(
                    '\\x6d616e64692d61756469742f310a'::bytea
                    || uuid_send(tenant_id) || int8send(seq)
                    || int8send((extract(epoch FROM occurred_at) * 1000000)::bigint)
                    || payload_digest
                    || int4send(octet_length(event_id)) || textsend(event_id)
                    || int4send(octet_length(type)) || textsend(type)
                    || int4send(octet_length(source)) || textsend(source)
                    || int4send(octet_length(aggregate)) || textsend(aggregate)
                    || int4send(octet_length(actor)) || textsend(actor)
                    || int4send(octet_length(correlation_id)) || textsend(correlation_id)
                ) AS digest
            FROM audit_records
            WHERE tenant_id = $1 AND seq >= $2 AND seq <= $3
        ) AS chunk
        WINDOW chain AS (ORDER BY seq)
    ) AS linked
    WHERE prior_seq IS NULL OR following_seq IS NULL
        OR seq <> prior_seq + 1 OR prev_hash <> prior_hash OR NOT payload_intact
        OR sha256(prev_hash || digest) <> hash OR seq = ANY($4::bigint[])
    ORDER BY seq
"""
_RECORDED_HEAD = "SELECT head_seq FROM audit_chains WHERE tenant_id = $1"
_HASH_AT = "SELECT hash FROM audit_records WHERE tenant_id = $1 AND seq = $2"
_CHECKPOINTS = """
    SELECT tenant_id, seq, hash, signed_at, key_id, signature FROM audit_checkpoints
    WHERE tenant_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq
"""
_COVERING_CHECKPOINT = """
    SELECT tenant_id, seq, hash, signed_at, key_id, signature FROM audit_checkpoints
    WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT 1
"""
_AS_WRITER = "SELECT set_config('mandi.audit_writer', 'on', true)"
_UNSIGNED_HEADS = """
    SELECT chain.tenant_id, head.seq, head.hash
    FROM audit_chains AS chain
    JOIN LATERAL (
        SELECT seq, hash FROM audit_records
        WHERE tenant_id = chain.tenant_id ORDER BY seq DESC LIMIT 1
    ) AS head ON true
    WHERE chain.tenant_id = ANY($1::uuid[]) AND head.seq > chain.checkpoint_seq
"""
_ADD_CHECKPOINT = """
    INSERT INTO audit_checkpoints (tenant_id, seq, hash, signed_at, key_id, signature)
    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, seq) DO NOTHING
"""
_SIGNED_UP_TO = """
    UPDATE audit_chains AS chain
    SET checkpoint_seq = signed.seq, checkpoint_at = $3
    FROM unnest($1::uuid[], $2::bigint[]) AS signed (tenant_id, seq)
    WHERE chain.tenant_id = signed.tenant_id AND chain.checkpoint_seq < signed.seq
"""
_LATEST_CHECKPOINTS = """
    SELECT DISTINCT ON (tenant_id) tenant_id, seq, hash, signed_at, key_id, signature
    FROM audit_checkpoints ORDER BY tenant_id, seq DESC
"""
_CHAINS = """
    SELECT tenant_id, head_seq, head_at, checkpoint_seq, checkpoint_at FROM audit_chains
    ORDER BY tenant_id
"""
_KEYS = "SELECT key_id, public_key FROM audit_signing_keys ORDER BY first_seen, key_id"
_ADD_KEYS = """
    INSERT INTO audit_signing_keys (key_id, public_key, first_seen)
    SELECT k, p, $3 FROM unnest($1::text[], $2::bytea[]) AS given (k, p)
    ON CONFLICT (key_id) DO NOTHING
"""
_RECORD_COLUMNS = """
    seq, event_id, type, source, aggregate, actor, occurred_at, correlation_id, payload_digest,
    payload, parties, recorded_at, prev_hash, hash
"""
_TIME_SPAN = """
    SELECT min(occurred_at) AS earliest, max(occurred_at) AS latest FROM audit_records
    WHERE tenant_id = $1 AND seq >= $2 AND seq <= $3
"""
_SEQ_RANGE_OF_TIMES = """
    SELECT min(seq) AS first, max(seq) AS last FROM audit_records
    WHERE tenant_id = $1 AND occurred_at >= $2 AND occurred_at < $3
"""
_RANGE = """
    SELECT seq, event_id, type, source, aggregate, actor, occurred_at, correlation_id,
        payload_digest, payload, parties, recorded_at, prev_hash, hash
    FROM audit_records
    WHERE tenant_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT $4
"""


class TenantLog(ReadTransaction):
    """One tenant's log in a READ ONLY transaction (one snapshot for everything read in it)."""

    async def stored(
        self, first: int, last: int, signed: Sequence[int] = ()
    ) -> list[asyncpg.Record]:
        """Of records first..last, those the verifier looks at (domain/stored.py), in
        STORED_FIELDS order; `signed` are the seqs checkpoints name."""
        return await self.driver.fetch(_STORED, self.tenant_id, first, last, list(signed))

    async def serially(self) -> None:
        """No parallel workers for the rest of the transaction: verification runs several
        chains at once already, and each chunk is too small to pay for starting workers."""
        await self.driver.execute("SET LOCAL max_parallel_workers_per_gather = 0")

    async def recorded_head(self) -> int:
        """The seq of the chain's head as the journal's bookkeeping has it (0: no chain)."""
        head: int | None = await self.driver.fetchval(_RECORDED_HEAD, self.tenant_id)
        return head or 0

    async def hash_at(self, seq: int) -> bytes | None:
        """The stored hash of one record."""
        value: bytes | None = await self.driver.fetchval(_HASH_AT, self.tenant_id, seq)
        return value

    async def checkpoints(self, first: int, last: int) -> list[Checkpoint]:
        """The tenant's checkpoints signing seqs first..last."""
        rows = await self.driver.fetch(_CHECKPOINTS, self.tenant_id, first, last)
        return [_checkpoint(row) for row in rows]

    async def covering_checkpoint(self, seq: int) -> Checkpoint | None:
        """The first checkpoint at or after `seq`."""
        row = await self.driver.fetchrow(_COVERING_CHECKPOINT, self.tenant_id, seq)
        return None if row is None else _checkpoint(row)

    async def seq_range(self, start: datetime, end: datetime) -> tuple[int, int] | None:
        """The first and last seq of the records that occurred in [start, end)."""
        row = await self.driver.fetchrow(_SEQ_RANGE_OF_TIMES, self.tenant_id, start, end)
        return None if row is None or row["first"] is None else (row["first"], row["last"])

    async def time_span(self, first: int, last: int) -> tuple[datetime, datetime]:
        """From the earliest record of first..last to just after its latest."""
        row = await self.driver.fetchrow(_TIME_SPAN, self.tenant_id, first, last)
        if row is None or row["earliest"] is None:
            raise NotFound(f"No record of the tenant between seq {first} and {last}.")
        return row["earliest"], row["latest"] + timedelta(microseconds=1)

    async def records(self, first: int, last: int, limit: int) -> list[asyncpg.Record]:
        """Whole records first..last, at most `limit`."""
        return await self.driver.fetch(_RANGE, self.tenant_id, first, last, limit)

    async def query(
        self, wanted: RecordFilter, after_seq: int, limit: int, party: UUID | None = None
    ) -> list[asyncpg.Record]:
        """Records matching the filter (and concerning `party`, when given), in seq order
        after `after_seq` (keyset pagination)."""
        conditions, arguments = ["tenant_id = $1", "seq > $2"], [self.tenant_id, after_seq]
        for column, value, operator in _conditions(wanted, party):
            arguments.append(value)
            conditions.append(operator.format(column=column, value=f"${len(arguments)}"))
        arguments.append(limit)
        # Columns and operators are constants; every value is a parameter.
        sql = (
            f"SELECT {_RECORD_COLUMNS} FROM audit_records WHERE {' AND '.join(conditions)}"  # noqa: S608
            f" ORDER BY seq LIMIT ${len(arguments)}"
        )
        return await self.driver.fetch(sql, *arguments)


class SqlAuditLog:
    """The log's reads, and the few writes that are not the journal's (keys, timed checkpoints)."""

    def __init__(
        self, engine: AsyncEngine, sessions: async_sessionmaker[TenantAwareSession]
    ) -> None:
        self._engine = engine
        self._sessions = sessions

    def reading(self, tenant_id: UUID) -> TenantLog:
        """A tenant's log, read in one READ ONLY transaction."""
        return TenantLog(self._engine, tenant_id=tenant_id)

    async def chains(self) -> list[ChainState]:
        """Every tenant's chain, as the journal's bookkeeping has it."""
        async with TenantlessUnitOfWork(self._sessions) as unit:
            driver = await driver_of(unit.session)
            await driver.execute(_AS_WRITER)
            rows = await driver.fetch(_CHAINS)
        return [ChainState(**dict(row)) for row in rows]

    async def sign_heads(
        self, tenants: Sequence[UUID], sign: Callable[[UUID, int, bytes], Checkpoint], now: datetime
    ) -> list[Checkpoint]:
        """Signs each tenant's current head that is not signed yet; the new checkpoints."""
        async with TenantlessUnitOfWork(self._sessions) as unit:
            driver = await driver_of(unit.session)
            await driver.execute(_AS_WRITER)
            heads = await driver.fetch(_UNSIGNED_HEADS, list(tenants))
            made = [sign(row["tenant_id"], row["seq"], row["hash"]) for row in heads]
            if made:
                await driver.executemany(_ADD_CHECKPOINT, [_checkpoint_row(c) for c in made])
                await driver.execute(
                    _SIGNED_UP_TO, [c.tenant_id for c in made], [c.seq for c in made], now
                )
            await unit.commit()
        return made

    async def latest_checkpoints(self) -> list[Checkpoint]:
        """Every tenant's newest checkpoint."""
        async with TenantlessUnitOfWork(self._sessions) as unit:
            driver = await driver_of(unit.session)
            await driver.execute(_AS_WRITER)
            rows = await driver.fetch(_LATEST_CHECKPOINTS)
        return [_checkpoint(row) for row in rows]

    async def publish_keys(self, public_keys: dict[str, bytes], now: datetime) -> None:
        """Keeps the public key of every signing key ever configured (never replaced)."""
        async with TenantlessUnitOfWork(self._sessions) as unit:
            driver = await driver_of(unit.session)
            await driver.execute(_ADD_KEYS, list(public_keys), list(public_keys.values()), now)
            await unit.commit()

    async def published_keys(self) -> dict[str, bytes]:
        """Every published public key, by id, oldest first."""
        async with TenantlessUnitOfWork(self._sessions) as unit:
            driver = await driver_of(unit.session)
            rows = await driver.fetch(_KEYS)
        return {row["key_id"]: row["public_key"] for row in rows}


def _conditions(wanted: RecordFilter, party: UUID | None) -> list[tuple[str, Any, str]]:
    given = [
        ("aggregate", wanted.aggregate, "{column} = {value}"),
        ("actor", wanted.actor, "{column} = {value}"),
        ("type", wanted.type, "{column} = {value}"),
        ("correlation_id", wanted.correlation_id, "{column} = {value}"),
        ("occurred_at", wanted.occurred_from, "{column} >= {value}"),
        ("occurred_at", wanted.occurred_to, "{column} < {value}"),
        ("parties", party, "{value} = ANY({column})"),
    ]
    return [condition for condition in given if condition[1] is not None]


def _checkpoint_row(c: Checkpoint) -> tuple[object, ...]:
    return (c.tenant_id, c.seq, c.hash, c.signed_at, c.key_id, c.signature)


def _checkpoint(row: asyncpg.Record) -> Checkpoint:
    return Checkpoint(
        row["tenant_id"], row["seq"], row["hash"], row["signed_at"], row["key_id"], row["signature"]
    )
