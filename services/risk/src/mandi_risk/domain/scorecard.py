"""The rule-based scorecard: fixed points per factor, banded where a band reads better.

| factor          | points                                                          |
|-----------------|-----------------------------------------------------------------|
| credit_headroom | 30 at half the limit free or more, 22 a quarter, 14 a tenth, 6 less, 0 over |
| rating          | 20 x its strength (AAA 20 … D 0)                                |
| on_time_ratio   | 15 x the share paid on time                                     |
| days_late       | 5 x (1 - average days late / 90)                                |
| concentration   | 10 at a quarter with this seller or less, 6 a half, 3 three quarters, 0 more |
| bureau          | 20 x the bureau's strength                                      |

They add up to 100. Without a bureau score the bureau factor is left out and the others are
weighed up to 100 (x 100/80), so a missing score neither helps nor sinks a partner.
"""

from __future__ import annotations

from mandi_risk.domain.features import Features
from mandi_risk.domain.scoring import ModelRef, Scored

__all__ = ["SCORECARD", "Scorecard"]

SCORECARD = ModelRef("scorecard", 1)
_BUREAU_POINTS = 20.0
_HEADROOM_BANDS = ((0.5, 30.0), (0.25, 22.0), (0.1, 14.0), (0.0, 6.0))
_CONCENTRATION_BANDS = ((0.25, 10.0), (0.5, 6.0), (0.75, 3.0))


class Scorecard:
    """Scores by the table in this module's docstring."""

    @property
    def model(self) -> ModelRef:
        """The scorecard, version 1."""
        return SCORECARD

    def score(self, features: Features) -> Scored:
        """The points of each factor; their sum is the score."""
        points = {
            "credit_headroom": _banded_at_least(features.credit_headroom, _HEADROOM_BANDS),
            "rating": 20.0 * features.rating,
            "on_time_ratio": 15.0 * features.on_time_ratio,
            "days_late": 5.0 * (1.0 - features.days_late),
            "concentration": _banded_at_most(features.concentration, _CONCENTRATION_BANDS),
            "bureau": 0.0,
        }
        if features.bureau is None:
            weight = 100.0 / (100.0 - _BUREAU_POINTS)
            points = {name: value * weight for name, value in points.items()}
        else:
            points["bureau"] = _BUREAU_POINTS * features.bureau
        return Scored(SCORECARD, base=0.0, points=points)


def _banded_at_least(value: float, bands: tuple[tuple[float, float], ...]) -> float:
    return next((points for floor, points in bands if value >= floor), 0.0)


def _banded_at_most(value: float, bands: tuple[tuple[float, float], ...]) -> float:
    return next((points for ceiling, points in bands if value <= ceiling), 0.0)
