"""Availabilities and requirements: their terms, their lives and the reservations of trades."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from mandi_availability.domain.catalog import Commodity
from mandi_availability.domain.offers import (
    Availability,
    DeliveryPlace,
    OfferStatus,
    OfferTerms,
    Requirement,
)
from mandi_availability.domain.quantities import Money
from mandi_errors import Conflict, InvalidInput


def _made_at(terms: OfferTerms) -> datetime:
    return terms.valid_until - timedelta(days=7)  # as the `terms` fixture makes them


def _availability(terms: OfferTerms) -> Availability:
    made = _made_at(terms)
    return Availability(
        uuid4(), uuid4(), uuid4(), "cotton", terms, created_at=made, updated_at=made
    )


def _published(terms: OfferTerms) -> Availability:
    return _availability(terms).publish(_made_at(terms))


def test_terms_keep_the_quantity_and_lot_in_the_base_unit(terms: OfferTerms) -> None:
    assert (terms.quantity, terms.minimum_lot, terms.base_unit) == (
        Decimal(17000),
        Decimal(1700),
        "kg",
    )
    assert terms.quality == {"staple_length_mm": Decimal("29.5"), "moisture_pct": Decimal(8)}


def _terms(cotton: Commodity, place: DeliveryPlace, now: datetime, **changes: object) -> OfferTerms:
    fields: dict[str, object] = {
        "grade": "Shankar-6",
        "quality": {},
        "quantity": "10",
        "unit": "bale",
        "minimum_lot": None,
        "price": Money("INR", Decimal(56000)),
        "price_unit": None,
        "place": place,
        "delivery_from": date(2026, 12, 1),
        "delivery_to": date(2026, 12, 2),
        "valid_until": now + timedelta(days=1),
    }
    return OfferTerms.checked(cotton, **{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quantity": "0"}, "quantity must be more than zero"),
        ({"quantity": "-5"}, "quantity must be more than zero"),
        ({"unit": "sack"}, "Unknown unit"),
        ({"minimum_lot": "11"}, "minimum lot cannot be more than the quantity"),
        ({"quality": {"moisture_pct": 12}}, "moisture_pct must lie between"),
        ({"grade": "J-34"}, "no grade"),
        ({"price_unit": "kg"}, "priced per candy, not per kg"),
        ({"delivery_to": date(2026, 11, 30)}, "ends before it starts"),
        ({"valid_until": datetime(2026, 12, 1)}, "time zone"),  # noqa: DTZ001 - the point
    ],
)
def test_terms_that_break_a_rule_are_refused(
    cotton: Commodity,
    place: DeliveryPlace,
    now: datetime,
    changes: dict[str, object],
    message: str,
) -> None:
    with pytest.raises(InvalidInput, match=message):
        _terms(cotton, place, now, **changes)


def test_without_a_minimum_lot_the_whole_quantity_is_one_lot(
    cotton: Commodity, place: DeliveryPlace, now: datetime
) -> None:
    assert _terms(cotton, place, now).minimum_lot == Decimal(1700)


@pytest.mark.parametrize(
    ("latitude", "longitude", "state"),
    [(91, 0, "Gujarat"), (0, -181, "Gujarat"), (float("nan"), 0, "Gujarat"), (0, 0, " ")],
)
def test_a_delivery_place_off_the_globe_or_unnamed_is_refused(
    latitude: float, longitude: float, state: str
) -> None:
    with pytest.raises(InvalidInput):
        DeliveryPlace(latitude, longitude, state=state, city="Rajkot")


def test_a_draft_is_published_and_each_change_raises_the_version(
    terms: OfferTerms, later: datetime
) -> None:
    draft = _availability(terms)
    published = draft.publish(later)
    assert (draft.status, published.status) == (OfferStatus.DRAFT, OfferStatus.PUBLISHED)
    assert (published.version, published.updated_at) == (2, later)
    with pytest.raises(Conflict, match="Only a draft offer can be published"):
        published.publish(later)


def test_an_offer_past_its_validity_is_not_published_but_expires(terms: OfferTerms) -> None:
    draft = _availability(terms)
    after = terms.valid_until
    with pytest.raises(InvalidInput, match="validity has ended"):
        draft.publish(after)
    with pytest.raises(Conflict, match="still valid"):
        draft.expire(_made_at(terms))
    assert draft.expire(after).status == OfferStatus.EXPIRED


def test_reservations_move_an_availability_to_partially_reserved_then_exhausted(
    terms: OfferTerms, later: datetime
) -> None:
    offer = _published(terms).reserve(Decimal(10000), later)
    assert (offer.status, offer.reserved, offer.free) == (
        OfferStatus.PARTIALLY_RESERVED,
        Decimal(10000),
        Decimal(7000),
    )
    offer = offer.reserve(Decimal(7000), later)
    assert (offer.status, offer.free) == (OfferStatus.EXHAUSTED, 0)


def test_a_reservation_never_takes_more_than_is_free(terms: OfferTerms, later: datetime) -> None:
    offer = _published(terms).reserve(Decimal(16000), later)
    with pytest.raises(Conflict, match="Only 1000 kg are free; 1700 were asked for"):
        offer.reserve(Decimal(1700), later)


def test_a_reservation_takes_a_lot_at_least_unless_less_is_left(
    terms: OfferTerms, later: datetime
) -> None:
    offer = _published(terms)
    with pytest.raises(InvalidInput, match="at least the minimum lot, 1700 kg"):
        offer.reserve(Decimal(1000), later)
    rest = offer.reserve(Decimal(16000), later).reserve(Decimal(1000), later)  # all that is left
    assert rest.status == OfferStatus.EXHAUSTED


@pytest.mark.parametrize("status", [OfferStatus.DRAFT, OfferStatus.WITHDRAWN, OfferStatus.EXPIRED])
def test_only_an_open_availability_is_reserved(
    terms: OfferTerms, later: datetime, status: OfferStatus
) -> None:
    with pytest.raises(Conflict, match="not open for reservations"):
        replace(_availability(terms), status=status).reserve(Decimal(1700), later)


def test_an_availability_past_its_validity_takes_no_reservation(terms: OfferTerms) -> None:
    with pytest.raises(Conflict, match="not open"):
        _published(terms).reserve(Decimal(1700), terms.valid_until)


def test_a_release_restores_the_quantity_exactly_and_reopens(
    terms: OfferTerms, later: datetime
) -> None:
    exhausted = _published(terms).reserve(Decimal(17000), later)
    partly = exhausted.release(Decimal("0.000001"), later)
    assert (partly.status, partly.free) == (OfferStatus.PARTIALLY_RESERVED, Decimal("0.000001"))
    whole = partly.release(Decimal("16999.999999"), later)
    assert (whole.status, whole.reserved, whole.free) == (OfferStatus.PUBLISHED, 0, Decimal(17000))


def test_more_than_is_reserved_is_never_released(terms: OfferTerms, later: datetime) -> None:
    offer = _published(terms).reserve(Decimal(1700), later)
    with pytest.raises(Conflict, match="cannot be released"):
        offer.release(Decimal(1701), later)


def test_an_expired_availability_keeps_its_reservations_for_their_trades(
    terms: OfferTerms, later: datetime
) -> None:
    reserved = _published(terms).reserve(Decimal(1700), later)
    expired = reserved.expire(terms.valid_until)
    assert (expired.status, expired.reserved) == (OfferStatus.EXPIRED, Decimal(1700))
    released = expired.release(Decimal(1700), terms.valid_until)
    assert (released.status, released.reserved) == (OfferStatus.EXPIRED, 0)


def test_reservations_outstanding_keep_an_availability_from_being_withdrawn_or_changed(
    terms: OfferTerms, later: datetime
) -> None:
    reserved = _published(terms).reserve(Decimal(1700), later)
    with pytest.raises(Conflict, match="with reservations cannot be withdrawn"):
        reserved.withdraw(later)
    with pytest.raises(Conflict, match="with reservations cannot be changed"):
        reserved.change(terms, later)
    assert _published(terms).withdraw(later).status == OfferStatus.WITHDRAWN


def test_a_requirement_is_published_then_fulfilled_or_withdrawn(
    terms: OfferTerms, later: datetime
) -> None:
    made = _made_at(terms)
    requirement = Requirement(uuid4(), uuid4(), uuid4(), "cotton", terms, made, made)
    with pytest.raises(Conflict, match="Only a published offer can be fulfilled"):
        requirement.fulfil(later)
    published = requirement.publish(later)
    assert published.fulfil(later).status == OfferStatus.FULFILLED
    assert published.withdraw(later).status == OfferStatus.WITHDRAWN
    with pytest.raises(Conflict, match="fulfilled requirement cannot be withdrawn"):
        published.fulfil(later).withdraw(later)
