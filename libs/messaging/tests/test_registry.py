"""Versioned event types and upcasting."""

from __future__ import annotations

from typing import Any

import pytest

from mandi_messaging import Event, EventRegistry, UndecodableEvent, UnknownEventType

registry = EventRegistry()


@registry.event("mandi.lot.priced", 1)
class LotPricedV1(Event):
    lot_id: str
    price: float


@registry.event("mandi.lot.priced", 2)
class LotPriced(Event):
    lot_id: str
    price_minor: int
    currency: str


@registry.upcaster("mandi.lot.priced", from_version=1)
def _rupees_to_paise(data: dict[str, Any]) -> dict[str, Any]:
    return {"lot_id": data["lot_id"], "price_minor": round(data["price"] * 100), "currency": "INR"}


def test_the_newest_version_decodes_as_itself() -> None:
    event = registry.decode(
        "mandi.lot.priced.v2", b'{"lot_id": "L1", "price_minor": 5, "currency": "INR"}'
    )
    assert event == LotPriced(lot_id="L1", price_minor=5, currency="INR")


def test_an_old_version_is_upcast_to_the_newest() -> None:
    event = registry.decode("mandi.lot.priced.v1", b'{"lot_id": "L1", "price": 12.5}')
    assert event == LotPriced(lot_id="L1", price_minor=1250, currency="INR")


def test_the_wire_type_names_name_and_version() -> None:
    assert (
        registry.type_name(LotPriced(lot_id="L", price_minor=1, currency="INR"))
        == "mandi.lot.priced.v2"
    )
    assert registry.type_name(LotPricedV1(lot_id="L", price=1.0)) == "mandi.lot.priced.v1"


def test_unknown_fields_are_ignored_so_producers_can_add_them() -> None:
    data = b'{"lot_id": "L1", "price_minor": 5, "currency": "INR", "grade": "A"}'
    assert registry.decode("mandi.lot.priced.v2", data) == LotPriced(
        lot_id="L1", price_minor=5, currency="INR"
    )


@pytest.mark.parametrize(
    "type_name", ["mandi.lot.priced.v3", "mandi.lot.sold.v1", "lot-priced", "mandi.lot.priced.v0"]
)
def test_types_this_reader_does_not_know_are_refused(type_name: str) -> None:
    with pytest.raises(UnknownEventType):
        registry.decode(type_name, b"{}")


@pytest.mark.parametrize(
    "data",
    [b"not json", b'{"lot_id": "L1"}', b'{"lot_id": 1, "price_minor": "x", "currency": "INR"}'],
)
def test_data_that_does_not_fit_is_undecodable(data: bytes) -> None:
    with pytest.raises(UndecodableEvent):
        registry.decode("mandi.lot.priced.v2", data)


@pytest.mark.parametrize("data", [b'{"lot_id": "L1"}', b'{"lot_id": "L1", "price": "12,5"}', b"[]"])
def test_old_data_an_upcaster_cannot_read_is_undecodable(data: bytes) -> None:
    with pytest.raises(UndecodableEvent):
        registry.decode("mandi.lot.priced.v1", data)


def test_a_gap_in_the_upcasters_is_reported() -> None:
    gappy = EventRegistry()
    gappy.event("mandi.x.happened", 1)(type("V1", (Event,), {}))
    gappy.event("mandi.x.happened", 2)(type("V2", (Event,), {}))
    with pytest.raises(UnknownEventType, match="no upcaster"):
        gappy.decode("mandi.x.happened.v1", b"{}")


def test_a_version_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="twice"):
        registry.event("mandi.lot.priced", 2)(type("Again", (Event,), {}))
