"""Verifying records as the log stores them: the hot loop of the verification API and job.

Each row is a stored record in `STORED_FIELDS` order: its digest is recomputed from its fields
exactly as `chain.canonical_encoding` lays them out (inlined here: this loop runs for every
record of every chain), then linked to the previous hash. Whether the payload still matches its
digest is computed beside the row by the database (`payload_intact`), so the payload itself
need not travel; the offline verifier recomputes that too.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from typing import Any

from mandi_audit.domain.chain import ENCODING, record_digest
from mandi_audit.domain.verification import PAYLOAD_ALTERED, BrokenLink, ChainLink, ChainWalk

__all__ = ["STORED_FIELDS", "walk_stored"]

STORED_FIELDS = (
    "seq",
    "event_id",
    "type",
    "source",
    "aggregate",
    "actor",
    "correlation_id",
    "occurred_us",
    "payload_digest",
    "payload_intact",
    "prev_hash",
    "hash",
)
_FIXED = struct.Struct(">16sQq32s")
_LENGTH = struct.Struct(">I").pack
_sha256 = hashlib.sha256


def walk_stored(walk: ChainWalk, tenant: bytes, rows: Sequence[Any]) -> BrokenLink | None:
    """Checks stored rows of one tenant's chain (16-byte id), continuing `walk`."""
    if walk.broken is not None:
        return walk.broken
    head, expected, checkpoints = walk.head_hash, walk.next_seq, walk.checkpoints
    for position, row in enumerate(rows):
        seq, event_id, type_, source, aggregate, actor, correlation, micros, digest = row[:9]
        intact, prev_hash, stored_hash = row[9], row[10], row[11]
        if seq != expected or not intact or prev_hash != head:
            return _named(walk, tenant, rows[position:], head, expected)
        parts = [ENCODING, _FIXED.pack(tenant, seq, micros, digest)]
        for text in (event_id, type_, source, aggregate, actor, correlation):
            encoded = text.encode()
            parts.append(_LENGTH(len(encoded)))
            parts.append(encoded)
        if _sha256(head + _sha256(b"".join(parts)).digest()).digest() != stored_hash or (
            checkpoints and checkpoints.get(seq, stored_hash) != stored_hash
        ):
            return _named(walk, tenant, rows[position:], head, expected)
        head, expected = stored_hash, expected + 1
    walk.advance_to(expected, head)
    return None


def _named(
    walk: ChainWalk, tenant: bytes, rest: Sequence[Any], head: bytes, expected: int
) -> BrokenLink | None:
    """The general walk over the rest, from the last good link: it names what is broken."""
    walk.advance_to(expected, head)
    return walk.walk(
        ChainLink(
            seq=row[0],
            digest=record_digest(tenant, row[0], row[7], row[8], tuple(row[1:7])),
            hash=row[11],
            prev_hash=row[10],
            problem=None if row[9] else PAYLOAD_ALTERED,
        )
        for row in rest
    )
