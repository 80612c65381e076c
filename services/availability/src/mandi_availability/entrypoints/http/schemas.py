"""Request bodies of the availability API: shapes and sizes here, rules in the domain.

Unknown fields are refused; every string, map and list has a bound, so an oversized value is a
422 rather than a row. Exact amounts (unit sizes, quality bounds) are decimals, sent as JSON
numbers or strings; the domain refuses more decimal places than it keeps.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic.config import JsonDict

from mandi_availability.domain.catalog import Commodity, CommodityChanges, QualityParameter
from mandi_availability.domain.offers import DeliveryPlace, OfferStatus
from mandi_availability.domain.quantities import Currency, Money, UnitTable
from mandi_availability.service_layer.offers import OfferDraft
from mandi_availability.service_layer.unit_of_work import ON_THE_BOOK, OfferFilter, QualityRange
from mandi_errors import InvalidInput
from mandi_runtime.amounts import Amount, PositiveAmount, SignedAmount
from mandi_runtime.pages import CURSOR_PATTERN, Position, decode_cursor
from mandi_runtime.text import single_line

__all__ = [
    "CommodityChangesIn",
    "CommodityIn",
    "OfferIn",
    "OfferQuery",
    "OfferTermsIn",
    "PlaceIn",
    "QualityIn",
]

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
UnitName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,19}$")]
Grade = Annotated[str, single_line(100)]
Size = PositiveAmount
Price = Amount
Bound = SignedAmount
# A map's keys are held to their pattern: no other key is allowed, as the schema then says.
_CLOSED_MAP: JsonDict = {"additionalProperties": False}
_UNITS_TEXT = (
    "Each unit's size in the base unit (bale: 170). A commodity measured in kg also knows kg,"
    " quintal and tonne; the base unit, if listed, has the size 1."
)


def _units(default: object) -> Any:
    return Field(
        default=default, max_length=20, description=_UNITS_TEXT, json_schema_extra=_CLOSED_MAP
    )


def _quality_field(default: object) -> Any:
    return Field(
        default=default, max_length=30, description=_QUALITY_TEXT, json_schema_extra=_CLOSED_MAP
    )


_COTTON: JsonDict = {
    "code": "cotton",
    "name": "Cotton (lint)",
    "base_unit": "kg",
    "units": {"bale": "170", "candy": "355.6"},
    "price_unit": "candy",
    "grades": ["Shankar-6", "MCU-5"],
    "quality": {"staple_length_mm": {"unit": "mm", "min": "22", "max": "38"}},
}


_QUALITY_TEXT = "Each quality parameter by its code."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QualityIn(_Strict):
    """A quality parameter: its unit and allowed range."""

    unit: Annotated[str, single_line(20)]
    min: Bound
    max: Bound = Field(description="At least `min`.")


def _quality(quality: dict[str, QualityIn]) -> dict[str, QualityParameter]:
    return {
        name: QualityParameter(name, bound.unit, bound.min, bound.max)
        for name, bound in quality.items()
    }


class CommodityIn(_Strict):
    """A commodity to add to the catalog. `price_unit` is one of its units; its grades are
    distinct and not blank."""

    code: Code
    name: Annotated[str, single_line(200)]
    base_unit: UnitName = "kg"
    units: dict[UnitName, Size] = _units(default={})
    price_unit: UnitName = Field(description="One of the commodity's units.")
    grades: list[Grade] = Field(min_length=1, max_length=100)
    quality: dict[Code, QualityIn] = _quality_field(default={})

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [_COTTON]}
    )

    def to_commodity(self) -> Commodity:
        """The commodity, checked against the catalog's rules."""
        return Commodity(
            code=self.code,
            name=self.name,
            units=UnitTable.with_units(self.base_unit, self.units),
            price_unit=self.price_unit,
            grades=tuple(self.grades),
            quality=_quality(self.quality),
        )


class CommodityChangesIn(_Strict):
    """What changes; a field not sent keeps its value. `units` replace the commodity's own;
    the price unit stays one of its units."""

    name: Annotated[str, single_line(200)] | None = None
    units: dict[UnitName, Size] | None = _units(default=None)
    price_unit: UnitName | None = None
    grades: list[Grade] | None = Field(default=None, min_length=1, max_length=100)
    quality: dict[Code, QualityIn] | None = _quality_field(default=None)

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [{"name": "Cotton lint"}]}
    )

    def to_changes(self) -> CommodityChanges:
        """The changes, checked when applied to the commodity."""
        return CommodityChanges(
            name=self.name,
            own_units=self.units,
            price_unit=self.price_unit,
            grades=None if self.grades is None else tuple(self.grades),
            quality=None if self.quality is None else _quality(self.quality),
        )


class PlaceIn(_Strict):
    """Where the goods are delivered: a point, in a state and a city."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    state: Annotated[str, single_line(100)]
    city: Annotated[str, single_line(100)]
    label: Annotated[str, single_line(300)] | None = None

    def to_place(self) -> DeliveryPlace:
        """The delivery place."""
        return DeliveryPlace(self.latitude, self.longitude, self.state, self.city, self.label or "")


_OFFER_EXAMPLE: JsonDict = {
    "commodity": "cotton",
    "grade": "Shankar-6",
    "quality": {"staple_length_mm": "29.5"},
    "quantity": "100",
    "unit": "bale",
    "minimum_lot": "10",
    "price": "56000.00",
    "currency": "INR",
    "price_unit": "candy",
    "place": {"latitude": 22.3, "longitude": 70.8, "state": "Gujarat", "city": "Rajkot"},
    "delivery_from": "2030-01-01",
    "delivery_to": "2030-01-15",
    "valid_until": "2030-01-01T00:00:00Z",
}


class OfferTermsIn(_Strict):
    """An offer's terms, checked against its commodity: its grade and quality parameters, a
    quantity and minimum lot (at most the quantity) in any of its units, a price per its price
    unit with no more decimals than the currency has, and a window that ends after it starts."""

    commodity: Code
    grade: Grade
    quality: dict[Code, Bound] = Field(
        default={}, max_length=30, json_schema_extra=_CLOSED_MAP, description=_QUALITY_TEXT
    )
    quantity: Size
    unit: UnitName
    minimum_lot: Size | None = Field(default=None, description="In `unit`; the whole by default.")
    price: Price = Field(description="Per the commodity's price unit.")
    currency: Currency
    price_unit: UnitName | None = Field(default=None, description="The commodity's, if given.")
    place: PlaceIn
    delivery_from: date
    delivery_to: date
    valid_until: AwareDatetime

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [_OFFER_EXAMPLE]}
    )

    def to_draft(self) -> OfferDraft:
        """The terms as sent; the use case checks them against the commodity."""
        return OfferDraft(
            commodity=self.commodity,
            grade=self.grade,
            quality=dict(self.quality),
            quantity=self.quantity,
            unit=self.unit,
            minimum_lot=self.minimum_lot,
            price=Money(self.currency, self.price),
            price_unit=self.price_unit,
            place=self.place.to_place(),
            delivery_from=self.delivery_from,
            delivery_to=self.delivery_to,
            valid_until=self.valid_until,
        )


class OfferIn(OfferTermsIn):
    """A new offer. Operator staff name the partner it is of; a partner's own staff leave
    `partner_id` out (or name their own partner)."""

    partner_id: UUID | None = None

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [{**_OFFER_EXAMPLE, "partner_id": "8d9f3c52-7b1e-4a4b-9c3e-2f1d5a6b7c8d"}]
        },
    )


MAX_RADIUS_KM = 1000
_DECIMAL_QUERY = r"^-?[0-9]{1,17}(\.[0-9]{1,6})?$"
_QUALITY_RANGE = r"^[a-z][a-z0-9_]{0,39}:-?[0-9]{1,17}(\.[0-9]{1,6})?:-?[0-9]{1,17}(\.[0-9]{1,6})?$"
_NAME = single_line(100)
QualityRangeText = Annotated[str, StringConstraints(pattern=_QUALITY_RANGE)]


class OfferQuery(BaseModel):
    """The filters of a list of offers, from its query string."""

    commodity: Code | None = Query(default=None)
    grade: Annotated[str, _NAME] | None = Query(default=None)
    status: list[OfferStatus] | None = Query(default=None, max_length=7)
    partner_id: UUID | None = Query(default=None)
    price_min: str | None = Query(default=None, pattern=_DECIMAL_QUERY)
    price_max: str | None = Query(default=None, pattern=_DECIMAL_QUERY)
    quality: list[QualityRangeText] | None = Query(
        default=None,
        max_length=10,
        description="`parameter:min:max`, e.g. `moisture_pct:0:8`; each must hold.",
    )
    state: Annotated[str, _NAME] | None = Query(default=None)
    city: Annotated[str, _NAME] | None = Query(default=None)
    latitude: float | None = Query(default=None, ge=-90, le=90)
    longitude: float | None = Query(default=None, ge=-180, le=180)
    radius_km: float | None = Query(default=None, gt=0, le=MAX_RADIUS_KM)
    limit: int = Query(default=20, ge=1, le=100)
    cursor: str | None = Query(default=None, pattern=CURSOR_PATTERN)

    def to_filter(self) -> OfferFilter:
        """The filter; InvalidInput for a point without its radius (or the reverse)."""
        return OfferFilter(
            statuses=tuple(self.status) if self.status else ON_THE_BOOK,
            commodity=self.commodity,
            grade=self.grade,
            partner_id=self.partner_id,
            price_min=Decimal(self.price_min) if self.price_min else None,
            price_max=Decimal(self.price_max) if self.price_max else None,
            quality=tuple(_quality_range(text) for text in self.quality or ()),
            state=self.state,
            city=self.city,
            near=self._near(),
        )

    def position(self) -> Position | None:
        """Where the page starts."""
        return decode_cursor(self.cursor)

    def _near(self) -> tuple[float, float, float] | None:
        point = (self.latitude, self.longitude, self.radius_km)
        if all(part is None for part in point):
            return None
        if self.latitude is None or self.longitude is None or self.radius_km is None:
            raise InvalidInput("A search near a point gives latitude, longitude and radius_km.")
        return self.latitude, self.longitude, self.radius_km * 1000


def _quality_range(text: str) -> QualityRange:
    name, low, high = text.split(":")  # the pattern holds
    return QualityRange(name, Decimal(low), Decimal(high))
