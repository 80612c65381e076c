"""The heuristic scorer: fixed weights, a share of each earned by a rule one can say in words.

| factor            | weight | share of it earned                                            |
|-------------------|--------|---------------------------------------------------------------|
| grade             | 15     | 1 for the grade asked, `other_grade_share` (0) for another     |
| quality           | 15     | the mean closeness of each parameter the buyer states         |
| quantity          | 15     | the proposed quantity over the quantity asked                 |
| price             | 20     | 0.5 at the limit, rising evenly to 1 at 10 % below it; 0 over  |
| distance          | 15     | 1 at the delivery point, falling evenly to 0 at the radius    |
| delivery_window   | 10     | the days both allow over the days the buyer asked for         |
| counterparty_risk | 10     | the seller's risk score / 100; 0.5 when not assessed yet      |
| insiders          | 0      | none: insiders are excluded; the line says the check was made |

A parameter's closeness is 1 at the value asked, falling evenly to 0 at a quarter of its catalog
range away (either way: the catalog does not say which way is better); a quarter of the asked
value stands in for an unknown range. A parameter the seller does not state earns nothing.

Price and grade weigh most with quality because they are the contract; distance is freight;
the window and risk refine. Before any points, `trade_exclusion` and `compliance_exclusion`
rule out what must never be proposed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal

from mandi_matching.domain.distance import delivery_distance_km
from mandi_matching.domain.exclusions import (
    Limits,
    compliance_exclusion,
    delivery_overlap,
    trade_exclusion,
)
from mandi_matching.domain.offers import Candidate, QualityRange
from mandi_matching.domain.scoring import (
    POINTS_STEP,
    SCORE_MAXIMUM,
    Excluded,
    Factor,
    Scored,
    ScorerRef,
    points_of,
)
from mandi_matching.domain.trade_terms import proposed_quantity, proposed_terms

__all__ = ["HEURISTIC", "HeuristicScorer", "HeuristicTunables", "Weights"]

HEURISTIC = ScorerRef("heuristic", 1)
# Insiders never get this far (they are excluded); the line shows the check was made.
_NO_INSIDERS = "no shared group, director or contact"


@dataclass(frozen=True)
class Weights:
    """Each factor's maximum points; they add up to 100."""

    grade: Decimal = Decimal(15)
    quality: Decimal = Decimal(15)
    quantity: Decimal = Decimal(15)
    price: Decimal = Decimal(20)
    distance: Decimal = Decimal(15)
    delivery_window: Decimal = Decimal(10)
    counterparty_risk: Decimal = Decimal(10)

    def __post_init__(self) -> None:
        weights = [getattr(self, weight.name) for weight in fields(self)]
        if any(weight < 0 or weight != weight.quantize(POINTS_STEP) for weight in weights):
            raise ValueError("a weight is 0 or more, in hundredths of a point")
        total = sum(weights, Decimal(0))
        if total != SCORE_MAXIMUM:
            raise ValueError(f"the weights add up to 100, not {total}")


@dataclass(frozen=True)
class HeuristicTunables:
    """What a desk may tune of the heuristic scorer, with defaults that suit most."""

    weights: Weights = field(default_factory=Weights)
    limits: Limits = field(default_factory=Limits)
    other_grade_share: Decimal = Decimal(0)
    quality_reach: Decimal = Decimal("0.25")  # of the range, where closeness reaches 0
    price_share_at_limit: Decimal = Decimal("0.5")
    full_price_discount: Decimal = Decimal("0.10")  # below the limit, where price earns all
    unassessed_risk_share: Decimal = Decimal("0.5")

    def __post_init__(self) -> None:
        shares = (self.other_grade_share, self.price_share_at_limit, self.unassessed_risk_share)
        if not all(Decimal(0) <= share <= 1 for share in shares):
            raise ValueError("a share of a factor's points lies between 0 and 1")
        if self.quality_reach < 0 or self.full_price_discount <= 0:
            raise ValueError("the quality reach is 0 or more, the full price discount above 0")


class HeuristicScorer:
    """Scores by the table in this module's docstring."""

    def __init__(self, tunables: HeuristicTunables | None = None) -> None:
        self._tunables = tunables or HeuristicTunables()

    @property
    def ref(self) -> ScorerRef:
        """The heuristic scorer, version 1."""
        return HEURISTIC

    def score(self, candidate: Candidate, now: datetime) -> Scored | Excluded:
        """The candidate's factors and proposed terms, or the rule that excludes it."""
        limits = self._tunables.limits
        excluded = compliance_exclusion(candidate) or trade_exclusion(candidate, now, limits)
        if excluded is not None:
            return excluded
        return Scored(HEURISTIC, self._factors(candidate), proposed_terms(candidate))

    def _factors(self, candidate: Candidate) -> tuple[Factor, ...]:
        tunables, weights = self._tunables, self._tunables.weights
        return (
            _grade(candidate, weights.grade, tunables.other_grade_share),
            _quality(candidate, weights.quality, tunables.quality_reach),
            _quantity(candidate, weights.quantity),
            _price(candidate, weights.price, tunables),
            _distance(candidate, weights.distance, tunables.limits.max_radius_km),
            _delivery_window(candidate, weights.delivery_window),
            _counterparty_risk(
                candidate, weights.counterparty_risk, tunables.unassessed_risk_share
            ),
            Factor("insiders", points_of(Decimal(0), Decimal(0)), Decimal(0), _NO_INSIDERS),
        )


def _grade(candidate: Candidate, weight: Decimal, other_grade_share: Decimal) -> Factor:
    asked = candidate.requirement.terms.grade
    offered = candidate.availability.terms.grade
    if offered == asked:
        return Factor("grade", points_of(Decimal(1), weight), weight, f"grade {offered}, as asked")
    points = points_of(other_grade_share, weight)
    return Factor("grade", points, weight, f"grade {offered} for {asked} asked")


def _quality(candidate: Candidate, weight: Decimal, reach: Decimal) -> Factor:
    asked = candidate.requirement.terms.quality
    if not asked:
        return Factor(
            "quality", points_of(Decimal(1), weight), weight, "no quality parameters asked"
        )
    closeness = [_parameter_closeness(candidate, name, reach) for name in asked]
    share = sum(closeness, Decimal(0)) / len(closeness)
    rationale = _quality_words(asked, candidate.availability.terms.quality)
    return Factor("quality", points_of(share, weight), weight, rationale)


def _parameter_closeness(candidate: Candidate, name: str, reach: Decimal) -> Decimal:
    asked = candidate.requirement.terms.quality[name]
    offered = candidate.availability.terms.quality.get(name)
    return _closeness(asked, offered, _reach(asked, candidate.quality_ranges.get(name), reach))


def _reach(asked: Decimal, catalog: QualityRange | None, reach: Decimal) -> Decimal:
    span = catalog.maximum - catalog.minimum if catalog is not None else abs(asked)
    return span * reach


def _closeness(asked: Decimal, offered: Decimal | None, reach: Decimal) -> Decimal:
    if offered is None:
        return Decimal(0)
    if reach <= 0:
        return Decimal(1) if offered == asked else Decimal(0)
    return max(Decimal(0), 1 - abs(offered - asked) / reach)


def _quality_words(asked: Mapping[str, Decimal], offered: Mapping[str, Decimal]) -> str:
    return ", ".join(
        f"{name} {offered[name]} for {value} asked"
        if name in offered
        else f"{name} not stated ({value} asked)"
        for name, value in sorted(asked.items())
    )


def _quantity(candidate: Candidate, weight: Decimal) -> Factor:
    quantity = proposed_quantity(candidate)
    asked = candidate.requirement.terms.quantity
    rationale = f"{quantity} of the {asked} {candidate.requirement.terms.base_unit} asked"
    return Factor("quantity", points_of(quantity / asked, weight), weight, rationale)


def _price(candidate: Candidate, weight: Decimal, tunables: HeuristicTunables) -> Factor:
    limit = candidate.requirement.terms.price
    asking = candidate.availability.terms.price
    if asking > limit:
        over = f"asking {asking} is over the limit {limit}"
        return Factor("price", points_of(Decimal(0), weight), weight, over)
    discount = (limit - asking) / limit if limit > 0 else Decimal(0)
    at_limit = tunables.price_share_at_limit
    deeper = min(Decimal(1), discount / tunables.full_price_discount)
    share = at_limit + (1 - at_limit) * deeper
    rationale = f"asking {asking}, {discount:.1%} under the limit {limit}"
    return Factor("price", points_of(share, weight), weight, rationale)


def _distance(candidate: Candidate, weight: Decimal, max_radius_km: Decimal) -> Factor:
    distance = delivery_distance_km(candidate)
    share = 1 - distance / max_radius_km if max_radius_km > 0 else Decimal(1)
    rationale = f"{distance} km from the delivery point (limit {max_radius_km} km)"
    return Factor("distance", points_of(share, weight), weight, rationale)


def _delivery_window(candidate: Candidate, weight: Decimal) -> Factor:
    asked = candidate.requirement.terms
    overlap = delivery_overlap(asked, candidate.availability.terms)
    shared = (overlap[1] - overlap[0]).days + 1 if overlap else 0
    wanted = (asked.delivery_to - asked.delivery_from).days + 1
    share = Decimal(shared) / wanted if wanted > 0 else Decimal(0)
    rationale = f"delivers on {shared} of the {wanted} days asked"
    return Factor("delivery_window", points_of(share, weight), weight, rationale)


def _counterparty_risk(candidate: Candidate, weight: Decimal, unassessed_share: Decimal) -> Factor:
    risk = candidate.seller.risk
    if risk is None:
        neutral = points_of(unassessed_share, weight)
        return Factor("counterparty_risk", neutral, weight, "not assessed yet")
    rationale = f"seller's risk score {risk.score}, {risk.decision}"
    share = Decimal(risk.score) / 100
    return Factor("counterparty_risk", points_of(share, weight), weight, rationale)
