"""What the API shows: a record (who did what, when, and why: its correlation and payload),
the outcome of a verification, the published keys."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field

from mandi_audit.service_layer.verification import VerificationReport

__all__ = ["BrokenLinkView", "JsonWebKey", "KeySetView", "RecordView", "VerificationView"]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecordView(_View):
    """One audit record: the event as produced, its place in the tenant's chain."""

    seq: int = Field(description="Its place in the tenant's chain, from 1.")
    event_id: str
    type: str = Field(description="The CloudEvents type, e.g. mandi.partner.approved.v1.")
    source: str = Field(description="The service that produced it.")
    aggregate: str = Field(description="What it is about (the CloudEvents subject).")
    actor: str = Field(description="Who did it: the principal it names, or the service.")
    occurred_at: datetime
    correlation_id: str = Field(description="Why: the request or process it belongs to.")
    parties: list[UUID] = Field(description="The partners it concerns.")
    payload: Any = Field(description="The payload as produced (JSON), or base64 if not JSON.")
    payload_digest: str = Field(description="SHA-256 of the payload's bytes, hex.")
    recorded_at: datetime
    prev_hash: str
    hash: str


def record_view(row: Mapping[str, Any]) -> RecordView:
    """A stored record as the API shows it."""
    return RecordView(
        seq=row["seq"],
        event_id=row["event_id"],
        type=row["type"],
        source=row["source"],
        aggregate=row["aggregate"],
        actor=row["actor"],
        occurred_at=row["occurred_at"],
        correlation_id=row["correlation_id"],
        parties=list(row["parties"]),
        payload=_payload(row["payload"]),
        payload_digest=row["payload_digest"].hex(),
        recorded_at=row["recorded_at"],
        prev_hash=row["prev_hash"].hex(),
        hash=row["hash"].hex(),
    )


def _payload(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return base64.b64encode(payload).decode()


class BrokenLinkView(_View):
    """The first record at which the chain does not hold."""

    seq: int
    reason: str


class VerificationView(_View):
    """What verifying the chain (or a range of it) found."""

    tenant_id: UUID
    intact: bool
    first_seq: int
    last_seq: int = Field(description="The last record checked.")
    checked: int
    checkpoints_verified: int = Field(description="Signed checkpoints the chain matched.")
    head_hash: str = Field(description="The hash at last_seq, hex.")
    broken: BrokenLinkView | None = Field(description="The first broken link; null when intact.")


def verification_view(report: VerificationReport) -> VerificationView:
    """A verification's report as the API shows it."""
    broken = report.broken
    return VerificationView(
        tenant_id=report.tenant_id,
        intact=report.intact,
        first_seq=report.first_seq,
        last_seq=report.last_seq,
        checked=report.checked,
        checkpoints_verified=report.checkpoints_verified,
        head_hash=report.head_hash.hex(),
        broken=None if broken is None else BrokenLinkView(seq=broken.seq, reason=broken.reason),
    )


class JsonWebKey(_View):
    """An Ed25519 public key (RFC 8037)."""

    kty: str
    crv: str
    kid: str
    x: str
    alg: str
    use: str


class KeySetView(_View):
    """Every key that ever signed a checkpoint or an export."""

    keys: list[JsonWebKey]
