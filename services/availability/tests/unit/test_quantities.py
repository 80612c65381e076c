"""Exact quantities and prices: units convert without loss, and what is not exact is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mandi_availability.domain.catalog import Commodity
from mandi_availability.domain.quantities import UnitTable, exact_decimal
from mandi_errors import InvalidInput


@pytest.mark.parametrize(
    ("amount", "unit", "kg"),
    [
        ("1", "bale", "170"),
        ("2", "candy", "711.2"),
        ("0.5", "candy", "177.8"),
        ("12.345", "quintal", "1234.5"),
        ("3", "tonne", "3000"),
        ("0.000001", "kg", "0.000001"),
    ],
)
def test_a_quantity_goes_into_the_base_unit_exactly(
    cotton: Commodity, amount: str, unit: str, kg: str
) -> None:
    assert cotton.in_base_unit(amount, unit, "q") == Decimal(kg)


@pytest.mark.parametrize("unit", ["kg", "quintal", "tonne", "bale", "candy"])
@pytest.mark.parametrize("amount", ["1", "0.1", "7.123456", "999999999.999999", "355.6"])
def test_every_round_trip_through_a_unit_returns_what_was_sent(
    cotton: Commodity, amount: str, unit: str
) -> None:
    in_kg = cotton.in_base_unit(amount, unit, "q")
    assert cotton.units.from_base(in_kg, unit) == Decimal(amount)


def test_an_amount_not_made_of_whole_units_is_shown_to_many_places_not_rounded_to_few(
    cotton: Commodity,
) -> None:
    candies = cotton.units.from_base(Decimal(1000), "candy")  # 2.8121484814398...
    assert abs(cotton.units.to_base(candies, "candy") - Decimal(1000)) < Decimal("1e-50")


def test_an_unknown_unit_is_refused_with_the_units_the_commodity_knows(cotton: Commodity) -> None:
    with pytest.raises(InvalidInput, match=r"Unknown unit 'sack'.*bale, candy, kg, quintal, tonne"):
        cotton.in_base_unit("1", "sack", "The quantity")


def test_a_commoditys_own_unit_wins_over_a_common_one() -> None:
    units = UnitTable.with_units("kg", {"quintal": "50"})
    assert units.to_base(Decimal(2), "quintal") == Decimal(100)


@pytest.mark.parametrize("amount", ["0", "-1", "-0.5"])
def test_a_quantity_of_zero_or_less_is_refused(cotton: Commodity, amount: str) -> None:
    with pytest.raises(InvalidInput, match="more than zero"):
        cotton.in_base_unit(amount, "kg", "The quantity")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.0000001", "more than 6 decimal places"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("ten", "not a number"),
        ("1e30", "too large"),
    ],
)
def test_an_amount_that_is_not_exact_and_finite_is_refused(value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        exact_decimal(value, "The quantity")


def test_a_unit_table_needs_its_base_unit_sized_one_and_positive_exact_sizes() -> None:
    with pytest.raises(InvalidInput, match="base unit 'bale' has the size 1"):
        UnitTable("bale", {"kg": Decimal(1)})
    with pytest.raises(InvalidInput, match="base unit 'kg' has the size 1"):
        UnitTable.with_units("kg", {"kg": "2"})
    with pytest.raises(InvalidInput, match="more than zero"):
        UnitTable.with_units("kg", {"bag": "0"})
    with pytest.raises(InvalidInput, match="more than 6 decimal places"):
        UnitTable.with_units("kg", {"bag": "1.0000001"})


def test_a_commodity_counted_in_a_unit_of_its_own_knows_no_kg_unless_told() -> None:
    units = UnitTable.with_units("bale", {"kg": "0.005"})
    assert dict(units.sizes) == {"bale": 1, "kg": Decimal("0.005")}
    assert units.to_base(Decimal(200), "kg") == 1
