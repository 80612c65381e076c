"""Everything the use cases need, built once by bootstrap.py and passed to each of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from mandi_audit.domain.checkpoints import CheckpointSigner
from mandi_audit.service_layer.journal import JournalWriter
from mandi_audit.service_layer.ports import AuditLog, CheckpointKeeper
from mandi_runtime import Clock

__all__ = ["AuditDependencies", "VerifiedHeads"]


@dataclass
class VerifiedHeads:
    """How far the background verification has found each chain intact (in this process)."""

    # Each chain's last seq found intact, and its hash there.
    heads: dict[UUID, tuple[int, bytes]] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditDependencies:
    """The adapters behind the use cases."""

    log: AuditLog
    journal: JournalWriter
    signer: CheckpointSigner
    clock: Clock
    checkpoint_file: CheckpointKeeper
    checkpoint_every_seconds: float
    verify_chunk: int
    verify_max_records: int
    verify_concurrency: int = 4
    verified: VerifiedHeads = field(default_factory=VerifiedHeads)
