"""Events of the availability service, on `mandi.availability.events`.

Quantities are in the commodity's base unit and, like prices, travel as exact decimal strings.
An event about an offer carries its whole current terms where they changed, so the matching
service's read model is rebuilt from events alone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from mandi_contracts.registry import EVENTS
from mandi_messaging.registry import Event

__all__ = [
    "AVAILABILITY_COMMANDS",
    "AVAILABILITY_EVENTS",
    "AVAILABILITY_REPLIES",
    "AvailabilityExpired",
    "AvailabilityPublished",
    "AvailabilityReleased",
    "AvailabilityReserved",
    "AvailabilityUpdated",
    "AvailabilityWithdrawn",
    "CatalogChanged",
    "ConfirmReservation",
    "OfferTermsData",
    "QuantityReleased",
    "QuantityReserved",
    "ReleaseQuantity",
    "RequirementExpired",
    "RequirementFulfilled",
    "RequirementPosted",
    "RequirementUpdated",
    "RequirementWithdrawn",
    "ReservationConfirmed",
    "ReservationRefused",
    "ReserveQuantity",
]


class OfferTermsData(BaseModel):
    """What an offer says: grade and qualities, quantities in the base unit, price, place, dates."""

    model_config = ConfigDict(frozen=True)

    commodity: str
    grade: str
    quality: dict[str, Decimal]
    base_unit: str
    quantity: Decimal
    minimum_lot: Decimal
    price: Decimal
    currency: str
    price_unit: str
    latitude: float
    longitude: float
    state: str
    city: str
    delivery_from: date
    delivery_to: date
    valid_until: datetime


@EVENTS.event("mandi.catalog.changed", 1)
class CatalogChanged(Event):
    """A commodity of the tenant's catalog was defined or changed; caches of it are stale."""

    tenant_id: UUID
    commodity: str
    version: int
    changed_by: str
    # Each quality parameter's allowed range, (min, max): how far apart two qualities are.
    quality_ranges: dict[str, tuple[Decimal, Decimal]] = Field(default_factory=dict)
    # Each unit's size in the base unit: what a price per unit comes to for a quantity.
    units: dict[str, Decimal] = Field(default_factory=dict)


class _AvailabilityEvent(Event):
    tenant_id: UUID
    availability_id: UUID
    partner_id: UUID
    version: int


class _RequirementEvent(Event):
    tenant_id: UUID
    requirement_id: UUID
    partner_id: UUID
    version: int


@EVENTS.event("mandi.availability.published", 1)
class AvailabilityPublished(_AvailabilityEvent):
    """A seller's availability is on the book."""

    terms: OfferTermsData


@EVENTS.event("mandi.availability.updated", 1)
class AvailabilityUpdated(_AvailabilityEvent):
    """A published availability's terms changed; `terms` are the whole new terms."""

    terms: OfferTermsData


@EVENTS.event("mandi.availability.withdrawn", 1)
class AvailabilityWithdrawn(_AvailabilityEvent):
    """The seller took the availability off the book."""


@EVENTS.event("mandi.availability.expired", 1)
class AvailabilityExpired(_AvailabilityEvent):
    """The availability's validity ended; reservations it had are kept for their trades."""


@EVENTS.event("mandi.availability.reserved", 1)
class AvailabilityReserved(_AvailabilityEvent):
    """A trade in progress reserved some of the availability."""

    saga_id: UUID
    quantity: Decimal
    reserved: Decimal
    free: Decimal


@EVENTS.event("mandi.availability.released", 1)
class AvailabilityReleased(_AvailabilityEvent):
    """A trade gave back what it had reserved."""

    saga_id: UUID
    quantity: Decimal
    reserved: Decimal
    free: Decimal


@EVENTS.event("mandi.requirement.posted", 1)
class RequirementPosted(_RequirementEvent):
    """A buyer's requirement is on the book."""

    terms: OfferTermsData


@EVENTS.event("mandi.requirement.updated", 1)
class RequirementUpdated(_RequirementEvent):
    """A posted requirement's terms changed; `terms` are the whole new terms."""

    terms: OfferTermsData


@EVENTS.event("mandi.requirement.withdrawn", 1)
class RequirementWithdrawn(_RequirementEvent):
    """The buyer took the requirement off the book."""


@EVENTS.event("mandi.requirement.expired", 1)
class RequirementExpired(_RequirementEvent):
    """The requirement's validity ended."""


@EVENTS.event("mandi.requirement.fulfilled", 1)
class RequirementFulfilled(_RequirementEvent):
    """A trade met the requirement."""


# Every event the availability service publishes, on mandi.availability.events.
AVAILABILITY_EVENTS: tuple[type[Event], ...] = (
    CatalogChanged,
    AvailabilityPublished,
    AvailabilityUpdated,
    AvailabilityWithdrawn,
    AvailabilityExpired,
    AvailabilityReserved,
    AvailabilityReleased,
    RequirementPosted,
    RequirementUpdated,
    RequirementWithdrawn,
    RequirementExpired,
    RequirementFulfilled,
)


# The trade saga's commands to availability (keyed by availability id, so one availability's are
# applied in order), and availability's replies (keyed by saga id). A command is the same
# command however often it is sent: its saga id and step name it. Commands are named verb and
# object (mandi.reserve.quantity), replies object and outcome (mandi.quantity.reserved).
class _SagaStep(Event):
    tenant_id: UUID
    saga_id: UUID
    step: str
    availability_id: UUID


@EVENTS.event("mandi.reserve.quantity", 1)
class ReserveQuantity(_SagaStep):
    """Reserve `quantity` (base unit) of the availability for the saga until `deadline`."""

    quantity: Decimal
    deadline: datetime


@EVENTS.event("mandi.confirm.reservation", 1)
class ConfirmReservation(_SagaStep):
    """Make what the saga reserved of the availability its trade's: no deadline gives it back
    any more, only a release. The requirement the trade meets, when named, is fulfilled."""

    requirement_id: UUID | None = None


@EVENTS.event("mandi.release.quantity", 1)
class ReleaseQuantity(_SagaStep):
    """Give back what a saga reserved of the availability: this saga's (a compensation), or,
    named by `reserved_by`, another's (a trade's, when a cancellation sends it)."""

    reserved_by: UUID | None = None


@EVENTS.event("mandi.quantity.reserved", 1)
class QuantityReserved(_SagaStep):
    """The quantity is the saga's until its deadline."""

    quantity: Decimal
    free: Decimal


@EVENTS.event("mandi.reservation.refused", 1)
class ReservationRefused(_SagaStep):
    """Nothing was reserved, or confirmed; `reason` says why (not open, not enough free, below
    the lot, nothing held any more)."""

    reason: str


@EVENTS.event("mandi.reservation.confirmed", 1)
class ReservationConfirmed(_SagaStep):
    """What the saga reserved is its trade's now."""

    quantity: Decimal


@EVENTS.event("mandi.quantity.released", 1)
class QuantityReleased(_SagaStep):
    """What the saga had reserved is free again (nothing, if it had nothing)."""

    quantity: Decimal


AVAILABILITY_COMMANDS: tuple[type[Event], ...] = (
    ReserveQuantity,
    ConfirmReservation,
    ReleaseQuantity,
)
AVAILABILITY_REPLIES: tuple[type[Event], ...] = (
    QuantityReserved,
    ReservationConfirmed,
    ReservationRefused,
    QuantityReleased,
)
