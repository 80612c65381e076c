"""The decision orchestrator's pure part: the catalog of scorers, a decision with its recorded
inputs and rationale, insiders kept out whatever the scorer, and the order of proposals."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from mandi_errors import NotFound
from mandi_matching.domain.decisions import Decision, ScorerCatalog, decide, rank
from mandi_matching.domain.heuristic import HEURISTIC, HeuristicScorer
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
from mandi_matching.domain.scoring import (
    Excluded,
    Factor,
    ProposedTerms,
    Scored,
    ScorerRef,
)
from mandi_rules import InsiderLinks

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
INDORE = Place(22.7196, 75.8577, "Indore", "Madhya Pradesh")
LEARNED = ScorerRef("learned", 2)

# --- the builder: wheat asked in Indore, offered from `place` at `price` ---


def _terms(price: str, place: Place = INDORE) -> Terms:
    return Terms(
        commodity="wheat",
        grade="Lokwan",
        quality={"moisture_pct": Decimal(12)},
        base_unit="kg",
        quantity=Decimal(5000),
        minimum_lot=Decimal(500),
        price=Decimal(price),
        currency="INR",
        price_unit="kg",
        place=place,
        delivery_from=date(2026, 12, 5),
        delivery_to=date(2026, 12, 14),
        valid_until=NOW + timedelta(days=3),
    )


def candidate(
    price: str = "25.00",
    place: Place = INDORE,
    *,
    availability_id: UUID | None = None,
    group_id: UUID | None = None,
) -> Candidate:
    """A buyer's 5 t at 27.50 at most; a seller's 8 t, risk approved with 90."""
    buyer, seller = uuid4(), uuid4()
    return Candidate(
        requirement=Requirement(uuid4(), buyer, _terms("27.50"), version=2),
        availability=Availability(
            availability_id or uuid4(), seller, _terms(price, place), free=Decimal(8000), version=4
        ),
        buyer=Party(buyer, InsiderLinks(buyer, group_id, frozenset(), frozenset())),
        seller=Party(
            seller,
            InsiderLinks(seller, group_id, frozenset(), frozenset()),
            risk=RiskView(90, "APPROVE"),
        ),
        quality_ranges={"moisture_pct": QualityRange(Decimal(8), Decimal(16))},
    )


class RecklessScorer:
    """A learned scorer stand-in that scores everything 50, whoever trades."""

    @property
    def ref(self) -> ScorerRef:
        return LEARNED

    def score(self, candidate: Candidate, now: datetime) -> Scored | Excluded:
        del now
        terms = ProposedTerms(
            candidate.requirement.terms.quantity,
            candidate.availability.terms.price,
            "INR",
            Decimal("125000.00"),
        )
        return Scored(LEARNED, (Factor("anything", Decimal(50), Decimal(100), "liked it"),), terms)


def decision(value: Candidate) -> Decision:
    outcome = decide(HeuristicScorer(), value, NOW)
    assert isinstance(outcome, Decision), outcome
    return outcome


# --- the catalog ---


def test_the_catalog_gives_the_active_scorer_and_can_switch_to_another_known_one() -> None:
    heuristic, learned = HeuristicScorer(), RecklessScorer()
    catalog = ScorerCatalog([heuristic, learned], HEURISTIC)
    assert catalog.active() is heuristic
    assert catalog.activate(LEARNED).active() is learned
    assert catalog.active() is heuristic  # switching makes a new catalog
    assert catalog.refs == (HEURISTIC, LEARNED)


def test_picking_an_unknown_scorer_says_which_are_known() -> None:
    catalog = ScorerCatalog([HeuristicScorer()], HEURISTIC)
    with pytest.raises(NotFound, match=r"No scorer learned v2 is known; known: heuristic v1\."):
        catalog.activate(LEARNED)
    with pytest.raises(NotFound, match="heuristic v7"):
        catalog.scorer(ScorerRef("heuristic", 7))


def test_a_catalog_cannot_start_with_an_unknown_scorer_active() -> None:
    with pytest.raises(NotFound, match="known: none"):
        ScorerCatalog([], HEURISTIC)


# --- a decision ---


def test_a_decision_carries_the_parties_the_scorer_the_score_and_the_trade() -> None:
    value = candidate()
    made = decision(value)
    assert (made.requirement_id, made.availability_id) == (
        value.requirement.id,
        value.availability.id,
    )
    assert (made.buyer_id, made.seller_id) == (value.buyer.partner_id, value.seller.partner_id)
    assert made.scorer == HEURISTIC
    # everything in full but price (25.00 is 9.1 % under 27.50: 0.5 + 0.5 x 0.909 of 20)
    # and risk (90 of 10)
    assert made.score == Decimal("98.09")
    assert sum(factor.points for factor in made.breakdown) == made.score
    assert (made.quantity, made.price, made.currency, made.value) == (
        Decimal(5000),
        Decimal("25.00"),
        "INR",
        Decimal("125000.00"),
    )
    assert (made.commodity, made.grade, made.base_unit, made.price_unit) == (
        "wheat",
        "Lokwan",
        "kg",
        "kg",
    )


def test_a_decisions_rationale_is_one_paragraph_from_its_factors() -> None:
    assert decision(candidate()).rationale == (
        "Scored 98.09 of 100 by heuristic v1: grade 15.00 of 15: grade Lokwan, as asked; "
        "quality 15.00 of 15: moisture_pct 12 for 12 asked; "
        "quantity 15.00 of 15: 5000 of the 5000 kg asked; "
        "price 19.09 of 20: asking 25.00, 9.1% under the limit 27.50; "
        "distance 15.00 of 15: 0.0 km from the delivery point (limit 500 km); "
        "delivery window 10.00 of 10: delivers on 10 of the 10 days asked; "
        "counterparty risk 9.00 of 10: seller's risk score 90, APPROVE; "
        "insiders 0.00 of 0: no shared group, director or contact. "
        "Proposes 5000 kg at 25.00 INR per kg, 125000.00 INR in all."
    )


def test_a_decision_records_its_inputs_as_json_without_places_or_people() -> None:
    value = candidate()
    made = decision(value)
    recorded = json.loads(json.dumps(made.inputs))
    assert recorded["requirement"]["id"] == str(value.requirement.id)
    assert recorded["requirement"]["terms"]["price"] == "27.50"
    assert recorded["availability"]["terms"]["price"] == "25.00"
    assert recorded["availability"]["free"] == "8000"
    assert recorded["availability"]["version"] == 4
    assert recorded["seller"] == {
        "id": str(value.seller.partner_id),
        "may_trade": True,
        "risk": {"score": 90, "decision": "APPROVE"},
    }
    assert recorded["buyer"]["risk"] is None
    assert recorded["distance_km"] == "0.0"
    assert recorded["price_unit_size"] == "1"  # priced per kg, kept in kg
    assert recorded["quality_ranges"] == {"moisture_pct": {"minimum": "8", "maximum": "16"}}
    assert "Indore" not in json.dumps(recorded)
    assert "latitude" not in json.dumps(recorded)


def test_a_decisions_breakdown_reads_as_json_by_factor() -> None:
    record = decision(candidate()).breakdown_record()
    assert list(record)[:2] == ["grade", "quality"]
    assert record["price"] == {
        "points": "19.09",
        "maximum": "20",
        "rationale": "asking 25.00, 9.1% under the limit 27.50",
    }


def test_a_scorers_exclusion_is_the_outcome() -> None:
    outcome = decide(HeuristicScorer(), candidate("28.00"), NOW)
    assert outcome == Excluded(
        "asking 28.00 is above the limit 27.50 by more than 0%", "price_above_limit"
    )


def test_insiders_are_excluded_before_any_scorer_is_asked() -> None:
    outcome = decide(RecklessScorer(), candidate(group_id=uuid4()), NOW)
    assert outcome == Excluded(
        "the buyer and the seller are insiders (same_group)", "insider_trading"
    )


def test_another_scorer_decides_through_the_same_call() -> None:
    made = decide(RecklessScorer(), candidate(), NOW)
    assert isinstance(made, Decision)
    assert (made.scorer, made.score) == (LEARNED, Decimal(50))
    assert made.rationale.startswith(
        "Scored 50.00 of 100 by learned v2: anything 50 of 100: liked it."
    )


# --- ranking ---


def test_the_best_score_comes_first() -> None:
    near = decision(candidate("25.00"))
    far = decision(candidate("25.00", replace(INDORE, latitude=INDORE.latitude + 1)))
    dear = decision(candidate("27.50"))
    assert [each.score for each in rank([far, dear, near])] == [
        Decimal("98.09"),
        Decimal("94.75"),  # 111.2 km costs 3.34 of 15
        Decimal("89.00"),  # at the limit, price earns half
    ]


def test_equal_scores_go_cheaper_first_then_by_availability_id() -> None:
    low, high = UUID(int=1), UUID(int=2)
    cheap = decision(candidate("24.00", availability_id=high))
    cheaper = decision(candidate("23.00", availability_id=high))
    first = decision(candidate("24.00", availability_id=low))
    assert cheap.score == cheaper.score == first.score == Decimal("99.00")
    assert rank([cheap, first, cheaper]) == [cheaper, first, cheap]


def test_ranking_does_not_depend_on_the_order_given() -> None:
    made = [decision(candidate(price)) for price in ("24.00", "25.00", "26.00", "27.00", "24.00")]
    assert rank(made) == rank(list(reversed(made)))
