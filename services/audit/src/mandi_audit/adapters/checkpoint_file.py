"""The newest checkpoint of every tenant, kept in a file outside the database.

Whoever can rewrite the database's records and checkpoints together cannot reach this file
(another volume, another host, a backup): verification compares the chain with it too. It is
replaced atomically (written beside, then renamed), so a reader never sees half of it.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from uuid import UUID

from mandi_audit.domain.checkpoints import Checkpoint
from mandi_audit.service_layer.ports import CheckpointFileUnreadable

__all__ = ["CheckpointFile", "checkpoint_document", "checkpoint_of"]


def checkpoint_document(checkpoint: Checkpoint) -> dict[str, object]:
    """A checkpoint as JSON data (hex hash, base64url signature, RFC 3339 time)."""
    return {
        "tenant_id": str(checkpoint.tenant_id),
        "seq": checkpoint.seq,
        "hash": checkpoint.hash.hex(),
        "signed_at": checkpoint.signed_at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "key_id": checkpoint.key_id,
        "signature": base64.urlsafe_b64encode(checkpoint.signature).rstrip(b"=").decode(),
    }


def checkpoint_of(document: dict[str, object]) -> Checkpoint:
    """The checkpoint of `checkpoint_document`'s output; raises ValueError on anything else."""
    try:
        signature = str(document["signature"])
        return Checkpoint(
            tenant_id=UUID(str(document["tenant_id"])),
            seq=int(str(document["seq"])),
            hash=bytes.fromhex(str(document["hash"])),
            signed_at=datetime.fromisoformat(str(document["signed_at"])),
            key_id=str(document["key_id"]),
            signature=base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise ValueError(f"not a checkpoint: {error}") from error


class CheckpointFile:
    """`{"checkpoints": {tenant: checkpoint}}` at a path; no path keeps nothing."""

    def __init__(self, path: str) -> None:
        self._path = Path(path) if path else None

    def read(self) -> dict[UUID, Checkpoint]:
        """The kept checkpoints by tenant (none when there is no file yet)."""
        if self._path is None or not self._path.exists():
            return {}
        try:
            document = json.loads(self._path.read_text())
            return {
                UUID(tenant): checkpoint_of(kept)
                for tenant, kept in document["checkpoints"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise CheckpointFileUnreadable(f"{self._path}: {error}") from error

    def keep(self, checkpoints: Iterable[Checkpoint]) -> int:
        """Keeps each tenant's newest of these with what the file has; how many changed."""
        path = self._path
        if path is None:
            return 0
        kept = self.read()
        changed = 0
        for checkpoint in checkpoints:
            known = kept.get(checkpoint.tenant_id)
            if known is None or known.seq < checkpoint.seq:
                kept[checkpoint.tenant_id] = checkpoint
                changed += 1
        if changed:
            _replace(path, kept)
        return changed


def _replace(path: Path, kept: dict[UUID, Checkpoint]) -> None:
    document = {"checkpoints": {str(t): checkpoint_document(c) for t, c in kept.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    with partial.open("w") as file:
        json.dump(document, file, indent=1, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())
    partial.replace(path)
