"""The scorer interface's values, the great-circle distance and a trade's value; and that each
module's `__all__` names what it offers, no more and no less."""

from __future__ import annotations

import inspect
from decimal import Decimal
from types import ModuleType

import pytest

from mandi_matching.domain import (
    decisions,
    distance,
    exclusions,
    heuristic,
    scoring,
    trade_terms,
)
from mandi_matching.domain.distance import haversine_km
from mandi_matching.domain.offers import Place
from mandi_matching.domain.scoring import (
    Factor,
    ProposedTerms,
    Scored,
    ScorerRef,
    points_of,
)
from mandi_matching.domain.trade_terms import trade_value

MUMBAI = Place(19.0760, 72.8777, "Mumbai", "Maharashtra")
DELHI = Place(28.6139, 77.2090, "New Delhi", "Delhi")
TERMS = ProposedTerms(Decimal(10), Decimal(5), "INR", Decimal("50.00"))


def test_mumbai_to_delhi_is_about_1150_km_as_the_crow_flies() -> None:
    assert haversine_km(MUMBAI, DELHI) == pytest.approx(1148.1, abs=0.1)
    assert haversine_km(DELHI, MUMBAI) == pytest.approx(haversine_km(MUMBAI, DELHI))


def test_a_place_is_no_distance_from_itself_and_a_degree_north_is_111_km() -> None:
    north = Place(MUMBAI.latitude + 1, MUMBAI.longitude, "", "")
    assert haversine_km(MUMBAI, MUMBAI) == 0
    assert haversine_km(MUMBAI, north) == pytest.approx(111.195, abs=0.001)


@pytest.mark.parametrize(
    ("share", "points"),
    [("0.5", "7.50"), ("0.33333", "5.00"), ("1.2", "15.00"), ("-0.1", "0.00"), ("0.7776", "11.66")],
)
def test_points_are_the_share_of_the_maximum_to_the_hundredth(share: str, points: str) -> None:
    assert points_of(Decimal(share), Decimal(15)) == Decimal(points)


def test_a_factor_keeps_its_points_to_the_hundredth_and_within_its_maximum() -> None:
    with pytest.raises(ValueError, match="kept to the hundredth"):
        Factor("price", Decimal("1.005"), Decimal(20), "")
    with pytest.raises(ValueError, match=r"outside 0\.\.20"):
        Factor("price", Decimal(21), Decimal(20), "")


def test_a_score_is_the_exact_sum_of_its_factors() -> None:
    factors = (
        Factor("a", Decimal("33.33"), Decimal(40), ""),
        Factor("b", Decimal("33.34"), Decimal(40), ""),
        Factor("c", Decimal("0.01"), Decimal(20), ""),
    )
    assert Scored(ScorerRef("x", 1), factors, TERMS).score == Decimal("66.68")


def test_a_breakdown_worth_more_than_100_or_naming_a_factor_twice_is_refused() -> None:
    twice = (Factor("a", Decimal(1), Decimal(10), ""), Factor("a", Decimal(1), Decimal(10), ""))
    with pytest.raises(ValueError, match="each factor once"):
        Scored(ScorerRef("x", 1), twice, TERMS)
    over = (Factor("a", Decimal(1), Decimal(60), ""), Factor("b", Decimal(1), Decimal(41), ""))
    with pytest.raises(ValueError, match="100 at most"):
        Scored(ScorerRef("x", 1), over, TERMS)


def test_scorer_refs_order_by_name_then_version() -> None:
    refs = [ScorerRef("learned", 2), ScorerRef("heuristic", 1), ScorerRef("learned", 1)]
    assert sorted(refs) == [ScorerRef("heuristic", 1), ScorerRef("learned", 1), refs[0]]


@pytest.mark.parametrize(
    ("quantity", "price", "unit_size", "currency", "value"),
    [
        ("10000", "43.20", "1", "INR", "432000.00"),
        ("1.5", "3.33", "1", "INR", "5.00"),  # 4.995 rounds half up to the paisa
        ("25000", "4800.00", "100", "INR", "1200000.00"),  # 250 quintals at 4800 a quintal
        ("2.5", "101", "1", "JPY", "253"),  # no minor units: 252.5 rounds to 253
    ],
)
def test_a_trades_value_is_in_price_units_and_the_currencys_minor_units(
    quantity: str, price: str, unit_size: str, currency: str, value: str
) -> None:
    exact = trade_value(Decimal(quantity), Decimal(price), Decimal(unit_size), currency)
    assert str(exact) == value


@pytest.mark.parametrize(
    "module", [scoring, distance, trade_terms, exclusions, heuristic, decisions]
)
def test_all_names_the_modules_public_surface(module: ModuleType) -> None:
    own = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module.__name__
    }
    assert own <= set(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)
