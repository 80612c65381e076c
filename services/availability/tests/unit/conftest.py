"""A cotton and a wheat as the sample catalog has them, and a seller's draft terms."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from mandi_availability.domain.catalog import Commodity, QualityParameter
from mandi_availability.domain.offers import DeliveryPlace, OfferTerms
from mandi_availability.domain.quantities import Money, UnitTable

_NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
_RAJKOT = DeliveryPlace(22.30, 70.80, state="Gujarat", city="Rajkot", label="Rajkot APMC")


@pytest.fixture
def now() -> datetime:
    """The moment the tests' offers are made; they are valid for a week after it."""
    return _NOW


@pytest.fixture
def later(now: datetime) -> datetime:
    """An hour on: the offers are still valid."""
    return now + timedelta(hours=1)


@pytest.fixture
def place() -> DeliveryPlace:
    """A market yard to deliver to."""
    return _RAJKOT


@pytest.fixture
def cotton() -> Commodity:
    quality = {
        "staple_length_mm": QualityParameter("staple_length_mm", "mm", Decimal(22), Decimal(38)),
        "moisture_pct": QualityParameter("moisture_pct", "%", Decimal(0), Decimal(10)),
    }
    return Commodity(
        code="cotton",
        name="Cotton (lint)",
        units=UnitTable.with_units("kg", {"bale": "170", "candy": "355.6"}),
        price_unit="candy",
        grades=("Shankar-6", "MCU-5"),
        quality=quality,
    )


@pytest.fixture
def terms(cotton: Commodity) -> OfferTerms:
    """100 bales (17,000 kg) of Shankar-6 in lots of 10 bales, at 56,000 INR a candy."""
    return OfferTerms.checked(
        cotton,
        grade="Shankar-6",
        quality={"staple_length_mm": "29.5", "moisture_pct": 8},
        quantity=100,
        unit="bale",
        minimum_lot=10,
        price=Money("INR", Decimal("56000.00")),
        price_unit="candy",
        place=_RAJKOT,
        delivery_from=date(2026, 12, 1),
        delivery_to=date(2026, 12, 15),
        valid_until=_NOW + timedelta(days=7),
    )
