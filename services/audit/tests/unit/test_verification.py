"""Walking a chain: an intact one holds across batches; each kind of tampering is caught at
the record where it happened, with the reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

from mandi_audit.domain.chain import GENESIS_HASH, AuditEntry, link_hash, payload_digest
from mandi_audit.domain.verification import PAYLOAD_ALTERED, BrokenLink, ChainLink, ChainWalk

TENANT = UUID("6f1d3c2a-9b84-4e57-a0c1-5d2e8f7b3a90")
START = datetime(2026, 3, 1, 9, tzinfo=UTC)


def entry(seq: int, actor: str = "user:asha") -> AuditEntry:
    return AuditEntry(
        tenant_id=TENANT,
        seq=seq,
        event_id=f"event-{seq}",
        type="mandi.trade.settled.v1",
        source="mandi.matching",
        aggregate=f"trade:{seq}",
        actor=actor,
        occurred_at=START + timedelta(minutes=seq),
        correlation_id=f"corr-{seq}",
        payload_digest=payload_digest(f'{{"trade":{seq}}}'.encode()),
    )


def chained(entries: Sequence[AuditEntry], prev_hash: bytes = GENESIS_HASH) -> list[ChainLink]:
    """The links of these records as ingestion stores them, each hash from the one before."""
    links = []
    for record in entries:
        digest = record.digest()
        chain_hash = link_hash(prev_hash, digest)
        links.append(ChainLink(record.seq, digest, chain_hash, prev_hash=prev_hash))
        prev_hash = chain_hash
    return links


def intact_chain(count: int = 10) -> list[ChainLink]:
    return chained([entry(seq) for seq in range(1, count + 1)])


def walk_in_batches(
    links: Sequence[ChainLink], walk: ChainWalk | None = None, size: int = 3
) -> tuple[ChainWalk, BrokenLink | None]:
    walk = walk or ChainWalk()
    broken = None
    for start in range(0, len(links), size):
        broken = walk.walk(links[start : start + size])
    return walk, broken


def test_an_intact_chain_holds_across_batches():
    links = intact_chain(10)
    walk, broken = walk_in_batches(links)
    assert broken is None
    assert walk.checked == 10
    assert walk.next_seq == 11
    assert walk.head_hash == links[-1].hash


def test_a_segment_verifies_from_the_hash_before_it():
    links = intact_chain(10)
    walk, broken = walk_in_batches(links[4:], ChainWalk(prev_hash=links[3].hash, next_seq=5))
    assert broken is None
    assert walk.checked == 6


def test_a_segment_from_the_wrong_prev_hash_breaks_at_its_first_record():
    links = intact_chain(10)
    _, broken = walk_in_batches(links[4:], ChainWalk(prev_hash=links[2].hash, next_seq=5))
    assert broken is not None
    assert broken.seq == 5
    assert "prev_hash" in broken.reason


def test_a_record_edited_in_place_breaks_at_that_record():
    links = intact_chain(10)
    edited = replace(links[4], digest=entry(5, actor="user:mallory").digest())
    walk, broken = walk_in_batches([*links[:4], edited, *links[5:]])
    assert broken == BrokenLink(5, "the hash does not match the record's contents")
    assert walk.checked == 4


def test_a_record_edited_with_its_hash_recomputed_breaks_at_the_next():
    links = intact_chain(10)
    digest = entry(5, actor="user:mallory").digest()
    edited = replace(links[4], digest=digest, hash=link_hash(links[3].hash, digest))
    _, broken = walk_in_batches([*links[:4], edited, *links[5:]])
    assert broken == BrokenLink(6, "prev_hash is not the previous record's hash")


def test_a_deleted_record_breaks_the_sequence_where_it_was():
    links = intact_chain(10)
    _, broken = walk_in_batches([*links[:4], *links[5:]])
    assert broken is not None
    assert broken.seq == 5
    assert "expected seq 5, found 6" in broken.reason


def test_swapped_records_break_the_sequence():
    links = intact_chain(10)
    _, broken = walk_in_batches([*links[:4], links[5], links[4], *links[6:]])
    assert broken is not None
    assert broken.seq == 5
    assert "expected seq 5, found 6" in broken.reason


def test_a_repeated_record_is_reported_at_the_seq_expected():
    links = intact_chain(10)
    _, broken = walk_in_batches([*links[:5], links[4], *links[5:]])
    assert broken is not None
    assert broken.seq == 6
    assert "expected seq 6, found 5" in broken.reason


def test_a_rewritten_tail_holds_together_but_a_signed_checkpoint_catches_it():
    original = intact_chain(10)
    rewritten = original[:4] + chained(
        [entry(5, actor="user:mallory"), *(entry(seq) for seq in range(6, 11))],
        prev_hash=original[3].hash,
    )
    _, unsigned = walk_in_batches(rewritten)
    assert unsigned is None  # a consistent rewrite: only a signature can tell

    walk, broken = walk_in_batches(
        rewritten, ChainWalk(checkpoints={3: original[2].hash, 8: original[7].hash})
    )
    assert broken is not None
    assert broken.seq == 8
    assert "checkpoint" in broken.reason
    assert walk.checkpoints_matched == 1


def test_checkpoints_on_an_intact_chain_all_match():
    links = intact_chain(10)
    checkpoints = {3: links[2].hash, 9: links[8].hash}
    walk, broken = walk_in_batches(links, ChainWalk(checkpoints=checkpoints))
    assert broken is None
    assert walk.checkpoints_matched == 2


def test_a_payload_found_altered_is_reported_at_its_record():
    links = intact_chain(10)
    altered = replace(links[6], problem=PAYLOAD_ALTERED)
    _, broken = walk_in_batches([*links[:6], altered, *links[7:]])
    assert broken == BrokenLink(7, PAYLOAD_ALTERED)


def test_a_record_given_by_digest_only_still_carries_the_chain():
    links = [replace(link, prev_hash=None) for link in intact_chain(6)]
    _, broken = walk_in_batches(links)
    assert broken is None
    wrong = replace(links[2], digest=entry(3, actor="user:mallory").digest())
    _, broken = walk_in_batches([*links[:2], wrong, *links[3:]])
    assert broken is not None
    assert broken.seq == 3


def test_after_a_break_the_walk_stops_and_keeps_reporting_it():
    links = intact_chain(10)
    walk = ChainWalk()
    first = walk.walk([*links[:2], links[3]])
    assert first is not None
    assert walk.walk(links[2:]) is first
    assert walk.checked == 2
    assert walk.next_seq == 3
