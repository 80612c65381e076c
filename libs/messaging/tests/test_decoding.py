"""The typed decoder: a Kafka record as its envelope, its event's newest model and its tenant."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from mandi_messaging import (
    Envelope,
    Event,
    EventRegistry,
    InvalidTenant,
    MalformedEnvelope,
    UndecodableEvent,
    UnknownEventType,
    decode_record,
)
from mandi_testing.messaging import TEST_TENANT

EVENTS = EventRegistry()


@EVENTS.event("mandi.lot.priced", 1)
class LotPricedV1(Event):
    lot_id: str
    price: float


@EVENTS.event("mandi.lot.priced", 2)
class LotPriced(Event):
    lot_id: str
    price_minor: int
    currency: str


@EVENTS.upcaster("mandi.lot.priced", from_version=1)
def _rupees_to_paise(data: dict[str, Any]) -> dict[str, Any]:
    return {"lot_id": data["lot_id"], "price_minor": round(data["price"] * 100), "currency": "INR"}


OLD_PRICE = Envelope(
    id="6f1c0a52-0000-4000-8000-000000000001",
    source="mandi/lots",
    type="mandi.lot.priced.v1",
    subject="L1",
    data=b'{"lot_id": "L1", "price": 12.5}',
    tenant_id=str(TEST_TENANT),
)


def _record(envelope: Envelope) -> ConsumerRecord:
    headers = envelope.kafka_headers()
    return ConsumerRecord("t", 0, 7, 0, 0, b"L1", envelope.data, None, 2, 30, headers)


def test_an_old_version_decodes_as_the_newest_model_with_its_envelope_and_tenant() -> None:
    decoded = decode_record(EVENTS, _record(OLD_PRICE))

    assert decoded.event == LotPriced(lot_id="L1", price_minor=1250, currency="INR")
    assert decoded.envelope == dataclasses.replace(OLD_PRICE, time=decoded.envelope.time)
    assert decoded.tenant_id == TEST_TENANT


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"type": "mandi.lot.priced.v3"}, UnknownEventType),
        ({"type": "mandi.lot.sold.v1"}, UnknownEventType),
        ({"data": b'{"lot_id": "L1"}'}, UndecodableEvent),
        ({"tenant_id": None}, InvalidTenant),
        ({"tenant_id": "acme"}, InvalidTenant),
    ],
)
def test_a_record_that_can_never_be_handled_fails_permanently(
    change: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        decode_record(EVENTS, _record(dataclasses.replace(OLD_PRICE, **change)))


def test_a_record_that_is_not_a_cloudevent_is_malformed() -> None:
    record = ConsumerRecord("t", 0, 7, 0, 0, b"k", b"<xml/>", None, 1, 6, [("source", b"x")])
    with pytest.raises(MalformedEnvelope):
        decode_record(EVENTS, record)
