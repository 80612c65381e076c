"""Offers on the order book: availabilities (what a seller can sell) and requirements (what a
buyer needs), and the lives they lead.

    availability: draft ──publish──▶ published ──reserve──▶ partially_reserved ──▶ exhausted
                    │                    │    ◀──release──        │                    │
                    └────────────────────┴───────withdraw / expire┴────────────────────┘
    requirement:  draft ──publish──▶ published ──fulfil──▶ fulfilled
                                         └──withdraw / expire──▶ withdrawn / expired

Quantities are kept in the commodity's base unit. A reservation takes at least the minimum lot
(or all that is left, when less is left) and never more than is free: reserved never exceeds
the quantity. An offer with reservations outstanding is not withdrawn or shrunk below them, so a
trade's saga never finds its reservation gone; it expires for new reservations only. Prices are
quoted per the commodity's price unit (cotton per candy, wheat per quintal), so offers of one
commodity compare by price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Self
from uuid import UUID

from mandi_availability.domain.catalog import Commodity
from mandi_availability.domain.quantities import Money
from mandi_errors import Conflict, InvalidInput

__all__ = [
    "Availability",
    "DeliveryPlace",
    "OfferKind",
    "OfferStatus",
    "OfferTerms",
    "Requirement",
]

_MAX_LABEL = 300
_STATE_OR_CITY = 100


class OfferKind(StrEnum):
    """Which side of the book an offer is on."""

    AVAILABILITY = "availability"
    REQUIREMENT = "requirement"


class OfferStatus(StrEnum):
    """Where an offer stands."""

    DRAFT = "draft"
    PUBLISHED = "published"
    PARTIALLY_RESERVED = "partially_reserved"
    EXHAUSTED = "exhausted"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    FULFILLED = "fulfilled"


_OPEN = frozenset({OfferStatus.PUBLISHED, OfferStatus.PARTIALLY_RESERVED})
_LIVE = frozenset({OfferStatus.DRAFT, *_OPEN})
_ON_THE_BOOK = frozenset({*_OPEN, OfferStatus.EXHAUSTED})


@dataclass(frozen=True)
class DeliveryPlace:
    """Where the goods are delivered: a point on the globe, in a state and a city."""

    latitude: float
    longitude: float
    state: str
    city: str
    label: str = ""

    def __post_init__(self) -> None:
        if not (
            math.isfinite(self.latitude)
            and math.isfinite(self.longitude)
            and -90 <= self.latitude <= 90  # noqa: PLR2004 - the globe's limits
            and -180 <= self.longitude <= 180  # noqa: PLR2004
        ):
            raise InvalidInput("A delivery place's latitude is within ±90 and longitude ±180.")
        for name, value in (("state", self.state), ("city", self.city)):
            if not value.strip() or len(value) > _STATE_OR_CITY:
                raise InvalidInput(
                    f"A delivery place's {name} has 1 to {_STATE_OR_CITY} characters."
                )
        if len(self.label) > _MAX_LABEL:
            raise InvalidInput(f"A delivery place's label has at most {_MAX_LABEL} characters.")


@dataclass(frozen=True)
class OfferTerms:
    """What an offer says, checked against its commodity: the part a change may replace."""

    grade: str
    quality: dict[str, Decimal]
    base_unit: str  # the commodity's, which quantities are kept in
    quantity: Decimal  # in the base unit
    minimum_lot: Decimal  # in the base unit; at most the quantity
    price: Money  # per `price_unit`, the commodity's
    price_unit: str
    place: DeliveryPlace
    delivery_from: date
    delivery_to: date
    valid_until: datetime

    @classmethod
    def checked(
        cls,
        commodity: Commodity,
        *,
        grade: str,
        quality: dict[str, Decimal | str | int],
        quantity: Decimal | str | int,
        unit: str,
        minimum_lot: Decimal | str | int | None,
        price: Money,
        price_unit: str | None,
        place: DeliveryPlace,
        delivery_from: date,
        delivery_to: date,
        valid_until: datetime,
    ) -> OfferTerms:
        """Terms sent in any unit the commodity knows, in its base unit; InvalidInput else."""
        if price_unit is not None and price_unit != commodity.price_unit:
            raise InvalidInput(
                f"{commodity.name} is priced per {commodity.price_unit}, not per {price_unit}."
            )
        in_base = commodity.in_base_unit(quantity, unit, "The quantity")
        lot = (
            in_base
            if minimum_lot is None
            else commodity.in_base_unit(minimum_lot, unit, "The minimum lot")
        )
        if lot > in_base:
            raise InvalidInput("The minimum lot cannot be more than the quantity.")
        if delivery_to < delivery_from:
            raise InvalidInput("The delivery window ends before it starts.")
        if valid_until.utcoffset() is None:
            raise InvalidInput("The validity's end needs a time zone.")
        return cls(
            grade=commodity.require_grade(grade),
            quality=commodity.checked_quality(quality),
            base_unit=commodity.base_unit,
            quantity=in_base,
            minimum_lot=lot,
            price=price,
            price_unit=commodity.price_unit,
            place=place,
            delivery_from=delivery_from,
            delivery_to=delivery_to,
            valid_until=valid_until,
        )


@dataclass(frozen=True)
class _Offer:
    """What availabilities and requirements share: a partner's terms on one commodity."""

    id: UUID
    tenant_id: UUID
    partner_id: UUID
    commodity: str
    terms: OfferTerms
    created_at: datetime
    updated_at: datetime
    status: OfferStatus = OfferStatus.DRAFT
    version: int = 1

    @property
    def on_the_book(self) -> bool:
        """Whether the offer is on the book for every partner to see."""
        return self.status in _ON_THE_BOOK

    def publish(self, now: datetime) -> Self:
        """Puts a draft on the book, if it is still valid."""
        self._require(OfferStatus.DRAFT, "published")
        if self.terms.valid_until <= now:
            raise InvalidInput("An offer whose validity has ended cannot be published.")
        return self._next(now, status=OfferStatus.PUBLISHED)

    def expire(self, now: datetime) -> Self:
        """Takes an offer past its validity off the book (a draft too)."""
        if self.status not in _LIVE:
            raise Conflict(f"A {self.status.value} offer does not expire.")
        if self.terms.valid_until > now:
            raise Conflict("This offer is still valid.")
        return self._next(now, status=OfferStatus.EXPIRED)

    def _changed_terms(self, terms: OfferTerms, now: datetime) -> Self:
        if self.status not in {OfferStatus.DRAFT, OfferStatus.PUBLISHED}:
            raise Conflict(f"A {self.status.value} offer cannot be changed.")
        return self._next(now, terms=terms)

    def _require(self, status: OfferStatus, action: str) -> None:
        if self.status != status:
            raise Conflict(
                f"Only a {status.value} offer can be {action}; this one is {self.status.value}."
            )

    def _next(self, now: datetime, **changes: object) -> Self:
        return replace(self, **changes, updated_at=now, version=self.version + 1)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Availability(_Offer):
    """What a seller can sell, and how much of it trades in progress have reserved."""

    reserved: Decimal = field(default=Decimal(0))

    @property
    def free(self) -> Decimal:
        """What may still be reserved."""
        return self.terms.quantity - self.reserved

    def change(self, terms: OfferTerms, now: datetime) -> Availability:
        """New terms for a draft or published availability (none reserved while published)."""
        if self.reserved:
            raise Conflict("An availability with reservations cannot be changed.")
        return self._changed_terms(terms, now)

    def withdraw(self, now: datetime) -> Availability:
        """Takes the availability off the book, unless trades in progress hold some of it."""
        if self.status not in _LIVE:
            raise Conflict(f"A {self.status.value} availability cannot be withdrawn.")
        if self.reserved:
            raise Conflict("An availability with reservations cannot be withdrawn.")
        return self._next(now, status=OfferStatus.WITHDRAWN)

    def reserve(self, quantity: Decimal, now: datetime) -> Availability:
        """Reserves `quantity` (base unit) for a trade: a lot at least, never more than is free."""
        if self.status not in _OPEN or self.terms.valid_until <= now:
            raise Conflict("This availability is not open for reservations.")
        if quantity <= 0:
            raise InvalidInput("A reservation is of more than zero.")
        if quantity > self.free:
            raise Conflict(
                f"Only {self.free} {self.terms.base_unit} are free; {quantity} were asked for."
            )
        if quantity < self.terms.minimum_lot and quantity != self.free:
            lot = f"{self.terms.minimum_lot} {self.terms.base_unit}"
            raise InvalidInput(f"A reservation takes at least the minimum lot, {lot}.")
        reserved = self.reserved + quantity
        full = reserved == self.terms.quantity
        status = OfferStatus.EXHAUSTED if full else OfferStatus.PARTIALLY_RESERVED
        return self._next(now, reserved=reserved, status=status)

    def release(self, quantity: Decimal, now: datetime) -> Availability:
        """Gives back `quantity` a trade had reserved; it may be reserved again while open."""
        if quantity <= 0 or quantity > self.reserved:
            raise Conflict(f"{quantity} cannot be released: {self.reserved} are reserved.")
        reserved = self.reserved - quantity
        status = self.status
        if status in {OfferStatus.PARTIALLY_RESERVED, OfferStatus.EXHAUSTED}:
            status = OfferStatus.PARTIALLY_RESERVED if reserved else OfferStatus.PUBLISHED
        return self._next(now, reserved=reserved, status=status)


@dataclass(frozen=True)
class Requirement(_Offer):
    """What a buyer needs."""

    def change(self, terms: OfferTerms, now: datetime) -> Requirement:
        """New terms for a draft or published requirement."""
        return self._changed_terms(terms, now)

    def withdraw(self, now: datetime) -> Requirement:
        """Takes the requirement off the book."""
        if self.status not in _LIVE:
            raise Conflict(f"A {self.status.value} requirement cannot be withdrawn.")
        return self._next(now, status=OfferStatus.WITHDRAWN)

    def fulfil(self, now: datetime) -> Requirement:
        """Marks the requirement met by a trade."""
        self._require(OfferStatus.PUBLISHED, "fulfilled")
        return self._next(now, status=OfferStatus.FULFILLED)
