"""The database lays out the canonical encoding as the domain does: the verifier's digests,
computed in SQL from stored records, are the test vectors' digests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import asyncpg

from mandi_audit.service_layer.dependencies import AuditDependencies

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "chain-v1.json").read_text())
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def test_the_database_computes_each_vector_record_digest(
    deps: AuditDependencies, superuser: asyncpg.Connection
) -> None:
    records = VECTORS["records"]
    for record in records:
        await superuser.execute(
            "INSERT INTO audit_records (tenant_id, seq, event_id, type, source, aggregate, actor,"
            " occurred_at, correlation_id, payload_digest, payload, parties, recorded_at,"
            " prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '{}',"
            " now(), $12, $13)",
            UUID(record["tenant_id"]),
            record["seq"],
            record["event_id"],
            record["type"],
            record["source"],
            record["aggregate"],
            record["actor"],
            _EPOCH + timedelta(microseconds=record["occurred_at_micros"]),
            record["correlation_id"],
            bytes.fromhex(record["payload_digest"]),
            bytes.fromhex(record["payload_hex"]),
            bytes.fromhex(record["prev_hash"]),
            bytes.fromhex(record["hash"]),
        )

    for record in records:
        async with deps.log.reading(UUID(record["tenant_id"])) as read:
            [row] = await read.stored(record["seq"], record["seq"])
        assert row["digest"].hex() == record["record_digest"], record["name"]
        assert row["payload_intact"] is True
