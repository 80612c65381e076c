"""Verifying a tenant's chain, or a range of it, against its records and its signed checkpoints.

Each record's digest, its payload's digest and its link are recomputed from what is stored
(domain/stored.py). Every checkpoint from the range's start on must carry a valid signature by a
published key, and the chain must have exactly the hash it signed: a tail rewritten with a
recomputed chain is caught there, and so is a chain that ends before a signed seq. A checkpoint
kept outside the database (the checkpoint file) counts too, so removing checkpoint rows along
with records, and the chain's bookkeeping of its head, does not hide a rewrite or a cut.

The range is read in chunks in one READ ONLY transaction (one snapshot), the database doing the
hashing (domain/stored.py): chains are verified a few at a time, each on its own connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mandi_audit.domain.chain import GENESIS_HASH
from mandi_audit.domain.checkpoints import Checkpoint
from mandi_audit.domain.stored import walk_stored
from mandi_audit.domain.verification import BrokenLink, ChainWalk
from mandi_audit.service_layer.ports import AuditLog, TenantReader

__all__ = ["VerificationReport", "verify_chain"]

_LAST_SEQ = 2**63 - 1


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """What verifying a range found: how far it held, and the first broken link if any."""

    tenant_id: UUID
    first_seq: int
    last_seq: int  # the last record checked (first_seq - 1 when none was)
    checked: int
    checkpoints_verified: int
    broken: BrokenLink | None
    head_hash: bytes

    @property
    def intact(self) -> bool:
        """Whether every link and checkpoint in the range held."""
        return self.broken is None


async def verify_chain(
    log: AuditLog,
    public_keys: Mapping[str, Ed25519PublicKey],
    tenant_id: UUID,
    *,
    first: int = 1,
    last: int | None = None,
    chunk: int = 5000,
    known_hash_before: bytes | None = None,
    kept_outside: Checkpoint | None = None,
) -> VerificationReport:
    """Verifies records first..last (to the head when None) of the tenant's chain.

    `known_hash_before` is the hash of record first-1 as an earlier verification found it (the
    stored one is taken otherwise); `kept_outside` a checkpoint from outside the database.
    """
    async with log.reading(tenant_id) as read:
        await read.serially()
        head = await read.recorded_head()  # the journal's word: records cut off the end show
        last = head if last is None else min(last, head)
        if first > last:  # past the head: nothing to check (a cut end shows from seq 1 on)
            return VerificationReport(tenant_id, first, first - 1, 0, 0, None, GENESIS_HASH)
        start = known_hash_before or await _hash_before(read, first)
        if start is None:
            missing = BrokenLink(first - 1, "the record before the range is missing")
            return VerificationReport(tenant_id, first, first - 1, 0, 0, missing, GENESIS_HASH)
        signed = await read.checkpoints(first, _LAST_SEQ)  # past `last` too: the chain's end
        if kept_outside is not None and first <= kept_outside.seq:
            signed.append(kept_outside)
        forged = _first_forged(signed, public_keys)
        walk = ChainWalk(
            prev_hash=start,
            next_seq=first,
            checkpoints=_signed_hashes(signed, forged),
        )
        if forged is not None:
            walk.broken = BrokenLink(forged.seq, "a checkpoint's signature does not verify")
        else:
            await _walk_range(read, walk, last, chunk)
        broken = walk.broken or _unreached(walk, signed, last, head)
    return VerificationReport(
        tenant_id=tenant_id,
        first_seq=first,
        last_seq=walk.next_seq - 1,
        checked=walk.checked,
        checkpoints_verified=walk.checkpoints_matched,
        broken=broken,
        head_hash=walk.head_hash,
    )


async def _hash_before(read: TenantReader, first: int) -> bytes | None:
    if first <= 1:
        return GENESIS_HASH
    return await read.hash_at(first - 1)


async def _walk_range(read: TenantReader, walk: ChainWalk, last: int, chunk: int) -> None:
    """Has the database check chunk after chunk of seqs; looks at the rows it hands over."""
    signed = sorted(walk.checkpoints)
    start = walk.next_seq
    while walk.broken is None and start <= last:
        end = min(last, start + chunk - 1)
        walk_stored(walk, await read.stored(start, end, signed))
        start = end + 1
    if walk.broken is None and walk.next_seq <= last:
        walk.broken = BrokenLink(
            walk.next_seq, f"records {walk.next_seq} to {last} are missing from the chain"
        )


def _first_forged(
    checkpoints: list[Checkpoint], public_keys: Mapping[str, Ed25519PublicKey]
) -> Checkpoint | None:
    for checkpoint in sorted(checkpoints, key=lambda c: c.seq):
        if not checkpoint.verifies_with(public_keys):
            return checkpoint
    return None


def _signed_hashes(checkpoints: list[Checkpoint], forged: Checkpoint | None) -> dict[int, bytes]:
    hashes: dict[int, bytes] = {}
    for checkpoint in checkpoints:
        if checkpoint is not forged:
            hashes.setdefault(checkpoint.seq, checkpoint.hash)
            if hashes[checkpoint.seq] != checkpoint.hash:  # two signed heads disagree
                hashes[checkpoint.seq] = b""
    return hashes


def _unreached(
    walk: ChainWalk, checkpoints: list[Checkpoint], last: int, head: int
) -> BrokenLink | None:
    """A signed seq the chain does not reach (in the range, or past its head): records it
    signed are gone."""
    beyond = [
        c.seq for c in checkpoints if walk.next_seq <= c.seq <= last or c.seq > max(head, last)
    ]
    if not beyond:
        return None
    return BrokenLink(
        walk.next_seq,
        f"the chain ends at seq {walk.next_seq - 1}, yet seq {min(beyond)} was signed",
    )
