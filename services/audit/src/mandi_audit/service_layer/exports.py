"""A partner's export: its own records of a time range in full, everyone else's in the same
stretch of the chain as digests only, and the signed checkpoint that ends it (docs/audit-chain.md).

The partner verifies it offline with the published keys: each of its records against its
digest and link, the chain through the others' digests up to the checkpoint's signed hash, and
the export's own signature over every byte. It learns nothing of others but that they exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from mandi_audit.domain.chain import GENESIS_HASH, AuditEntry
from mandi_audit.domain.checkpoints import Checkpoint, public_keys_of
from mandi_audit.domain.exports import (
    ExportHeader,
    ExportWriter,
    checkpoint_line,
    digest_line,
    header_line,
    own_record_line,
)
from mandi_audit.service_layer.checkpoints import key_set
from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_audit.service_layer.ports import TenantReader
from mandi_audit.service_layer.verification import verify_chain
from mandi_errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mandi_security import Principal

__all__ = ["archive_segment", "export_for"]

_DOES_NOT_HOLD = (
    "The tenant's chain does not hold where this export would start or end: verify it "
    "(GET /api/v1/audit/verification)."
)
# The partner an operator's export of the tenant's whole log names: every record is in full.
WHOLE_TENANT = UUID(int=0)
# Records an export may span (the partner's and the others' between them): a wider range is
# asked for in parts.
MAX_EXPORT_RECORDS = 200_000
_CHUNK = 5000


async def export_for(
    deps: AuditDependencies,
    principal: Principal,
    start: datetime,
    end: datetime,
    partner_id: UUID | None = None,
) -> bytes:
    """The export of the partner's records that occurred in [start, end), as JSON Lines."""
    principal.require_scope("audit:read")
    partner = _partner_of(principal, partner_id)
    tenant = principal.tenant_id
    async with deps.log.reading(tenant) as read:
        span = await read.seq_range(start, end) if start < end else None
        if span is None:  # an empty range (`to` not after `from`) has none either
            raise NotFound("No record of the tenant occurred in that time range.")
        checkpoint = await read.covering_checkpoint(span[1])
    if checkpoint is None:  # the range reaches the head, which is not signed yet: sign it now
        now = deps.clock.now()
        await deps.log.sign_heads([tenant], lambda t, s, h: deps.signer.sign(t, s, h, now), now)
    async with deps.log.reading(tenant) as read:
        checkpoint = checkpoint or await read.covering_checkpoint(span[1])
        if checkpoint is None:  # its bookkeeping was tampered with: the head is not its head
            raise Conflict(_DOES_NOT_HOLD)
        if checkpoint.seq - span[0] + 1 > MAX_EXPORT_RECORDS:
            raise InvalidInput(
                f"The export would span more than {MAX_EXPORT_RECORDS} records: ask for a "
                "shorter time range."
            )
        header = ExportHeader(tenant, partner, start, end, span[0], GENESIS_HASH)
        return await _written(deps, read, header, checkpoint)


async def archive_segment(deps: AuditDependencies, tenant_id: UUID, first: int, last: int) -> bytes:
    """A whole segment of a tenant's chain, records first..last and on to the checkpoint that
    signs its end, every record in full, once the segment verifies: what retention keeps
    elsewhere (the export format, so `python -m mandi_audit verify` checks it offline)."""
    keys = public_keys_of(await key_set(deps))
    report = await verify_chain(deps.log, keys, tenant_id, first=first, last=last)
    if report.broken is not None:
        raise Conflict(
            f"The segment does not verify (seq {report.broken.seq}: {report.broken.reason}): "
            "it is not archived."
        )
    async with deps.log.reading(tenant_id) as read:
        checkpoint = await read.covering_checkpoint(last)
        if report.last_seq < last or checkpoint is None:
            raise NotFound(f"No signed segment of the tenant's chain ends at or after seq {last}.")
        if checkpoint.seq - first + 1 > MAX_EXPORT_RECORDS:
            raise InvalidInput(f"A segment holds at most {MAX_EXPORT_RECORDS} records.")
        start, end = await read.time_span(first, checkpoint.seq)
        header = ExportHeader(tenant_id, WHOLE_TENANT, start, end, first, GENESIS_HASH)
        return await _written(deps, read, header, checkpoint)


def _partner_of(principal: Principal, partner_id: UUID | None) -> UUID:
    if principal.is_internal:  # operator staff: a partner's export, or the whole tenant's
        return partner_id or WHOLE_TENANT
    if principal.partner_id is None or partner_id not in (None, principal.partner_id):
        raise PermissionDenied("A partner exports its own records only.")
    return principal.partner_id


async def _written(
    deps: AuditDependencies, read: TenantReader, header: ExportHeader, checkpoint: Checkpoint
) -> bytes:
    first = header.start_seq
    before = GENESIS_HASH if first == 1 else await read.hash_at(first - 1)
    if before is None:
        raise Conflict(_DOES_NOT_HOLD)
    header = ExportHeader(
        header.tenant_id, header.partner_id, header.window_start, header.window_end, first, before
    )
    writer = ExportWriter()
    lines = [writer.add(header_line(header))]
    seq = first
    while seq <= checkpoint.seq:
        rows = await read.records(seq, checkpoint.seq, _CHUNK)
        if not rows:
            break
        lines += [writer.add(_line(header, row)) for row in rows]
        seq = rows[-1]["seq"] + 1
    lines.append(writer.add(checkpoint_line(checkpoint)))
    lines.append(writer.signature_line(deps.signer.sign_bytes))
    return b"".join(lines)


def _line(header: ExportHeader, record: Any) -> bytes:
    """The record in full if it is the partner's and in the window, else its digest only."""
    entry = AuditEntry(
        tenant_id=header.tenant_id,
        seq=record["seq"],
        event_id=record["event_id"],
        type=record["type"],
        source=record["source"],
        aggregate=record["aggregate"],
        actor=record["actor"],
        occurred_at=record["occurred_at"],
        correlation_id=record["correlation_id"],
        payload_digest=record["payload_digest"],
    )
    concerned = header.partner_id == WHOLE_TENANT or header.partner_id in record["parties"]
    own = concerned and (header.window_start <= entry.occurred_at < header.window_end)
    if own:
        return own_record_line(entry, record["payload"], record["prev_hash"], record["hash"])
    return digest_line(entry.seq, entry.digest(), record["hash"])
