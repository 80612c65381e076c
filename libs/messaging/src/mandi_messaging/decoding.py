"""From a Kafka record to what a handler takes: the envelope, the newest model, the tenant.

Each step fails permanently (the record goes to the dead-letter topic, never retried) when the
record is not our CloudEvent, names an event or version this reader does not know, carries data
that does not fit the model even after upcasting, or names no valid tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from aiokafka import ConsumerRecord

from mandi_messaging.envelope import Envelope, MalformedEnvelope
from mandi_messaging.registry import Event, EventRegistry, UndecodableEvent, UnknownEventType
from mandi_messaging.retry import PermanentFailure

__all__ = [
    "UNDECODABLE",
    "DecodedEvent",
    "InvalidTenant",
    "decode_event",
    "decode_record",
    "read_envelope",
    "tenant_of",
]


class InvalidTenant(PermanentFailure):
    """The envelope names no tenant, or not a UUID: no unit of work can run for it."""


UNDECODABLE = (MalformedEnvelope, UnknownEventType, UndecodableEvent, InvalidTenant)


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """A record a handler can take: its envelope, its event as the newest model, its tenant."""

    envelope: Envelope
    event: Event
    tenant_id: UUID


def read_envelope(record: ConsumerRecord) -> Envelope:
    """The CloudEvents envelope of a record; raises MalformedEnvelope if it is not ours."""
    return Envelope.from_kafka(record.headers, record.value)


def tenant_of(envelope: Envelope) -> UUID:
    """The tenant the event belongs to, which its handler's unit of work runs as."""
    if not envelope.tenant_id:
        raise InvalidTenant(f"{envelope.type} {envelope.id} names no tenant")
    try:
        return UUID(envelope.tenant_id)
    except ValueError as error:
        raise InvalidTenant(f"{envelope.type} {envelope.id}: tenant is not a UUID") from error


def decode_event(registry: EventRegistry, envelope: Envelope) -> DecodedEvent:
    """The envelope's event as the newest model of its type (upcast when older), with its tenant."""
    event = registry.decode(envelope.type, envelope.data)
    return DecodedEvent(envelope=envelope, event=event, tenant_id=tenant_of(envelope))


def decode_record(registry: EventRegistry, record: ConsumerRecord) -> DecodedEvent:
    """A Kafka record as its envelope, newest model and tenant; raises one of UNDECODABLE."""
    return decode_event(registry, read_envelope(record))
