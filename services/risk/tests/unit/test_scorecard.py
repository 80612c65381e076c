"""The scorecard's points per factor, and its breakdown adding up to its score."""

from __future__ import annotations

import pytest

from mandi_risk.domain.features import Features
from mandi_risk.domain.scorecard import Scorecard

BEST = Features(1.0, 1.0, 1.0, 0.0, 0.0, 1.0)
WORST = Features(-1.0, 0.0, 0.0, 1.0, 1.0, 0.0)


def test_the_best_partner_scores_100_and_the_worst_0() -> None:
    assert Scorecard().score(BEST).score == 100
    assert Scorecard().score(WORST).score == 0


@pytest.mark.parametrize(
    ("headroom", "points"), [(0.6, 30), (0.5, 30), (0.3, 22), (0.1, 14), (0.0, 6), (-0.1, 0)]
)
def test_headroom_is_banded(headroom: float, points: float) -> None:
    features = Features(headroom, 1.0, 1.0, 0.0, 0.0, 1.0)
    assert Scorecard().score(features).points["credit_headroom"] == points


@pytest.mark.parametrize(("share", "points"), [(0.2, 10), (0.5, 6), (0.7, 3), (0.9, 0)])
def test_concentration_with_one_seller_is_banded(share: float, points: float) -> None:
    features = Features(0.6, 1.0, 1.0, 0.0, share, 1.0)
    assert Scorecard().score(features).points["concentration"] == points


def test_rating_payments_and_bureau_are_linear() -> None:
    points = Scorecard().score(Features(0.6, 0.5, 0.8, 0.5, 0.0, 0.25)).points
    assert points["rating"] == 10
    assert points["on_time_ratio"] == pytest.approx(12)
    assert points["days_late"] == 2.5
    assert points["bureau"] == 5


def test_without_a_bureau_score_the_other_factors_weigh_up_to_100() -> None:
    scored = Scorecard().score(Features(1.0, 1.0, 1.0, 0.0, 0.0, None))
    assert scored.points["bureau"] == 0
    assert scored.points["credit_headroom"] == pytest.approx(37.5)
    assert scored.score == 100


def test_the_breakdown_adds_up_to_the_score() -> None:
    scored = Scorecard().score(Features(0.3, 0.57, 0.91, 0.07, 0.4, 0.66))
    # 22 + 11.4 + 13.65 + 4.65 + 6 + 13.2, by the table
    assert scored.exact == pytest.approx(70.9)
    assert scored.score == 71
