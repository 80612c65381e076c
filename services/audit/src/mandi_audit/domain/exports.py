"""The partner export, format version 1: a stretch of a tenant's chain up to a signed
checkpoint, the partner's own records in full and everyone else's as digests only, verifiable
offline with nothing but the file and the published key set.

JSON Lines in UTF-8. Every line is the canonical JSON of its value, `json.dumps(value,
sort_keys=True, separators=(",", ":"), ensure_ascii=False)`, followed by "\\n". In order:

    header            {"format": "mandi-audit-export/1", "tenant_id", "partner_id", "from", "to",
                       "start_seq", "prev_hash"}
    one line per seq  {"seq", "record": {...the record's fields and payload}, "prev_hash", "hash"}
                      for the partner's own records, {"seq", "digest", "hash"} for anyone else's
    checkpoint        {"checkpoint": {"tenant_id", "seq", "hash", "signed_at", "key_id",
                       "signature"}}, signing the last record's hash
    export signature  {"export_signature": {"key_id", "signature"}}: Ed25519 over
                      b"mandi-audit-export/1\\n" + SHA-256(every byte of the file before this line)

The checkpoint's signature vouches for the records (their digests recomputed, then chained up to
its hash); the export's signature for everything else (the window, the partner, which records
are whose). Verification accepts the canonical form only, so no byte can change unnoticed.
`docs/audit-chain.md` describes the format for verifiers in other languages.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mandi_audit.domain.chain import (
    DIGEST_BYTES,
    GENESIS_HASH,
    AuditEntry,
    micros_of,
    moment_of,
    payload_digest,
)
from mandi_audit.domain.checkpoints import Checkpoint
from mandi_audit.domain.verification import PAYLOAD_ALTERED, ChainLink, ChainWalk

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_MESSAGE",
    "ExportCheck",
    "ExportHeader",
    "ExportWriter",
    "SignBytes",
    "canonical_line",
    "checkpoint_line",
    "digest_line",
    "export_signature_line",
    "export_signed_message",
    "format_timestamp",
    "header_line",
    "own_record_line",
    "parse_timestamp",
    "verify_export",
    "verify_export_lines",
]

EXPORT_FORMAT = "mandi-audit-export/1"
EXPORT_MESSAGE = b"mandi-audit-export/1\n"
SignBytes = Callable[[bytes], tuple[str, bytes]]
"""Signs a message with the current key: (key id, signature). `CheckpointSigner.sign_bytes`."""

_MAX_SEQ = 2**64 - 1
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_HEADER_KEYS = frozenset(
    {"format", "tenant_id", "partner_id", "from", "to", "start_seq", "prev_hash"}
)
_OWN_KEYS = frozenset({"seq", "record", "prev_hash", "hash"})
_DIGEST_KEYS = frozenset({"seq", "digest", "hash"})
_RECORD_KEYS = frozenset(
    {
        "event_id",
        "type",
        "source",
        "aggregate",
        "actor",
        "occurred_at",
        "correlation_id",
        "payload_digest",
        "payload",
    }
)
_CHECKPOINT_KEYS = frozenset({"tenant_id", "seq", "hash", "signed_at", "key_id", "signature"})
_SIGNATURE_KEYS = frozenset({"key_id", "signature"})


@dataclass(frozen=True, slots=True)
class ExportHeader:
    """What an export covers: whose chain, for which partner, the time window of the partner's
    records ([window_start, window_end)), and where the chain segment starts."""

    tenant_id: UUID
    partner_id: UUID
    window_start: datetime
    window_end: datetime
    start_seq: int
    prev_hash: bytes


@dataclass(frozen=True, slots=True)
class ExportCheck:
    """What verifying an export found: ok, or the first failing line (1-based) and why.

    The header, checkpoint and counts are what was read before the failure, if there was one;
    only a check that is ok vouches for them.
    """

    ok: bool
    line: int | None
    reason: str | None
    header: ExportHeader | None
    checkpoint: Checkpoint | None
    own_records: int
    other_records: int

    @property
    def checkpoint_seq(self) -> int | None:
        """The seq the export's checkpoint signs, where the verified segment ends."""
        return None if self.checkpoint is None else self.checkpoint.seq


# Writing


def canonical_line(value: Mapping[str, Any]) -> bytes:
    """A value as one line of an export: canonical JSON, UTF-8, then a newline."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text + "\n").encode()


def format_timestamp(moment: datetime) -> str:
    """The one way an export writes a time: RFC 3339 in UTC, six fraction digits and a Z."""
    utc = moment_of(micros_of(moment))
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_timestamp(text: str) -> datetime:
    """A time written by `format_timestamp`; raises ValueError on any other form of it."""
    try:
        moment = datetime.fromisoformat(text.removesuffix("Z") + "+00:00")
    except ValueError:
        raise ValueError(f"{text!r} is not a time") from None
    if format_timestamp(moment) != text:
        raise ValueError(f"{text!r} is not in the form 2026-01-31T23:59:59.000000Z")
    return moment.astimezone(UTC)


def header_line(header: ExportHeader) -> bytes:
    """The export's first line."""
    return canonical_line(
        {
            "format": EXPORT_FORMAT,
            "tenant_id": str(header.tenant_id),
            "partner_id": str(header.partner_id),
            "from": format_timestamp(header.window_start),
            "to": format_timestamp(header.window_end),
            "start_seq": header.start_seq,
            "prev_hash": header.prev_hash.hex(),
        }
    )


def own_record_line(
    entry: AuditEntry, payload: bytes, prev_hash: bytes, chain_hash: bytes
) -> bytes:
    """A record of the partner's own, in full: every field its digest covers, and the payload
    as stored (so an altered payload shows as one)."""
    record = {
        "event_id": entry.event_id,
        "type": entry.type,
        "source": entry.source,
        "aggregate": entry.aggregate,
        "actor": entry.actor,
        "occurred_at": format_timestamp(entry.occurred_at),
        "correlation_id": entry.correlation_id,
        "payload_digest": entry.payload_digest.hex(),
        "payload": base64.b64encode(payload).decode("ascii"),
    }
    return canonical_line(
        {
            "seq": entry.seq,
            "record": record,
            "prev_hash": prev_hash.hex(),
            "hash": chain_hash.hex(),
        }
    )


def digest_line(seq: int, digest: bytes, chain_hash: bytes) -> bytes:
    """Someone else's record: its digest and hash only, enough to carry the chain through it."""
    return canonical_line({"seq": seq, "digest": digest.hex(), "hash": chain_hash.hex()})


def checkpoint_line(checkpoint: Checkpoint) -> bytes:
    """The signed checkpoint at the export's last record."""
    return canonical_line(
        {
            "checkpoint": {
                "tenant_id": str(checkpoint.tenant_id),
                "seq": checkpoint.seq,
                "hash": checkpoint.hash.hex(),
                "signed_at": format_timestamp(checkpoint.signed_at),
                "key_id": checkpoint.key_id,
                "signature": _base64url(checkpoint.signature),
            }
        }
    )


def export_signed_message(digest_of_lines: bytes) -> bytes:
    """The bytes an export's signature covers, from the SHA-256 of every line before it."""
    if len(digest_of_lines) != DIGEST_BYTES:
        raise ValueError("the digest of an export's lines is 32 bytes")
    return EXPORT_MESSAGE + digest_of_lines


def export_signature_line(key_id: str, signature: bytes) -> bytes:
    """The export's last line."""
    return canonical_line(
        {"export_signature": {"key_id": key_id, "signature": _base64url(signature)}}
    )


class ExportWriter:
    """Hashes an export's lines as they go out (streamed or stored), then signs them."""

    def __init__(self) -> None:
        self._lines_digest = hashlib.sha256()

    def add(self, line: bytes) -> bytes:
        """Counts a line into what the signature covers; the line, to send on."""
        self._lines_digest.update(line)
        return line

    def signature_line(self, sign: SignBytes) -> bytes:
        """The last line: the signature over every line added."""
        key_id, signature = sign(export_signed_message(self._lines_digest.digest()))
        return export_signature_line(key_id, signature)


def _base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# Verifying


def verify_export(data: bytes, public_keys: Mapping[str, Ed25519PublicKey]) -> ExportCheck:
    """Checks a whole export held in memory against the published keys."""
    return verify_export_lines(io.BytesIO(data), public_keys)


def verify_export_lines(
    lines: Iterable[bytes], public_keys: Mapping[str, Ed25519PublicKey]
) -> ExportCheck:
    """Checks an export line by line, each with its newline, as a binary file yields them (in
    constant memory, however long the export)."""
    reading = _ExportReading(public_keys)
    number = 0
    for number, line in enumerate(lines, start=1):
        try:
            reading.read(line)
        except _Refused as refusal:
            return reading.result(number, str(refusal))
    if not reading.signed:
        missing = "the export is empty" if number == 0 else "the export ends before its signature"
        return reading.result(number + 1, missing)
    return reading.result()


class _Refused(Exception):
    """A line is not what format 1 allows there; the message says why."""


class _ExportReading:
    """Where the reading of one export has got to: the header, the chain walked so far, the
    checkpoint, and the digest of the lines the export's signature covers."""

    def __init__(self, public_keys: Mapping[str, Ed25519PublicKey]) -> None:
        self._public_keys = public_keys
        self._lines_digest = hashlib.sha256()
        self._walk = ChainWalk()
        self.header: ExportHeader | None = None
        self.checkpoint: Checkpoint | None = None
        self.signed = False
        self.own_records = 0
        self.other_records = 0

    def read(self, line: bytes) -> None:
        """Checks the next line; raises _Refused at the first thing wrong with it."""
        value = _value_of(line)
        if self.header is None:
            self._read_header(value)
        elif self.signed:
            raise _Refused("nothing may follow the export's signature")
        elif self.checkpoint is None and "checkpoint" not in value:
            self._read_record(value, self.header)
        elif self.checkpoint is None:
            self._read_checkpoint(value, self.header)
        else:
            self._read_signature(value)
        self._lines_digest.update(line)

    def result(self, line: int | None = None, reason: str | None = None) -> ExportCheck:
        """The outcome: ok unless a reason is given."""
        return ExportCheck(
            ok=reason is None,
            line=line,
            reason=reason,
            header=self.header,
            checkpoint=self.checkpoint,
            own_records=self.own_records,
            other_records=self.other_records,
        )

    def _read_header(self, value: dict[str, Any]) -> None:
        header = _header_of(value)
        self._walk = ChainWalk(prev_hash=header.prev_hash, next_seq=header.start_seq)
        self.header = header

    def _read_record(self, value: dict[str, Any], header: ExportHeader) -> None:
        if "record" in value:
            link = _own_link(_fields(value, _OWN_KEYS, "a record of yours"), header)
        elif "digest" in value:
            link = _digest_link(_fields(value, _DIGEST_KEYS, "a record of someone else's"))
        else:
            raise _Refused("expected a record or the checkpoint")
        broken = self._walk.walk([link])
        if broken is not None:
            raise _Refused(f"seq {broken.seq}: {broken.reason}")
        if "record" in value:
            _check_within_window(value["record"]["occurred_at"], header)
            self.own_records += 1
        else:
            self.other_records += 1

    def _read_checkpoint(self, value: dict[str, Any], header: ExportHeader) -> None:
        line = _fields(value, frozenset({"checkpoint"}), "the checkpoint line")
        checkpoint = _checkpoint_of(line["checkpoint"])
        if checkpoint.tenant_id != header.tenant_id:
            raise _Refused(f"the checkpoint is of tenant {checkpoint.tenant_id}, not the export's")
        self._check_signature_of(checkpoint)
        last_seq = self._walk.next_seq - 1
        if checkpoint.seq != last_seq:
            raise _Refused(
                f"the records end at seq {last_seq}, the checkpoint is at {checkpoint.seq}"
            )
        if checkpoint.hash != self._walk.head_hash:
            raise _Refused(f"the chain's hash at seq {last_seq} is not the checkpoint's")
        self.checkpoint = checkpoint

    def _check_signature_of(self, checkpoint: Checkpoint) -> None:
        if checkpoint.key_id not in self._public_keys:
            raise _Refused(f"the checkpoint's key {checkpoint.key_id!r} is not in the key set")
        if not checkpoint.verifies_with(self._public_keys):
            raise _Refused("the checkpoint's signature does not verify")

    def _read_signature(self, value: dict[str, Any]) -> None:
        line = _fields(value, frozenset({"export_signature"}), "the export signature line")
        fields = _fields(line["export_signature"], _SIGNATURE_KEYS, "the export signature")
        key_id, signature = _text(fields, "key_id"), _base64url_bytes(fields, "signature")
        key = self._public_keys.get(key_id)
        if key is None:
            raise _Refused(f"the export's key {key_id!r} is not in the key set")
        try:
            key.verify(signature, export_signed_message(self._lines_digest.digest()))
        except InvalidSignature:
            raise _Refused("the export's signature does not verify (the file changed)") from None
        self.signed = True


def _value_of(line: bytes) -> dict[str, Any]:
    """A line's JSON object, provided the line is exactly its canonical form."""
    if not line.endswith(b"\n"):
        raise _Refused("the file does not end with a newline")
    try:
        value = json.loads(line.decode())
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise _Refused("not a line of UTF-8 JSON") from None
    if not isinstance(value, dict):
        raise _Refused("not a JSON object")
    try:
        canonical = canonical_line(value)
    except (UnicodeEncodeError, RecursionError):  # a lone surrogate escaped; nesting too deep
        canonical = b""
    if canonical != line:
        raise _Refused("not in canonical form (sorted keys, no spaces, characters as themselves)")
    return value


def _header_of(value: dict[str, Any]) -> ExportHeader:
    fields = _fields(value, _HEADER_KEYS, "the header")
    if fields["format"] != EXPORT_FORMAT:
        raise _Refused(f"the format is not {EXPORT_FORMAT}")
    header = ExportHeader(
        tenant_id=_uuid(fields, "tenant_id"),
        partner_id=_uuid(fields, "partner_id"),
        window_start=_timestamp(fields, "from"),
        window_end=_timestamp(fields, "to"),
        start_seq=_seq(fields, "start_seq"),
        prev_hash=_digest(fields, "prev_hash"),
    )
    if header.window_end < header.window_start:
        raise _Refused("the window ends before it starts")
    if header.start_seq == 1 and header.prev_hash != GENESIS_HASH:
        raise _Refused("the chain starts at seq 1, so prev_hash is 64 zeros")
    return header


def _own_link(fields: dict[str, Any], header: ExportHeader) -> ChainLink:
    """The link of a record of the partner's, its digest recomputed from its fields."""
    seq = _seq(fields, "seq")
    record = _fields(fields["record"], _RECORD_KEYS, "the record")
    payload = _base64_bytes(record, "payload")
    entry = AuditEntry(
        tenant_id=header.tenant_id,
        seq=seq,
        event_id=_text(record, "event_id"),
        type=_text(record, "type"),
        source=_text(record, "source"),
        aggregate=_text(record, "aggregate"),
        actor=_text(record, "actor"),
        occurred_at=_timestamp(record, "occurred_at"),
        correlation_id=_text(record, "correlation_id"),
        payload_digest=_digest(record, "payload_digest"),
    )
    problem = None if payload_digest(payload) == entry.payload_digest else PAYLOAD_ALTERED
    hash_, prev_hash = _digest(fields, "hash"), _digest(fields, "prev_hash")
    return ChainLink(seq, entry.digest(), hash_, prev_hash=prev_hash, problem=problem)


def _digest_link(fields: dict[str, Any]) -> ChainLink:
    """The link of someone else's record, from the digest given."""
    return ChainLink(_seq(fields, "seq"), _digest(fields, "digest"), _digest(fields, "hash"))


def _check_within_window(occurred_at: str, header: ExportHeader) -> None:
    if not header.window_start <= parse_timestamp(occurred_at) < header.window_end:
        raise _Refused("the record's occurred_at is outside the export's window [from, to)")


def _checkpoint_of(value: Any) -> Checkpoint:
    fields = _fields(value, _CHECKPOINT_KEYS, "the checkpoint")
    return Checkpoint(
        tenant_id=_uuid(fields, "tenant_id"),
        seq=_seq(fields, "seq"),
        hash=_digest(fields, "hash"),
        signed_at=_timestamp(fields, "signed_at"),
        key_id=_text(fields, "key_id"),
        signature=_base64url_bytes(fields, "signature"),
    )


# Fields of a parsed line: each refuses anything but the one form the exporter writes.


def _fields(value: Any, keys: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or value.keys() != keys:
        found = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise _Refused(f"{what} has {found}, not the fields {sorted(keys)}")
    return value


def _text(fields: dict[str, Any], key: str) -> str:
    text = fields[key]
    if not isinstance(text, str):
        raise _Refused(f"{key} is not a string")
    return text


def _seq(fields: dict[str, Any], key: str) -> int:
    seq = fields[key]
    # bool is an int to Python, but true is not a seq
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= _MAX_SEQ:
        raise _Refused(f"{key} is not a seq (an integer from 1 to 2**64 - 1)")
    return seq


def _digest(fields: dict[str, Any], key: str) -> bytes:
    text = _text(fields, key)
    if not _HEX_DIGEST.fullmatch(text):
        raise _Refused(f"{key} is not 64 lowercase hex digits")
    return bytes.fromhex(text)


def _uuid(fields: dict[str, Any], key: str) -> UUID:
    text = _text(fields, key)
    try:
        uuid = UUID(text)
    except ValueError:
        uuid = None
    if uuid is None or str(uuid) != text:
        raise _Refused(f"{key} is not a UUID in lowercase hyphenated form")
    return uuid


def _timestamp(fields: dict[str, Any], key: str) -> datetime:
    try:
        return parse_timestamp(_text(fields, key))
    except ValueError as error:
        raise _Refused(f"{key}: {error}") from None


def _base64_bytes(fields: dict[str, Any], key: str) -> bytes:
    text = _text(fields, key)
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error is one
        raw = None
    if raw is None or base64.b64encode(raw).decode("ascii") != text:
        raise _Refused(f"{key} is not canonical base64")
    return raw


def _base64url_bytes(fields: dict[str, Any], key: str) -> bytes:
    text = _text(fields, key)
    raw = None
    if _BASE64URL.fullmatch(text) and len(text) % 4 != 1:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if raw is None or _base64url(raw) != text:
        raise _Refused(f"{key} is not canonical base64url without padding")
    return raw
