"""A commodity's grades and quality ranges, checked on what an offer says."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mandi_availability.domain.catalog import Commodity, QualityParameter
from mandi_availability.domain.quantities import UnitTable
from mandi_errors import InvalidInput


def test_qualities_within_their_ranges_are_kept_exactly(cotton: Commodity) -> None:
    checked = cotton.checked_quality({"staple_length_mm": "29.5", "moisture_pct": 10})
    assert checked == {"staple_length_mm": Decimal("29.5"), "moisture_pct": Decimal(10)}


@pytest.mark.parametrize(
    ("name", "value"), [("staple_length_mm", "21.9"), ("moisture_pct", "10.01")]
)
def test_a_quality_out_of_its_range_is_refused_naming_the_parameter(
    cotton: Commodity, name: str, value: str
) -> None:
    with pytest.raises(InvalidInput, match=f"{name} must lie between") as refused:
        cotton.checked_quality({name: value})
    assert refused.value.extensions["parameter"] == name


def test_a_quality_the_commodity_does_not_measure_is_refused(cotton: Commodity) -> None:
    with pytest.raises(InvalidInput, match="no quality parameter 'oil_content_pct'"):
        cotton.checked_quality({"oil_content_pct": 20})


def test_an_unknown_grade_is_refused_with_the_commoditys_grades(cotton: Commodity) -> None:
    assert cotton.require_grade("MCU-5") == "MCU-5"
    with pytest.raises(InvalidInput, match="no grade 'J-34'; its grades are Shankar-6, MCU-5"):
        cotton.require_grade("J-34")


def test_a_quality_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidInput, match="ends before it starts"):
        QualityParameter("moisture_pct", "%", Decimal(10), Decimal(2))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "Cotton"}, "lower case"),
        ({"price_unit": "sack"}, "Unknown unit"),
        ({"grades": ()}, "1 to 100 grades"),
        ({"grades": ("A", "A")}, "each once"),
        ({"name": " "}, "1 to 200 characters"),
    ],
)
def test_a_commodity_is_refused_when_it_breaks_a_catalog_rule(
    changes: dict[str, object], message: str
) -> None:
    fields: dict[str, object] = {
        "code": "cotton",
        "name": "Cotton",
        "units": UnitTable.with_units("kg", {"bale": "170"}),
        "price_unit": "bale",
        "grades": ("Shankar-6",),
    }
    with pytest.raises(InvalidInput, match=message):
        Commodity(**{**fields, **changes})  # type: ignore[arg-type]
