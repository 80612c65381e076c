"""Tampering with the log on the real database, as a superuser could, is caught by verify.

Each test writes a chain of 30 records (a checkpoint every 10), changes it behind the
service's back with the append-only triggers disabled, and verifies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import pytest

from mandi_audit.adapters.checkpoint_file import CheckpointFile
from mandi_audit.domain.chain import link_hash, payload_digest, record_digest
from mandi_audit.service_layer.checkpoints import sign_due
from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_audit.service_layer.verification import VerificationReport, verify_chain
from mandi_audit.service_layer.verifying import published_keys, verify_for
from mandi_errors import Conflict
from mandi_messaging import ReceivedEvent
from mandi_security import Principal, PrincipalType


@pytest.fixture
async def chain(deps: AuditDependencies, many: Callable[..., Sequence[ReceivedEvent]]) -> UUID:
    """A tenant whose chain holds 30 records, signed at 10, 20 and 30."""
    tenant = uuid4()
    assert await deps.journal.write(many(tenant, 30)) == []
    return tenant


async def _verify(deps: AuditDependencies, tenant: UUID) -> VerificationReport:
    return await verify_chain(deps.log, await published_keys(deps), tenant)


@asynccontextmanager
async def _tampering(
    superuser: asyncpg.Connection, table: str = "audit_records"
) -> AsyncIterator[None]:
    """A transaction of a superuser's with the table's append-only triggers off."""
    async with superuser.transaction():
        await superuser.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield
        await superuser.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


async def _tamper(superuser: asyncpg.Connection, statement: str, *arguments: object) -> None:
    async with _tampering(superuser):
        await superuser.execute(statement, *arguments)


async def test_an_untouched_chain_verifies(deps: AuditDependencies, chain: UUID) -> None:
    report = await _verify(deps, chain)

    assert report.intact
    assert (report.checked, report.checkpoints_verified) == (30, 3)


async def test_an_edited_payload_is_caught_at_its_record(
    deps: AuditDependencies, chain: UUID, superuser: asyncpg.Connection
) -> None:
    await _tamper(
        superuser,
        "UPDATE audit_records SET payload = $3 WHERE tenant_id = $1 AND seq = $2",
        chain,
        12,
        b'{"approved_by": "someone-else"}',
    )

    report = await _verify(deps, chain)

    assert report.broken is not None
    assert report.broken.seq == 12
    assert "payload" in report.broken.reason
    assert report.last_seq == 11


async def test_a_deleted_record_is_caught_where_it_was(
    deps: AuditDependencies, chain: UUID, superuser: asyncpg.Connection
) -> None:
    await _tamper(
        superuser, "DELETE FROM audit_records WHERE tenant_id = $1 AND seq = $2", chain, 17
    )

    report = await _verify(deps, chain)

    assert report.broken is not None
    assert report.broken.seq == 17
    assert "missing" in report.broken.reason


async def test_two_reordered_records_are_caught(
    deps: AuditDependencies, chain: UUID, superuser: asyncpg.Connection
) -> None:
    swap = "UPDATE audit_records SET seq = $3 WHERE tenant_id = $1 AND seq = $2"
    async with _tampering(superuser):
        await superuser.execute(swap, chain, 5, 1_000_000)
        await superuser.execute(swap, chain, 6, 5)
        await superuser.execute(swap, chain, 1_000_000, 6)

    report = await _verify(deps, chain)

    assert report.broken is not None
    assert report.broken.seq == 5


async def _rewrite_tail(superuser: asyncpg.Connection, tenant: UUID, from_seq: int) -> None:
    """Changes record `from_seq`'s payload and recomputes every digest and hash after it, so
    the chain is consistent in itself: only a signature can tell."""
    rows = await superuser.fetch(
        "SELECT seq, event_id, type, source, aggregate, actor, correlation_id, occurred_at,"
        " payload, prev_hash FROM audit_records WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq",
        tenant,
        from_seq,
    )
    head = rows[0]["prev_hash"]
    async with _tampering(superuser):
        for row in rows:
            payload = b'{"approved_by": "forger"}' if row["seq"] == from_seq else row["payload"]
            digest = payload_digest(payload)
            micros = await superuser.fetchval(
                "SELECT (extract(epoch FROM $1::timestamptz) * 1000000)::bigint", row["occurred_at"]
            )
            texts = tuple(
                row[name]
                for name in ("event_id", "type", "source", "aggregate", "actor", "correlation_id")
            )
            chained = link_hash(
                head, record_digest(tenant.bytes, row["seq"], micros, digest, texts)
            )
            await superuser.execute(
                "UPDATE audit_records SET payload = $3, payload_digest = $4, prev_hash = $5,"
                " hash = $6 WHERE tenant_id = $1 AND seq = $2",
                tenant,
                row["seq"],
                payload,
                digest,
                head,
                chained,
            )
            head = chained


async def test_a_tail_rewritten_with_a_recomputed_chain_is_caught_by_the_signed_checkpoint(
    deps: AuditDependencies, chain: UUID, superuser: asyncpg.Connection
) -> None:
    await _rewrite_tail(superuser, chain, 15)

    report = await _verify(deps, chain)

    assert report.broken is not None
    assert report.broken.seq == 20  # the first signed head after the rewrite
    assert "checkpoint" in report.broken.reason


async def test_a_rewrite_that_also_removes_the_checkpoints_is_caught_by_the_file_outside(
    deps: AuditDependencies, chain: UUID, superuser: asyncpg.Connection
) -> None:
    await sign_due(deps)  # the newest checkpoint (seq 30) goes to the file as well
    await _rewrite_tail(superuser, chain, 15)
    async with _tampering(superuser, "audit_checkpoints"):
        await superuser.execute("DELETE FROM audit_checkpoints WHERE tenant_id = $1", chain)
    operator = Principal(chain, "operator-1", PrincipalType.INTERNAL, scopes=frozenset({"*:read"}))

    report = await verify_for(deps, operator, 1, None)

    assert report.broken is not None
    assert report.broken.seq == 30
    assert "checkpoint" in report.broken.reason


async def test_a_forged_checkpoint_is_caught(
    deps: AuditDependencies, chain: UUID, superuser: asyncpg.Connection
) -> None:
    async with _tampering(superuser, "audit_checkpoints"):
        await superuser.execute(
            "UPDATE audit_checkpoints SET hash = $3 WHERE tenant_id = $1 AND seq = $2",
            chain,
            20,
            bytes(32),
        )

    report = await _verify(deps, chain)

    assert report.broken is not None
    assert report.broken.seq == 20
    assert "signature" in report.broken.reason


async def test_records_cut_off_the_end_past_the_last_checkpoint_are_caught(
    deps: AuditDependencies, chain: UUID, superuser: asyncpg.Connection
) -> None:
    await _tamper(
        superuser, "DELETE FROM audit_records WHERE tenant_id = $1 AND seq > $2", chain, 27
    )

    report = await _verify(deps, chain)

    assert report.broken is not None
    assert report.broken.seq == 28
    assert "missing" in report.broken.reason


async def test_a_cut_hidden_in_the_bookkeeping_and_checkpoints_is_caught_by_the_file_outside(
    deps: AuditDependencies, chain: UUID, superuser: asyncpg.Connection
) -> None:
    await sign_due(deps)  # the newest checkpoint (seq 30) goes to the file as well
    await _tamper(superuser, "DELETE FROM audit_records WHERE tenant_id = $1 AND seq > 27", chain)
    await superuser.execute("UPDATE audit_chains SET head_seq = 27 WHERE tenant_id = $1", chain)
    async with _tampering(superuser, "audit_checkpoints"):
        await superuser.execute(
            "DELETE FROM audit_checkpoints WHERE tenant_id = $1 AND seq > 27", chain
        )
    operator = Principal(chain, "operator-1", PrincipalType.INTERNAL, scopes=frozenset({"*:read"}))

    report = await verify_for(deps, operator, 1, None)

    assert report.broken is not None
    assert report.broken.seq == 28
    assert "30 was signed" in report.broken.reason


async def test_an_unreadable_checkpoint_file_refuses_verification_rather_than_skip_it(
    deps: AuditDependencies, chain: UUID, tmp_path: Path
) -> None:
    damaged = tmp_path / "checkpoints.json"
    damaged.write_text('{"checkpoints": {"not a tenant": 1}}')
    operator = Principal(chain, "operator-1", PrincipalType.INTERNAL, scopes=frozenset({"*:read"}))

    with pytest.raises(Conflict, match="cannot be read"):
        await verify_for(
            replace(deps, checkpoint_file=CheckpointFile(str(damaged))), operator, 1, None
        )


async def test_a_range_past_the_head_has_nothing_to_check_and_nothing_broken(
    deps: AuditDependencies, chain: UUID
) -> None:
    report = await verify_chain(deps.log, await published_keys(deps), chain, first=31)

    assert (report.intact, report.checked, report.last_seq) == (True, 0, 30)
