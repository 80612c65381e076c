"""The chain's encoding v1, digests and links: the published vectors, exact times, and the
encoding's refusals."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from mandi_audit.domain.chain import (
    ENCODING,
    GENESIS_HASH,
    AuditEntry,
    canonical_encoding,
    link_hash,
    micros_of,
    moment_of,
    payload_digest,
    record_digest,
)

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "chain-v1.json").read_text(encoding="utf-8")
)
RECORDS: list[dict[str, Any]] = VECTORS["records"]
TEXT_FIELDS = ("event_id", "type", "source", "aggregate", "actor", "correlation_id")


def moment_in(text: str) -> datetime:
    return datetime.fromisoformat(text)


def entry_of(vector: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        tenant_id=UUID(vector["tenant_id"]),
        seq=vector["seq"],
        event_id=vector["event_id"],
        type=vector["type"],
        source=vector["source"],
        aggregate=vector["aggregate"],
        actor=vector["actor"],
        occurred_at=moment_in(vector["occurred_at"]),
        correlation_id=vector["correlation_id"],
        payload_digest=payload_digest(bytes.fromhex(vector["payload_hex"])),
    )


def test_the_vectors_cover_the_cases_other_implementations_get_wrong():
    assert len({vector["tenant_id"] for vector in RECORDS}) == 2
    assert any(vector["actor"] == "" and vector["correlation_id"] == "" for vector in RECORDS)
    assert any(vector["occurred_at_micros"] < 0 for vector in RECORDS)
    assert any(vector["seq"] > 2**53 for vector in RECORDS)
    assert any(not vector["actor"].isascii() for vector in RECORDS)


@pytest.mark.parametrize("vector", RECORDS, ids=[str(vector["seq"]) for vector in RECORDS])
def test_a_vector_record_encodes_and_digests_as_published(vector):
    entry = entry_of(vector)
    assert entry.payload_digest.hex() == vector["payload_digest"]
    assert micros_of(entry.occurred_at) == vector["occurred_at_micros"]
    assert entry.encoding().hex() == vector["canonical_encoding"]
    assert entry.digest().hex() == vector["record_digest"]


@pytest.mark.parametrize("vector", RECORDS, ids=[str(vector["seq"]) for vector in RECORDS])
def test_the_hot_path_digest_from_raw_parts_equals_the_entrys(vector):
    digest = record_digest(
        UUID(vector["tenant_id"]).bytes,
        vector["seq"],
        vector["occurred_at_micros"],
        bytes.fromhex(vector["payload_digest"]),
        tuple(vector[field] for field in TEXT_FIELDS),
    )
    assert digest.hex() == vector["record_digest"]


def test_the_vectors_chain_per_tenant_from_their_prev_hash():
    heads: dict[str, bytes] = {}
    for vector in RECORDS:
        prev_hash = bytes.fromhex(vector["prev_hash"])
        if vector["seq"] == 1:
            assert prev_hash == GENESIS_HASH
        else:
            assert prev_hash == heads.get(vector["tenant_id"], prev_hash)
        chained = link_hash(prev_hash, entry_of(vector).digest())
        assert chained.hex() == vector["hash"]
        heads[vector["tenant_id"]] = chained
    assert len(heads) == 2


@pytest.mark.parametrize(
    ("moment", "micros"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), 0),
        (datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), -1),
        (datetime(1969, 7, 20, 20, 17, 40, 1, tzinfo=UTC), -14_182_939_999_999),
        (datetime(1, 1, 1, tzinfo=UTC), -62_135_596_800_000_000),
        # A float timestamp is off by tens of microseconds this far out.
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), 253_402_300_799_999_999),
        (
            datetime(
                2026, 3, 1, 14, 45, 30, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))
            ),
            1_772_356_530_123_456,
        ),
    ],
)
def test_micros_of_is_exact_and_moment_of_inverts_it(moment, micros):
    assert micros_of(moment) == micros
    assert moment_of(micros) == moment
    assert moment_of(micros).utcoffset() == timedelta(0)


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        micros_of(datetime(2026, 3, 1, 9, 15))  # noqa: DTZ001 (the naive time is the point)


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_the_encoding_refuses_a_payload_digest_of_the_wrong_length(length):
    with pytest.raises(ValueError, match="32 bytes"):
        canonical_encoding(UUID(int=1).bytes, 1, 0, bytes(length), ("",) * 6)
    entry = AuditEntry(UUID(int=1), 1, "e", "t", "s", "a", "", moment_of(0), "", bytes(length))
    with pytest.raises(ValueError, match="32 bytes"):
        entry.digest()


def test_the_encoding_starts_with_its_name_and_version():
    encoding = entry_of(RECORDS[0]).encoding()
    assert encoding.startswith(ENCODING)
    assert ENCODING == b"mandi-audit/1\n"


def test_moving_bytes_between_adjacent_texts_changes_the_digest():
    texts = ("event", "type", "source", "aggregate", "ab", "c")
    shifted = ("event", "type", "source", "aggregate", "a", "bc")
    digest = payload_digest(b"")
    assert record_digest(bytes(16), 1, 0, digest, texts) != record_digest(
        bytes(16), 1, 0, digest, shifted
    )


@pytest.mark.parametrize(
    "field", ["tenant_id", "seq", "occurred_at", "payload_digest", *TEXT_FIELDS]
)
def test_every_field_is_covered_by_the_digest(field):
    entry = entry_of(RECORDS[2])
    changed = {
        "tenant_id": UUID(int=entry.tenant_id.int ^ 1),
        "seq": entry.seq + 1,
        "occurred_at": entry.occurred_at + timedelta(microseconds=1),
        "payload_digest": payload_digest(b"another payload"),
    }.get(field, f"{getattr(entry, field)}.")
    assert replace(entry, **{field: changed}).digest() != entry.digest()


@pytest.mark.parametrize("length", [0, 15, 17, 32])
def test_the_encoding_refuses_a_tenant_id_of_the_wrong_length(length):
    with pytest.raises(ValueError, match="16 bytes"):
        canonical_encoding(bytes(length), 1, 0, bytes(32), ("",) * 6)
