"""Walking a chain: every link recomputed, every signed checkpoint on the way compared.

The walker takes links in seq order, a batch at a time, so a chain of millions is checked in
constant memory, from the database or from an export. It stops at the first broken link and
says why: a gap in the sequence (a deleted or reordered record), a `prev_hash` that is not the
previous record's hash, a hash that is not what the record's contents give (an edited record),
or a hash that is not what a signed checkpoint says it was (a rewritten tail).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mandi_audit.domain.chain import GENESIS_HASH, link_hash

__all__ = ["PAYLOAD_ALTERED", "BrokenLink", "ChainLink", "ChainWalk"]

PAYLOAD_ALTERED = "the payload does not match its digest"


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One record as a verifier sees it: its seq, its digest as recomputed from its contents
    (or as given, for a record the verifier may not see), and the hashes stored with it.

    `problem` is set when the record was found altered before its link was even computed (its
    payload no longer matches the payload digest); `prev_hash` is None where it is not given.
    """

    seq: int
    digest: bytes
    hash: bytes
    prev_hash: bytes | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """The first record at which the chain does not hold, and why."""

    seq: int
    reason: str


class ChainWalk:
    """Checks a chain's links in order from a known start, batch after batch.

    `checkpoints` maps a seq to the hash a verified signature says the chain had there.
    """

    def __init__(
        self,
        *,
        prev_hash: bytes = GENESIS_HASH,
        next_seq: int = 1,
        checkpoints: Mapping[int, bytes] | None = None,
    ) -> None:
        self.head_hash = prev_hash
        self.next_seq = next_seq
        self.checked = 0
        self.checkpoints_matched = 0
        self.broken: BrokenLink | None = None
        self.checkpoints = dict(checkpoints or {})

    def advance_to(self, next_seq: int, head_hash: bytes) -> None:
        """Takes the links up to `next_seq` as checked elsewhere (the fast loop of stored.py)."""
        self.checked += next_seq - self.next_seq
        self.checkpoints_matched += sum(
            1 for seq in self.checkpoints if self.next_seq <= seq < next_seq
        )
        self.next_seq, self.head_hash = next_seq, head_hash

    def walk(self, links: Iterable[ChainLink]) -> BrokenLink | None:
        """Checks the next links; the first broken link so far, if any (then stops checking)."""
        if self.broken is not None:
            return self.broken
        head, expected, checkpoints = self.head_hash, self.next_seq, self.checkpoints
        for link in links:
            reason = _fault(link, head, expected)
            if reason is None and checkpoints and checkpoints.get(link.seq, link.hash) != link.hash:
                reason = "the hash differs from the signed checkpoint at this seq (rewritten)"
            if reason is not None:
                self.broken = BrokenLink(expected, reason)  # where the chain stops holding
                break
            if checkpoints and link.seq in checkpoints:
                self.checkpoints_matched += 1
            head, expected = link.hash, expected + 1
            self.checked += 1
        self.head_hash, self.next_seq = head, expected
        return self.broken


def _fault(link: ChainLink, head: bytes, expected: int) -> str | None:
    if link.seq != expected:
        return f"expected seq {expected}, found {link.seq} (a record is missing or moved)"
    if link.problem is not None:
        return link.problem
    if link.prev_hash is not None and link.prev_hash != head:
        return "prev_hash is not the previous record's hash"
    if link_hash(head, link.digest) != link.hash:
        return "the hash does not match the record's contents"
    return None
