"""The decision on a proposal: thresholds, outright rejections, conditions, and the rationale."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from mandi_risk.domain.assessment import (
    BureauReading,
    Decision,
    Proposal,
    Situation,
    decide,
    features_of,
)
from mandi_risk.domain.credit import CreditLimit, Exposure
from mandi_risk.domain.features import FEATURES, Features
from mandi_risk.domain.profile import PartnerProfile, PaymentRecord, Rating, Standing
from mandi_risk.domain.scorecard import Scorecard
from mandi_risk.domain.scoring import ModelRef, Scored
from mandi_rules import Money

NOW = datetime(2026, 11, 30, tzinfo=UTC)
BUYER = PartnerProfile(
    uuid4(),
    Standing.APPROVED,
    director_fingerprints=frozenset({"d-ravi"}),
    rating=Rating.A,
    payments=PaymentRecord(on_time=18, late=2, days_late=30),
)
SELLER = PartnerProfile(uuid4(), Standing.APPROVED, director_fingerprints=frozenset({"d-meena"}))
LIMIT = CreditLimit(BUYER.partner_id, Money("INR", Decimal(1_000_000)), "review", "risk", NOW)
PROPOSAL = Proposal(BUYER.partner_id, SELLER.partner_id, "cotton", Money("INR", Decimal(200_000)))
SITUATION = Situation(
    buyer=BUYER,
    seller=SELLER,
    limit=LIMIT,
    exposure=Exposure(BUYER.partner_id, "INR", Decimal(300_000)),
    with_seller=Decimal(100_000),
    bureau=BureauReading(780, NOW, live=True),
)


def scored(score: float) -> Scored:
    return Scored(ModelRef("fixed", 1), base=score, points=dict.fromkeys(FEATURES, 0.0))


def test_the_features_of_a_proposal() -> None:
    features = features_of(PROPOSAL, SITUATION, NOW)
    assert features.credit_headroom == pytest.approx(0.5)  # (1,000,000 - 300,000 - 200,000) / 1M
    assert features.rating == pytest.approx(5 / 7)
    assert features.on_time_ratio == pytest.approx(0.9)
    assert features.days_late == pytest.approx(1.5 / 90)
    assert features.concentration == pytest.approx(0.6)  # 300,000 of 500,000 with this seller
    assert features.bureau == pytest.approx(0.8)


def test_a_remembered_bureau_score_weighs_less_with_age_and_says_so() -> None:
    remembered = BureauReading(780, NOW - timedelta(days=60), why_not_live="breaker open")
    assert remembered.strength(NOW) == pytest.approx(0.8 - 0.1)
    assert "remembered from 60 days ago (breaker open)" in remembered.describe(NOW)
    unknown = BureauReading(None, why_not_live="breaker open")
    assert unknown.strength(NOW) is None
    assert "left out" in unknown.describe(NOW)


def test_a_fresh_score_weighs_as_a_live_one_and_says_it_was_not_asked_again() -> None:
    fresh = BureauReading(780, NOW - timedelta(hours=5), fresh=True)
    assert fresh.strength(NOW) == pytest.approx(0.8)
    assert fresh.describe(NOW) == "bureau score 780 from 5 h ago, recent enough not to ask again"


@pytest.mark.parametrize(
    ("score", "decision"),
    [
        (100, Decision.APPROVE),
        (70, Decision.APPROVE),
        (69.4, Decision.APPROVE_WITH_CONDITIONS),
        (50, Decision.APPROVE_WITH_CONDITIONS),
        (49.4, Decision.REJECT),
        (0, Decision.REJECT),
    ],
)
def test_the_score_decides_at_the_thresholds(score: float, decision: Decision) -> None:
    features = features_of(PROPOSAL, SITUATION, NOW)
    assert decide(PROPOSAL, SITUATION, features, scored(score), NOW).decision is decision


def test_conditions_follow_the_weak_factors() -> None:
    weak = Features(0.1, 0.3, 0.7, 0.3, 0.8, None)
    verdict = decide(PROPOSAL, SITUATION, weak, scored(60), NOW)
    assert verdict.decision is Decision.APPROVE_WITH_CONDITIONS
    assert len(verdict.conditions) == 5
    strong = Features(0.9, 0.9, 1.0, 0.0, 0.1, 0.9)
    assert decide(PROPOSAL, SITUATION, strong, scored(60), NOW).conditions == [
        "An advance of 10% of the trade's value before dispatch."
    ]


@pytest.mark.parametrize(
    ("situation", "why"),
    [
        (
            replace(SITUATION, seller=replace(SELLER, director_fingerprints=frozenset({"d-ravi"}))),
            "insiders to each other (shared_director)",
        ),
        (replace(SITUATION, seller=replace(SELLER, group_id=None), buyer=BUYER), None),
        (
            replace(SITUATION, buyer=replace(BUYER, standing=Standing.SUSPENDED)),
            "the buyer may not trade (it is suspended)",
        ),
        (
            replace(SITUATION, seller=replace(SELLER, standing=Standing.PENDING)),
            "the seller may not trade (it is pending)",
        ),
        (replace(SITUATION, limit=None), "the buyer has no credit limit"),
        (
            replace(SITUATION, exposure=Exposure(BUYER.partner_id, "INR", Decimal(900_000))),
            "does not fit the buyer's credit limit",
        ),
    ],
)
def test_rules_reject_outright_whatever_the_score(situation: Situation, why: str | None) -> None:
    features = features_of(PROPOSAL, situation, NOW)
    verdict = decide(PROPOSAL, situation, features, scored(100), NOW)
    if why is None:
        assert verdict.decision is Decision.APPROVE
    else:
        assert verdict.decision is Decision.REJECT
        assert why in verdict.rationale


def test_the_rationale_names_the_model_each_factor_and_the_bureau() -> None:
    features = features_of(PROPOSAL, SITUATION, NOW)
    result = Scorecard().score(features)
    verdict = decide(PROPOSAL, SITUATION, features, result, NOW)
    assert verdict.rationale.startswith(f"Approved with score {result.score}.")
    assert "By scorecard v1" in verdict.rationale
    assert "credit headroom +30.0" in verdict.rationale
    assert "bureau score 780, live" in verdict.rationale
