"""The CloudEvents envelope in Kafka binary mode."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event

from mandi_messaging import Envelope, MalformedEnvelope

ENVELOPE = Envelope(
    id="6f0c1d9e-8a51-4c3e-9e57-0c9f4b7c2f10",
    source="mandi/partners",
    type="mandi.partner.registered.v1",
    subject="partner-42",
    data=b'{"partner_id": "partner-42"}',
    time=datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC),
    tenant_id="tenant-7",
    correlation_id="corr-1",
    causation_id="cause-1",
    traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
)


def test_headers_read_back_into_the_same_envelope() -> None:
    assert Envelope.from_kafka(ENVELOPE.kafka_headers(), ENVELOPE.data) == ENVELOPE


def test_headers_follow_the_binary_mode_names() -> None:
    headers = dict(ENVELOPE.kafka_headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_time"] == b"2026-11-22T10:00:00.123456Z"
    assert headers["content-type"] == b"application/json"
    assert headers["ce_tenantid"] == b"tenant-7"
    assert headers["traceparent"].startswith(b"00-0af7651916cd43dd")


def test_absent_extensions_are_not_sent() -> None:
    bare = Envelope(id="1", source="s", type="mandi.a.b.v1", subject="k", data=b"{}")
    names = {name for name, _ in bare.kafka_headers()}
    assert not names & {
        "ce_tenantid",
        "ce_correlationid",
        "ce_causationid",
        "traceparent",
        "ce_traceparent",
    }


def test_the_cloudevents_sdk_reads_the_headers() -> None:
    message = KafkaMessage(
        headers=dict(ENVELOPE.kafka_headers()), key=b"partner-42", value=ENVELOPE.data
    )
    event = from_binary_event(message)
    assert event.get_id() == ENVELOPE.id
    assert event.get_type() == "mandi.partner.registered.v1"
    assert event.get_subject() == "partner-42"
    assert event.get_extension("tenantid") == "tenant-7"
    assert event.get_extension("correlationid") == ENVELOPE.correlation_id
    # The distributed-tracing extension: what an SDK reads as the event's trace context.
    assert event.get_extension("traceparent") == ENVELOPE.traceparent
    assert event.get_data() == {"partner_id": "partner-42"}


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("ce_id", b"1"), ("ce_source", b"s"), ("ce_type", b"t")],
        [("ce_specversion", b"0.3"), ("ce_id", b"1"), ("ce_source", b"s"), ("ce_type", b"t")],
        [("ce_specversion", b"1.0"), ("ce_id", b"\xff"), ("ce_source", b"s"), ("ce_type", b"t")],
        [
            ("ce_specversion", b"1.0"),
            ("ce_id", b"1"),
            ("ce_source", b"s"),
            ("ce_type", b"t"),
            ("ce_time", b"yesterday"),
        ],
    ],
)
def test_messages_that_are_not_our_cloudevents_are_refused(
    headers: list[tuple[str, bytes]],
) -> None:
    with pytest.raises(MalformedEnvelope):
        Envelope.from_kafka(headers, b"{}")
