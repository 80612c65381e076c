"""CloudEvents 1.0 in Kafka binary mode: attributes in `ce_` headers, the JSON data as the value.

Extensions carry the tenant, the correlation and causation ids. The trace context travels twice,
with one value: as `ce_traceparent`, the CloudEvents distributed-tracing extension that SDKs
read, and as the plain W3C `traceparent` header that OpenTelemetry's Kafka propagation reads.
Any CloudEvents SDK can read these messages, context included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = [
    "CONTENT_TYPE",
    "FIXED_HEADERS",
    "HEADER_NAMES",
    "Envelope",
    "MalformedEnvelope",
    "format_time",
    "kafka_headers",
]

CONTENT_TYPE = "application/json"
_SPEC_VERSION = "1.0"
_REQUIRED = ("ce_id", "ce_source", "ce_type", "ce_specversion")


class MalformedEnvelope(ValueError):
    """A message that is not a CloudEvent of ours; it can never succeed, so it is not retried."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """One event as it travels: CloudEvents attributes, Mandi's extensions, the encoded data."""

    id: str
    source: str
    type: str
    subject: str
    data: bytes
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    tenant_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """The message headers, in binary content mode."""
        values = (
            self.id,
            self.source,
            self.type,
            format_time(self.time),
            self.subject,
            self.tenant_id,
            self.correlation_id,
            self.causation_id,
            self.traceparent,
        )
        return kafka_headers([value.encode() if value else None for value in values])

    @classmethod
    def from_kafka(cls, headers: Sequence[tuple[str, bytes]], value: bytes | None) -> Envelope:
        """Reads a message written by `kafka_headers`; raises MalformedEnvelope otherwise."""
        attributes = _decoded(headers)
        missing = [name for name in _REQUIRED if name not in attributes]
        if missing:
            raise MalformedEnvelope(f"not a CloudEvent: missing {', '.join(missing)}")
        if attributes["ce_specversion"] != _SPEC_VERSION:
            raise MalformedEnvelope(f"unsupported specversion {attributes['ce_specversion']!r}")
        return cls(
            id=attributes["ce_id"],
            source=attributes["ce_source"],
            type=attributes["ce_type"],
            subject=attributes.get("ce_subject", ""),
            data=value or b"",
            time=_parse_time(attributes.get("ce_time")),
            tenant_id=attributes.get("ce_tenantid"),
            correlation_id=attributes.get("ce_correlationid"),
            causation_id=attributes.get("ce_causationid"),
            traceparent=attributes.get("traceparent") or attributes.get("ce_traceparent"),
        )


def _decoded(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    try:
        return {name: value.decode() for name, value in headers if value is not None}
    except UnicodeDecodeError as error:
        raise MalformedEnvelope("a header is not UTF-8") from error


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, as ce_time carries it."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# The attribute headers in a fixed order; the last four are optional extensions. The outbox
# relay has PostgreSQL return their values as bytes in this order (outbox/relay.py).
HEADER_NAMES = (
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "ce_tenantid",
    "ce_correlationid",
    "ce_causationid",
    "traceparent",
)
FIXED_HEADERS = (
    ("ce_specversion", _SPEC_VERSION.encode()),
    ("content-type", CONTENT_TYPE.encode()),
)


_TRACEPARENT = HEADER_NAMES.index("traceparent")


def kafka_headers(values: Sequence[bytes | None]) -> list[tuple[str, bytes]]:
    """Binary-mode headers from values in HEADER_NAMES order; absent extensions are left out."""
    headers = [*FIXED_HEADERS, *((n, v) for n, v in zip(HEADER_NAMES, values, strict=True) if v)]
    traceparent = values[_TRACEPARENT]
    if traceparent:
        headers.append(("ce_traceparent", traceparent))
    return headers


def _parse_time(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(text)
    except ValueError as error:
        raise MalformedEnvelope(f"ce_time is not RFC 3339: {text!r}") from error
