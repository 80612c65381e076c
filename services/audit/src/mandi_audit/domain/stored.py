"""Verifying records as the log stores them: the hot loop of the verification API and job.

Each row is a stored record in `STORED_FIELDS` order: its seq, the digest of its canonical
encoding and whether its payload still matches its payload digest (both recomputed beside the
row by the database from the stored fields, laid out byte for byte as `chain.canonical_encoding`
lays them out; the test vectors hold both to the same digests), and the hashes stored with it.
Here each link is recomputed from the previous hash and that digest, and compared. The offline
verifier recomputes everything itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from mandi_audit.domain.verification import PAYLOAD_ALTERED, BrokenLink, ChainLink, ChainWalk

__all__ = ["STORED_FIELDS", "walk_stored"]

STORED_FIELDS = ("seq", "digest", "payload_intact", "prev_hash", "hash")
_sha256 = hashlib.sha256


def walk_stored(walk: ChainWalk, rows: Sequence[Any]) -> BrokenLink | None:
    """Checks stored rows of one tenant's chain, continuing `walk`."""
    if walk.broken is not None:
        return walk.broken
    head, expected, checkpoints = walk.head_hash, walk.next_seq, walk.checkpoints
    for position, (seq, digest, intact, prev_hash, stored_hash) in enumerate(rows):
        if (
            seq != expected
            or not intact
            or prev_hash != head
            or _sha256(head + digest).digest() != stored_hash
            or (checkpoints and checkpoints.get(seq, stored_hash) != stored_hash)
        ):
            walk.advance_to(expected, head)
            return walk.walk(_link(row) for row in rows[position:])  # names what broke
        head, expected = stored_hash, expected + 1
    walk.advance_to(expected, head)
    return None


def _link(row: Sequence[Any]) -> ChainLink:
    seq, digest, intact, prev_hash, stored_hash = row
    problem = None if intact else PAYLOAD_ALTERED
    return ChainLink(seq=seq, digest=digest, hash=stored_hash, prev_hash=prev_hash, problem=problem)
