"""Verification as a use case: of one chain on request, and of every chain in the background.

The background round (the leader's job) continues each chain from where the last round found it
intact, with the hash it found there kept in memory, so each record is checked once per process
lifetime and a boundary changed afterwards is still caught. A broken chain is checked again
from its last good point every round, and counted in `mandi_audit_verification_broken_chains`
until it is repaired from an archive.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mandi_audit.domain.checkpoints import Checkpoint, public_keys_of
from mandi_audit.domain.verification import BrokenLink
from mandi_audit.service_layer.checkpoints import key_set
from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_audit.service_layer.metrics import (
    VERIFICATION_BROKEN,
    VERIFICATION_COMPLETED_AT,
    VERIFICATION_RECORDS,
)
from mandi_audit.service_layer.ports import ChainState, CheckpointFileUnreadable
from mandi_audit.service_layer.verification import VerificationReport, verify_chain
from mandi_errors import Conflict, PermissionDenied
from mandi_observability import get_logger
from mandi_security import Principal

__all__ = ["Round", "verify_all", "verify_for", "verify_round"]

_log = get_logger("mandi.audit.verification")


async def published_keys(deps: AuditDependencies) -> dict[str, Ed25519PublicKey]:
    """Every published key, ready to verify signatures."""
    return public_keys_of(await key_set(deps))


async def verify_for(
    deps: AuditDependencies, principal: Principal, first: int, last: int | None
) -> VerificationReport:
    """Verifies the caller's tenant's chain, or records first..last of it (operators only)."""
    principal.require_scope("audit:read")
    if not principal.is_internal:
        raise PermissionDenied("Partners verify their exports offline.")
    if last is None or last - first + 1 > deps.verify_max_records:
        last = first + deps.verify_max_records - 1
    try:
        outside = deps.checkpoint_file.read().get(principal.tenant_id)
    except CheckpointFileUnreadable as error:
        _log.error("checkpoint file unreadable", error=str(error))
        raise Conflict(
            "The checkpoints kept outside the database cannot be read, so the chain cannot be "
            "verified against them; operators must restore the checkpoint file."
        ) from error
    return await verify_chain(
        deps.log,
        await published_keys(deps),
        principal.tenant_id,
        first=first,
        last=last,
        chunk=deps.verify_chunk,
        kept_outside=outside,
    )


@dataclass(frozen=True)
class Round:
    """What one round over every chain found."""

    checked: int
    broken: list[tuple[UUID, BrokenLink]]


async def verify_all(deps: AuditDependencies) -> int:
    """The background job: one round over every chain's new records; how many it checked."""
    return (await verify_round(deps)).checked


async def verify_round(deps: AuditDependencies) -> Round:
    """Every chain's new records, `verify_concurrency` chains at a time (the database computes
    digests while this process links them); each broken chain logged with its first link."""
    keys = await published_keys(deps)
    outside = deps.checkpoint_file.read()
    room = asyncio.Semaphore(deps.verify_concurrency)

    async def one(chain: ChainState) -> VerificationReport | None:
        async with room:
            return await _continue(deps, keys, chain.tenant_id, chain.head_seq, outside)

    reports = await asyncio.gather(*(one(chain) for chain in await deps.log.chains()))
    broken = [(r.tenant_id, r.broken) for r in reports if r is not None and r.broken is not None]
    for tenant_id, link in broken:
        _log.error("audit chain broken", tenant_id=str(tenant_id), seq=link.seq, reason=link.reason)
    checked = sum(report.checked for report in reports if report is not None)
    VERIFICATION_BROKEN.set(len(broken))
    VERIFICATION_RECORDS.inc(checked)
    VERIFICATION_COMPLETED_AT.set(time.time())
    return Round(checked, broken)


async def _continue(
    deps: AuditDependencies,
    keys: dict[str, Ed25519PublicKey],
    tenant_id: UUID,
    head_seq: int,
    outside: dict[UUID, Checkpoint],
) -> VerificationReport | None:
    verified_seq, verified_hash = deps.verified.heads.get(tenant_id, (0, None))
    if head_seq <= verified_seq:
        return None
    report = await verify_chain(
        deps.log,
        keys,
        tenant_id,
        first=verified_seq + 1,
        chunk=deps.verify_chunk,
        known_hash_before=verified_hash,
        kept_outside=outside.get(tenant_id),
    )
    if report.intact and report.checked:
        deps.verified.heads[tenant_id] = (report.last_seq, report.head_hash)
    return report
