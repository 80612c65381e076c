"""The audit chain: a record's canonical encoding (version 1), its digest, and the link to the
record before it. `docs/audit-chain.md` describes the encoding for verifiers in any language;
`tests/vectors/chain-v1.json` holds vectors every implementation must reproduce.

Version 1, byte for byte:

    b"mandi-audit/1\\n"      the encoding's name and version (14 bytes)
    tenant id               16 bytes: the UUID's bytes, big-endian (RFC 9562)
    seq                     8 bytes: unsigned, big-endian; a tenant's first record is 1
    occurred_at             8 bytes: signed, big-endian microseconds since 1970-01-01T00:00:00Z,
                            the precision PostgreSQL's timestamptz stores
    payload digest          32 bytes: SHA-256 of the payload's bytes as produced
    event id, type, source, aggregate, actor, correlation id
                            each a 4-byte unsigned big-endian length, then its UTF-8 bytes
                            (an absent actor or correlation id is the empty string)

    record digest = SHA-256(encoding)
    hash          = SHA-256(prev_hash ‖ record digest), prev_hash being the previous record's
                    hash, or 32 zero bytes before a tenant's first record

A record's hash depends on its own fields only through its digest, so a chain segment can be
verified from the digests of records one may not see (a partner's export).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

__all__ = [
    "DIGEST_BYTES",
    "ENCODING",
    "GENESIS_HASH",
    "AuditEntry",
    "canonical_encoding",
    "link_hash",
    "micros_of",
    "moment_of",
    "payload_digest",
    "record_digest",
]

ENCODING = b"mandi-audit/1\n"
DIGEST_BYTES = 32
GENESIS_HASH = bytes(DIGEST_BYTES)
_TENANT_BYTES = 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_FIXED = struct.Struct(">16sQq32s")
_LENGTH = struct.Struct(">I")
_sha256 = hashlib.sha256


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """The fields of one audit record that its hash covers."""

    tenant_id: UUID
    seq: int
    event_id: str
    type: str
    source: str
    aggregate: str
    actor: str
    occurred_at: datetime
    correlation_id: str
    payload_digest: bytes

    def encoding(self) -> bytes:
        """The canonical encoding (version 1)."""
        return canonical_encoding(
            self.tenant_id.bytes,
            self.seq,
            micros_of(self.occurred_at),
            self.payload_digest,
            (
                self.event_id,
                self.type,
                self.source,
                self.aggregate,
                self.actor,
                self.correlation_id,
            ),
        )

    def digest(self) -> bytes:
        """SHA-256 of the canonical encoding."""
        return _sha256(self.encoding()).digest()


def canonical_encoding(
    tenant: bytes, seq: int, occurred_us: int, digest_of_payload: bytes, texts: tuple[str, ...]
) -> bytes:
    """The encoding from its parts: the tenant's 16 bytes, seq, microseconds, the payload's
    digest, then event id, type, source, aggregate, actor and correlation id."""
    if len(digest_of_payload) != DIGEST_BYTES or len(tenant) != _TENANT_BYTES:
        raise ValueError("a tenant id is 16 bytes and a payload digest 32 bytes")
    parts = [ENCODING, _FIXED.pack(tenant, seq, occurred_us, digest_of_payload)]
    for text in texts:
        encoded = text.encode()
        parts.append(_LENGTH.pack(len(encoded)))
        parts.append(encoded)
    return b"".join(parts)


def record_digest(
    tenant: bytes, seq: int, occurred_us: int, digest_of_payload: bytes, texts: tuple[str, ...]
) -> bytes:
    """SHA-256 of the canonical encoding of these parts (the hot path of ingestion and verify)."""
    return _sha256(canonical_encoding(tenant, seq, occurred_us, digest_of_payload, texts)).digest()


def payload_digest(payload: bytes) -> bytes:
    """SHA-256 of a payload's bytes as produced."""
    return _sha256(payload).digest()


def link_hash(prev_hash: bytes, digest: bytes) -> bytes:
    """A record's hash: SHA-256 of the previous hash followed by the record's digest."""
    return _sha256(prev_hash + digest).digest()


def micros_of(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (no float on the way)."""
    if moment.tzinfo is None:
        raise ValueError("an audit time is timezone-aware")
    return (moment - _EPOCH) // _MICROSECOND


def moment_of(micros: int) -> datetime:
    """The UTC time `micros` microseconds after the epoch."""
    return _EPOCH + timedelta(microseconds=micros)
