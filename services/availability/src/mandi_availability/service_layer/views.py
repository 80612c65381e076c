"""What the API shows: plain JSON-able models, so an idempotent answer is stored and replayed
exactly. Quantities, sizes and bounds are exact decimals, written as strings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from mandi_availability.domain.catalog import Commodity
from mandi_availability.domain.offers import Availability, OfferKind, OfferStatus, Requirement

__all__ = [
    "CommodityView",
    "OfferView",
    "PlaceView",
    "QualityView",
    "commodity_view",
    "offer_view",
]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QualityView(_View):
    """A quality parameter: its unit and allowed range."""

    unit: str
    min: Decimal
    max: Decimal


class CommodityView(_View):
    """A commodity of the catalog."""

    code: str
    name: str
    base_unit: str
    units: dict[str, Decimal]  # each unit's size in the base unit
    price_unit: str
    grades: list[str]
    quality: dict[str, QualityView]
    version: int


def commodity_view(commodity: Commodity) -> CommodityView:
    """The commodity as the API shows it."""
    return CommodityView(
        code=commodity.code,
        name=commodity.name,
        base_unit=commodity.base_unit,
        units=dict(commodity.units.sizes),
        price_unit=commodity.price_unit,
        grades=list(commodity.grades),
        quality={
            name: QualityView(unit=p.unit, min=p.minimum, max=p.maximum)
            for name, p in commodity.quality.items()
        },
        version=commodity.version,
    )


class PlaceView(_View):
    """Where the goods are delivered."""

    latitude: float
    longitude: float
    state: str
    city: str
    label: str


class OfferView(_View):
    """An availability or a requirement. Quantities are in the commodity's base unit; `reserved`
    and `free` are an availability's (a requirement reserves nothing)."""

    id: UUID
    kind: OfferKind
    partner_id: UUID
    commodity: str
    grade: str
    quality: dict[str, Decimal]
    base_unit: str
    quantity: Decimal
    minimum_lot: Decimal
    reserved: Decimal
    free: Decimal
    price: Decimal
    currency: str
    price_unit: str
    place: PlaceView
    delivery_from: date
    delivery_to: date
    valid_until: datetime
    status: OfferStatus
    version: int
    created_at: datetime
    updated_at: datetime


def offer_view(offer: Availability | Requirement) -> OfferView:
    """The offer as the API shows it."""
    terms, place = offer.terms, offer.terms.place
    reserved = offer.reserved if isinstance(offer, Availability) else Decimal(0)
    return OfferView(
        id=offer.id,
        kind=OfferKind.AVAILABILITY if isinstance(offer, Availability) else OfferKind.REQUIREMENT,
        partner_id=offer.partner_id,
        commodity=offer.commodity,
        grade=terms.grade,
        quality=dict(terms.quality),
        base_unit=terms.base_unit,
        quantity=terms.quantity,
        minimum_lot=terms.minimum_lot,
        reserved=reserved,
        free=terms.quantity - reserved,
        price=terms.price.amount,
        currency=terms.price.currency,
        price_unit=terms.price_unit,
        place=PlaceView(**place.__dict__),
        delivery_from=terms.delivery_from,
        delivery_to=terms.delivery_to,
        valid_until=terms.valid_until,
        status=offer.status,
        version=offer.version,
        created_at=offer.created_at,
        updated_at=offer.updated_at,
    )
