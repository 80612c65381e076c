"""The heuristic scorer: each factor's points and words, every exclusion, and the properties
that hold for any candidate (an exact breakdown; insiders never proposed)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from mandi_matching.domain.exclusions import Limits
from mandi_matching.domain.heuristic import (
    HEURISTIC,
    HeuristicScorer,
    HeuristicTunables,
    Weights,
)
from mandi_matching.domain.offers import (
    Availability,
    Candidate,
    Party,
    Place,
    QualityRange,
    Requirement,
    RiskView,
    Terms,
)
from mandi_matching.domain.scoring import Excluded, Factor, Scored
from mandi_rules import InsiderLinks

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
INDORE = Place(22.7196, 75.8577, "Indore", "Madhya Pradesh")
ONE_DEGREE_NORTH = Place(23.7196, 75.8577, "", "Madhya Pradesh")  # 111.2 km away
MUMBAI = Place(19.0760, 72.8777, "Mumbai", "Maharashtra")
DELHI = Place(28.6139, 77.2090, "New Delhi", "Delhi")
RANGES = {
    "moisture_pct": QualityRange(Decimal(0), Decimal(20)),  # closeness reaches 0 at 5 away
    "oil_pct": QualityRange(Decimal(10), Decimal(30)),
}
APPROVED = RiskView(80, "APPROVE")
FACTORS = (
    "grade",
    "quality",
    "quantity",
    "price",
    "distance",
    "delivery_window",
    "counterparty_risk",
    "insiders",
)

# --- the builder: a buyer's soybean requirement and a seller's availability that fits it ---


def terms(**changes: Any) -> Terms:
    """Soybean, FAQ grade, 10 t at 48 INR/kg delivered in Indore from 10 to 19 December."""
    asked = Terms(
        commodity="soybean",
        grade="FAQ",
        quality={"moisture_pct": Decimal(10), "oil_pct": Decimal(18)},
        base_unit="kg",
        quantity=Decimal(10000),
        minimum_lot=Decimal(1000),
        price=Decimal("48.00"),
        currency="INR",
        price_unit="kg",
        place=INDORE,
        delivery_from=date(2026, 12, 10),
        delivery_to=date(2026, 12, 19),
        valid_until=NOW + timedelta(days=7),
    )
    return replace(asked, **changes)


def links(partner_id: UUID | None = None, **changes: Any) -> InsiderLinks:
    """A partner tied to no one."""
    alone = InsiderLinks(partner_id or uuid4(), None, frozenset(), frozenset())
    return replace(alone, **changes)


def candidate(
    asked: Mapping[str, Any] | None = None,
    offered: Mapping[str, Any] | None = None,
    *,
    free: Decimal | None = None,
    buyer: Mapping[str, Any] | None = None,
    seller: Mapping[str, Any] | None = None,
    ranges: Mapping[str, QualityRange] = RANGES,
) -> Candidate:
    """By default a perfect fit: same place, grade, qualities and days, 10 % under the limit,
    20 t free with a 2 t lot, from a seller risk approved with 80."""
    offered_terms = terms(
        quantity=Decimal(20000), minimum_lot=Decimal(2000), price=Decimal("43.20")
    )
    offered_terms = replace(offered_terms, **(offered or {}))
    buyer_id, seller_id = uuid4(), uuid4()
    return Candidate(
        requirement=Requirement(uuid4(), buyer_id, terms(**(asked or {})), version=1),
        availability=Availability(
            uuid4(),
            seller_id,
            offered_terms,
            free=offered_terms.quantity if free is None else free,
            version=3,
        ),
        buyer=replace(Party(buyer_id, links(buyer_id)), **(buyer or {})),
        seller=replace(Party(seller_id, links(seller_id), risk=APPROVED), **(seller or {})),
        quality_ranges=ranges,
    )


def scored(value: Candidate, tunables: HeuristicTunables | None = None) -> Scored:
    outcome = HeuristicScorer(tunables).score(value, NOW)
    assert isinstance(outcome, Scored), outcome
    return outcome


def factor(value: Candidate, name: str, tunables: HeuristicTunables | None = None) -> Factor:
    return next(each for each in scored(value, tunables).factors if each.name == name)


def excluded(value: Candidate, tunables: HeuristicTunables | None = None) -> Excluded:
    outcome = HeuristicScorer(tunables).score(value, NOW)
    assert isinstance(outcome, Excluded), outcome
    return outcome


# --- the whole breakdown ---


def test_a_perfect_fit_from_a_seller_scored_80_earns_98() -> None:
    result = scored(candidate())
    assert result.scorer == HEURISTIC
    assert [(each.name, each.points, each.maximum) for each in result.factors] == [
        ("grade", Decimal("15.00"), Decimal(15)),
        ("quality", Decimal("15.00"), Decimal(15)),
        ("quantity", Decimal("15.00"), Decimal(15)),
        ("price", Decimal("20.00"), Decimal(20)),
        ("distance", Decimal("15.00"), Decimal(15)),
        ("delivery_window", Decimal("10.00"), Decimal(10)),
        ("counterparty_risk", Decimal("8.00"), Decimal(10)),
        ("insiders", Decimal("0.00"), Decimal(0)),
    ]
    assert result.score == Decimal("98.00")


def test_the_proposed_trade_is_the_quantity_asked_at_the_asking_price() -> None:
    proposed = scored(candidate()).terms
    assert (proposed.quantity, proposed.price, proposed.currency) == (
        Decimal(10000),
        Decimal("43.20"),
        "INR",
    )
    assert proposed.value == Decimal("432000.00")


def test_the_proposed_quantity_is_what_is_free_when_less_is_free_than_asked() -> None:
    proposed = scored(candidate(free=Decimal(6000))).terms
    assert (proposed.quantity, proposed.value) == (Decimal(6000), Decimal("259200.00"))


# --- grade ---


def test_another_grade_earns_nothing_by_default() -> None:
    grade = factor(candidate(offered={"grade": "Sub-FAQ"}), "grade")
    assert (grade.points, grade.rationale) == (Decimal(0), "grade Sub-FAQ for FAQ asked")


def test_another_grade_earns_the_share_a_desk_configures() -> None:
    tunables = HeuristicTunables(other_grade_share=Decimal("0.4"))
    grade = factor(candidate(offered={"grade": "Sub-FAQ"}), "grade", tunables)
    assert grade.points == Decimal("6.00")


def test_the_grade_asked_earns_all_and_says_so() -> None:
    assert factor(candidate(), "grade").rationale == "grade FAQ, as asked"


# --- quality ---


def test_quality_is_the_mean_closeness_over_the_catalog_range() -> None:
    # moisture 1 off in a range of 20 (zero at 5 off): 0.8; oil exact: 1; mean 0.9 of 15
    offered = {"quality": {"moisture_pct": Decimal(11), "oil_pct": Decimal(18)}}
    quality = factor(candidate(offered=offered), "quality")
    assert quality.points == Decimal("13.50")
    assert quality.rationale == "moisture_pct 11 for 10 asked, oil_pct 18 for 18 asked"


def test_a_parameter_the_seller_does_not_state_earns_nothing() -> None:
    quality = factor(candidate(offered={"quality": {"moisture_pct": Decimal(10)}}), "quality")
    assert quality.points == Decimal("7.50")
    assert quality.rationale == "moisture_pct 10 for 10 asked, oil_pct not stated (18 asked)"


def test_a_value_a_quarter_of_the_range_away_or_more_earns_nothing() -> None:
    offered = {"quality": {"moisture_pct": Decimal(16), "oil_pct": Decimal(3)}}
    assert factor(candidate(offered=offered), "quality").points == 0


def test_without_a_catalog_range_a_quarter_of_the_asked_value_stands_in() -> None:
    # protein asked 40, offered 38: 2 off where 10 off earns nothing, closeness 0.8
    asked = {"quality": {"protein_pct": Decimal(40)}}
    offered = {"quality": {"protein_pct": Decimal(38)}}
    assert factor(candidate(asked, offered), "quality").points == Decimal("12.00")


def test_without_a_range_and_an_asked_zero_only_an_exact_value_earns() -> None:
    asked = {"quality": {"damaged_pct": Decimal(0)}}
    exact = candidate(asked, {"quality": {"damaged_pct": Decimal(0)}})
    near = candidate(asked, {"quality": {"damaged_pct": Decimal("0.5")}})
    assert (factor(exact, "quality").points, factor(near, "quality").points) == (
        Decimal(15),
        Decimal(0),
    )


def test_a_buyer_asking_no_qualities_gives_quality_in_full() -> None:
    quality = factor(candidate({"quality": {}}), "quality")
    assert (quality.points, quality.rationale) == (Decimal(15), "no quality parameters asked")


# --- quantity ---


def test_quantity_earns_the_share_of_the_asked_quantity_proposed() -> None:
    quantity = factor(candidate(free=Decimal(6000)), "quantity")
    assert (quantity.points, quantity.rationale) == (Decimal("9.00"), "6000 of the 10000 kg asked")


def test_the_availabilitys_whole_rest_may_be_less_than_its_lot() -> None:
    # 1500 kg free, under the seller's 2 t lot: reservable, as it is all that is free
    quantity = factor(candidate(free=Decimal(1500)), "quantity")
    assert quantity.points == Decimal("2.25")


# --- price ---


@pytest.mark.parametrize(
    ("asking", "points"),
    [("48.00", "10.00"), ("45.60", "15.00"), ("43.20", "20.00"), ("30.00", "20.00")],
)
def test_price_earns_half_at_the_limit_and_all_at_ten_percent_under(
    asking: str, points: str
) -> None:
    assert factor(candidate(offered={"price": Decimal(asking)}), "price").points == Decimal(points)


def test_price_says_how_far_under_the_limit_it_is() -> None:
    price = factor(candidate(offered={"price": Decimal("45.60")}), "price")
    assert price.rationale == "asking 45.60, 5.0% under the limit 48.00"


def test_a_price_over_the_limit_within_the_tolerance_earns_nothing() -> None:
    tunables = HeuristicTunables(limits=Limits(price_tolerance=Decimal("0.05")))
    price = factor(candidate(offered={"price": Decimal("50.00")}), "price", tunables)
    assert (price.points, price.rationale) == (Decimal(0), "asking 50.00 is over the limit 48.00")


# --- distance ---


def test_distance_falls_evenly_to_nothing_at_the_radius() -> None:
    # 111.2 km of 500: 1 - 0.2224 of 15
    distance = factor(candidate(offered={"place": ONE_DEGREE_NORTH}), "distance")
    assert distance.points == Decimal("11.66")
    assert distance.rationale == "111.2 km from the delivery point (limit 500 km)"


def test_a_smaller_radius_makes_the_same_distance_earn_less() -> None:
    tunables = HeuristicTunables(limits=Limits(max_radius_km=Decimal(200)))
    distance = factor(candidate(offered={"place": ONE_DEGREE_NORTH}), "distance", tunables)
    assert distance.points == Decimal("6.66")  # 1 - 111.2 / 200 = 0.444 of 15


# --- delivery window ---


def test_the_window_earns_the_share_of_asked_days_both_allow() -> None:
    offered = {"delivery_from": date(2026, 12, 15), "delivery_to": date(2026, 12, 25)}
    window = factor(candidate(offered=offered), "delivery_window")
    assert (window.points, window.rationale) == (
        Decimal("5.00"),
        "delivers on 5 of the 10 days asked",
    )


# --- counterparty risk ---


def test_an_unassessed_seller_earns_a_neutral_half() -> None:
    risk = factor(candidate(seller={"risk": None}), "counterparty_risk")
    assert (risk.points, risk.rationale) == (Decimal("5.00"), "not assessed yet")


def test_an_assessed_seller_earns_its_risk_score_out_of_100() -> None:
    seller = {"risk": RiskView(55, "APPROVE_WITH_CONDITIONS")}
    risk = factor(candidate(seller=seller), "counterparty_risk")
    assert (risk.points, risk.rationale) == (
        Decimal("5.50"),
        "seller's risk score 55, APPROVE_WITH_CONDITIONS",
    )


def test_the_insider_check_is_in_the_breakdown_worth_no_points() -> None:
    insiders = factor(candidate(), "insiders")
    assert (insiders.points, insiders.maximum) == (Decimal(0), Decimal(0))
    assert insiders.rationale == "no shared group, director or contact"


# --- exclusions ---

_GROUP = uuid4()


@pytest.mark.parametrize(
    ("buyer_ties", "seller_ties", "reason"),
    [
        ({"group_id": _GROUP}, {"group_id": _GROUP}, "same_group"),
        (
            {"director_fingerprints": frozenset({"d1"})},
            {"director_fingerprints": frozenset({"d1", "d2"})},
            "shared_director",
        ),
        (
            {"contact_fingerprints": frozenset({"c1"})},
            {"director_fingerprints": frozenset({"c1"})},
            "shared_contact",
        ),
    ],
)
def test_insiders_are_excluded(
    buyer_ties: dict[str, Any], seller_ties: dict[str, Any], reason: str
) -> None:
    value = candidate(buyer={"links": links(**buyer_ties)}, seller={"links": links(**seller_ties)})
    assert excluded(value) == Excluded(
        f"the buyer and the seller are insiders ({reason})", "insider_trading"
    )


def test_a_partner_is_never_proposed_its_own_offer() -> None:
    same = uuid4()
    value = candidate(buyer={"links": links(same)}, seller={"links": links(same)})
    assert excluded(value).reason == "the buyer and the seller are insiders (same_partner)"


@pytest.mark.parametrize("role", ["buyer", "seller"])
def test_a_party_that_may_not_trade_is_excluded(role: str) -> None:
    barred = {"may_trade": False}
    value = candidate(buyer=barred) if role == "buyer" else candidate(seller=barred)
    assert excluded(value) == Excluded(f"the {role} may not trade", "party_may_not_trade")


def test_a_seller_risk_rejected_is_excluded() -> None:
    value = candidate(seller={"risk": RiskView(35, "REJECT")})
    assert excluded(value) == Excluded("risk rejected the seller (score 35)", "risk_rejected")


@pytest.mark.parametrize(
    ("what", "offered", "rule"),
    [
        ("commodity", "wheat", "commodity_differs"),
        ("currency", "USD", "currency_differs"),
        ("price_unit", "quintal", "price_unit_differs"),
    ],
)
def test_different_commodity_currency_or_price_unit_is_excluded(
    what: str, offered: str, rule: str
) -> None:
    assert excluded(candidate(offered={what: offered})).rule == rule


def test_a_commodity_difference_is_told_in_words() -> None:
    reason = excluded(candidate(offered={"commodity": "wheat"})).reason
    assert reason == "the commodity differs: wheat offered, soybean asked"


@pytest.mark.parametrize("side", ["asked", "offered"])
def test_an_expired_offer_is_excluded(side: str) -> None:
    ended = {"valid_until": NOW}
    value = candidate(asked=ended) if side == "asked" else candidate(offered=ended)
    role = "requirement" if side == "asked" else "availability"
    assert excluded(value) == Excluded(f"the {role} expired at {NOW.isoformat()}", "expired")


def test_a_price_over_the_limit_is_excluded_without_a_tolerance() -> None:
    assert excluded(candidate(offered={"price": Decimal("48.01")})) == Excluded(
        "asking 48.01 is above the limit 48.00 by more than 0%", "price_above_limit"
    )


def test_a_price_beyond_the_tolerance_is_excluded() -> None:
    tunables = HeuristicTunables(limits=Limits(price_tolerance=Decimal("0.05")))
    assert excluded(candidate(offered={"price": Decimal("50.41")}), tunables).rule == (
        "price_above_limit"
    )
    within = candidate(offered={"price": Decimal("50.40")})
    assert isinstance(HeuristicScorer(tunables).score(within, NOW), Scored)


def test_windows_that_share_no_day_are_excluded() -> None:
    offered = {"delivery_from": date(2026, 12, 20), "delivery_to": date(2026, 12, 31)}
    assert excluded(candidate(offered=offered)) == Excluded(
        "delivery 2026-12-20 to 2026-12-31 offered shares no day with 2026-12-10 to 2026-12-19 "
        "asked",
        "no_delivery_overlap",
    )


def test_goods_beyond_the_radius_are_excluded() -> None:
    value = candidate({"place": DELHI}, {"place": MUMBAI})
    assert excluded(value) == Excluded(
        "1148.1 km from the delivery point, beyond the 500 km radius", "beyond_radius"
    )


def test_a_wider_radius_admits_them() -> None:
    tunables = HeuristicTunables(limits=Limits(max_radius_km=Decimal(1200)))
    distance = factor(candidate({"place": DELHI}, {"place": MUMBAI}), "distance", tunables)
    assert distance.points == Decimal("0.65")  # 1 - 1148.1 / 1200 of 15


def test_nothing_free_is_excluded() -> None:
    assert excluded(candidate(free=Decimal(0))) == Excluded(
        "nothing of the availability is free", "quantity_untradeable"
    )


def test_less_free_than_the_buyers_lot_is_excluded() -> None:
    assert excluded(candidate(free=Decimal(500))) == Excluded(
        "500 kg is below the requirement's minimum lot of 1000 kg", "quantity_untradeable"
    )


def test_less_than_the_sellers_lot_is_excluded_unless_it_is_all_that_is_free() -> None:
    value = candidate({"quantity": Decimal(1500)}, free=Decimal(20000))
    assert excluded(value) == Excluded(
        "1500 kg is below the availability's minimum lot of 2000 kg", "quantity_untradeable"
    )


def test_a_price_per_quintal_is_valued_by_the_catalogs_size_of_a_quintal() -> None:
    per_quintal = {"price_unit": "quintal", "price": Decimal(4800)}
    value = candidate(per_quintal, {"price_unit": "quintal", "price": Decimal(4320)})
    proposed = scored(replace(value, price_unit_size=Decimal(100))).terms
    # 10000 kg are 100 quintals, at 4320 a quintal
    assert (proposed.quantity, proposed.price, proposed.value) == (
        Decimal(10000),
        Decimal(4320),
        Decimal("432000.00"),
    )


def test_a_price_unit_of_unknown_size_is_excluded_as_the_value_is_unknown() -> None:
    per_quintal = {"price_unit": "quintal", "price": Decimal(4800)}
    value = candidate(per_quintal, {"price_unit": "quintal", "price": Decimal(4320)})
    assert excluded(value) == Excluded(
        "priced per quintal, kept in kg: the size of a quintal in kg is not known, "
        "so neither is the value",
        "price_unit_size_unknown",
    )


# --- tunables ---


def test_weights_must_add_up_to_100() -> None:
    with pytest.raises(ValueError, match="add up to 100, not 105"):
        Weights(price=Decimal(25))


@pytest.mark.parametrize("weight", [Decimal(-5), Decimal("20.005")])
def test_weights_are_not_negative_and_in_hundredths(weight: Decimal) -> None:
    with pytest.raises(ValueError, match="0 or more, in hundredths"):
        Weights(price=weight, counterparty_risk=Decimal(30) - weight)


def test_other_weights_move_the_points() -> None:
    weights = Weights(price=Decimal(30), counterparty_risk=Decimal(0))
    result = scored(candidate(), HeuristicTunables(weights=weights))
    assert result.score == 100  # the risk factor that cost 2 points weighs nothing now


@pytest.mark.parametrize(
    "changes",
    [
        {"other_grade_share": Decimal("1.5")},
        {"unassessed_risk_share": Decimal(-1)},
        {"full_price_discount": Decimal(0)},
    ],
)
def test_tunables_out_of_range_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"lies between 0 and 1|above 0"):
        HeuristicTunables(**changes)


# --- properties over random candidates ---

_quantities = st.decimals(min_value=1, max_value=100000, places=3)
_prices = st.decimals(min_value="0.01", max_value=10000, places=2)
_values = st.decimals(min_value=0, max_value=40, places=2)
_days = st.integers(min_value=0, max_value=40).map(lambda n: date(2026, 12, 1) + timedelta(n))
_qualities = st.dictionaries(
    st.sampled_from(["moisture_pct", "oil_pct", "protein_pct"]), _values, max_size=3
)
_risks = st.none() | st.builds(
    RiskView,
    st.integers(0, 100),
    st.sampled_from(["APPROVE", "APPROVE_WITH_CONDITIONS", "REJECT"]),
)


@st.composite
def _places(draw: st.DrawFn) -> Place:
    latitude = draw(st.floats(min_value=-60, max_value=60))
    longitude = draw(st.floats(min_value=-180, max_value=180))
    return Place(latitude, longitude, "", "")


@st.composite
def _terms(draw: st.DrawFn, near: Place) -> Terms:
    start = draw(_days)
    quantity = draw(_quantities)
    return terms(
        commodity=draw(st.sampled_from(["soybean", "soybean", "wheat"])),
        grade=draw(st.sampled_from(["FAQ", "Sub-FAQ"])),
        quality=draw(_qualities),
        quantity=quantity,
        minimum_lot=draw(st.decimals(min_value=0, max_value=quantity, places=3)),
        price=draw(_prices),
        place=draw(st.sampled_from([near, replace(near, latitude=near.latitude + 2)]) | _places()),
        delivery_from=start,
        delivery_to=start + timedelta(draw(st.integers(0, 20))),
        valid_until=NOW + timedelta(hours=draw(st.integers(-1, 200))),
    )


def _with(value: Candidate, asked: Terms, offered: Terms, free: Decimal) -> Candidate:
    return replace(
        value,
        requirement=replace(value.requirement, terms=asked),
        availability=replace(value.availability, terms=offered, free=free),
    )


@st.composite
def candidates(draw: st.DrawFn) -> Candidate:
    """Any candidate: often a fit, often not."""
    asked = draw(_terms(INDORE))
    offered = draw(_terms(asked.place))
    free = draw(st.decimals(min_value=0, max_value=offered.quantity, places=3))
    value = candidate(seller={"risk": draw(_risks)}, ranges=draw(st.sampled_from([RANGES, {}])))
    return _with(value, asked, offered, free)


@st.composite
def _weights(draw: st.DrawFn) -> Weights:
    """Seven weights adding up to 100: the gaps between six cuts of 0..100."""
    cuts = sorted(draw(st.lists(st.integers(0, 10000), min_size=6, max_size=6)))
    bounds = [0, *cuts, 10000]
    gaps = [Decimal(high - low).scaleb(-2) for low, high in itertools.pairwise(bounds)]
    return Weights(*gaps)


_tunables = st.builds(
    HeuristicTunables,
    weights=st.just(Weights()) | _weights(),
    limits=st.builds(
        Limits,
        max_radius_km=st.decimals(min_value=0, max_value=2000, places=1),
        price_tolerance=st.decimals(min_value=0, max_value="0.2", places=2),
    ),
    other_grade_share=st.decimals(min_value=0, max_value=1, places=2),
    quality_reach=st.decimals(min_value=0, max_value=1, places=2),
)


@st.composite
def fits(draw: st.DrawFn) -> Candidate:
    """A candidate no rule excludes: same commodity, at or under the limit, shared days, within
    about 220 km, lots kept, open, a seller not rejected; everything else at random."""
    value = draw(candidates())
    asked = replace(value.requirement.terms, valid_until=NOW + timedelta(days=1))
    first_day = asked.delivery_from + timedelta(draw(st.integers(0, _length(asked))))
    quantity = draw(
        st.decimals(min_value=max(asked.minimum_lot, Decimal(1)), max_value=10**6, places=3)
    )
    offered = replace(
        value.availability.terms,
        commodity=asked.commodity,
        price=min(value.availability.terms.price, asked.price),
        place=replace(asked.place, latitude=asked.place.latitude + draw(st.floats(-2, 2))),
        delivery_from=first_day,
        delivery_to=first_day + timedelta(draw(st.integers(0, 20))),
        minimum_lot=draw(st.decimals(min_value=0, max_value=asked.minimum_lot, places=3)),
        quantity=quantity,
        valid_until=asked.valid_until,
    )
    risk = draw(st.none() | st.builds(RiskView, st.integers(0, 100), st.just("APPROVE")))
    return replace(_with(value, asked, offered, quantity), seller=replace(value.seller, risk=risk))


def _length(terms: Terms) -> int:
    return (terms.delivery_to - terms.delivery_from).days


@settings(max_examples=300)
@given(st.one_of(candidates(), fits()), _tunables)
def test_a_breakdown_adds_up_exactly_to_a_score_within_0_and_100(
    value: Candidate, tunables: HeuristicTunables
) -> None:
    outcome = HeuristicScorer(tunables).score(value, NOW)
    event(outcome.rule if isinstance(outcome, Excluded) else "scored")
    if isinstance(outcome, Excluded):
        return
    assert tuple(each.name for each in outcome.factors) == FACTORS
    assert sum(each.points for each in outcome.factors) == outcome.score
    assert outcome.score == outcome.score.quantize(Decimal("0.01"))
    assert 0 <= outcome.score <= 100
    assert all(0 <= each.points <= each.maximum for each in outcome.factors)
    assert sum(each.maximum for each in outcome.factors) == 100


@settings(max_examples=200)
@given(fits())
def test_a_candidate_no_rule_excludes_is_scored_and_adds_up(value: Candidate) -> None:
    outcome = HeuristicScorer().score(value, NOW)
    assert isinstance(outcome, Scored), outcome
    assert sum(each.points for each in outcome.factors) == outcome.score
    assert outcome.terms.quantity == min(value.requirement.terms.quantity, value.availability.free)


_ties = st.sampled_from(["same_group", "shared_director", "shared_contact"])


def _tied(value: Candidate, tie: str, fingerprint: str) -> Candidate:
    buyer, seller = value.buyer.links, value.seller.links
    shared = frozenset({fingerprint})
    if tie == "same_group":
        group = uuid4()
        buyer, seller = replace(buyer, group_id=group), replace(seller, group_id=group)
    elif tie == "shared_director":
        buyer = replace(buyer, director_fingerprints=shared)
        seller = replace(seller, director_fingerprints=shared)
    else:
        buyer = replace(buyer, contact_fingerprints=shared)
        seller = replace(seller, contact_fingerprints=shared)
    return replace(
        value, buyer=replace(value.buyer, links=buyer), seller=replace(value.seller, links=seller)
    )


@settings(max_examples=200)
@given(st.one_of(candidates(), fits()), _ties, st.text(min_size=1, max_size=8), _tunables)
def test_insiders_are_always_excluded(
    value: Candidate, tie: str, fingerprint: str, tunables: HeuristicTunables
) -> None:
    outcome = HeuristicScorer(tunables).score(_tied(value, tie, fingerprint), NOW)
    assert outcome == Excluded(f"the buyer and the seller are insiders ({tie})", "insider_trading")
