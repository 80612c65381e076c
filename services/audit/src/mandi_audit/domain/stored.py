"""Verifying records as the log stores them: the hot path of the verification API and job.

The database recomputes each stored record's digest from its fields (laid out byte for byte as
`chain.canonical_encoding` lays them out; the test vectors hold both to the same digests), its
payload's digest and its link to the record before it, and hands over only the rows worth a
look: a chunk's first and last, every row where something does not hold, and those a signed
checkpoint names. Each such row comes with its seq, its digest, whether its payload matches,
its stored `prev_hash` and `hash`, and the seq and hash of the row before it in the chunk.
Between two such rows every record held (the database said so), so the walk moves over them to
the next one and checks it here. The offline verifier recomputes everything itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mandi_audit.domain.verification import PAYLOAD_ALTERED, BrokenLink, ChainLink, ChainWalk

__all__ = ["STORED_FIELDS", "walk_stored"]

STORED_FIELDS = ("seq", "digest", "payload_intact", "prev_hash", "hash", "prior_seq", "prior_hash")


def walk_stored(walk: ChainWalk, rows: Sequence[Any]) -> BrokenLink | None:
    """Continues `walk` over a chunk's rows worth a look (see the module's docstring)."""
    for row in rows:
        if walk.broken is not None:
            break
        prior_seq = row["prior_seq"]
        if prior_seq is not None and prior_seq >= walk.next_seq:
            walk.advance_to(prior_seq + 1, row["prior_hash"])  # the rows between held
        problem = None if row["payload_intact"] else PAYLOAD_ALTERED
        walk.walk([ChainLink(row["seq"], row["digest"], row["hash"], row["prev_hash"], problem)])
    return walk.broken
