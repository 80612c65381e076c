"""The one interface every scorer of a candidate meets, so a learned scorer can replace the
heuristic one without its callers knowing.

A scorer either excludes a candidate (a rule says it must never be proposed) or scores it out of
100 with a breakdown: factors in a fixed order, each with its points, its maximum and a reason in
words. Points are kept to the hundredth, so the factors add up exactly to the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol

from mandi_matching.domain.offers import Candidate

__all__ = [
    "POINTS_STEP",
    "SCORE_MAXIMUM",
    "Excluded",
    "Factor",
    "ProposedTerms",
    "Scored",
    "Scorer",
    "ScorerRef",
    "points_of",
]

POINTS_STEP = Decimal("0.01")
SCORE_MAXIMUM = Decimal(100)


@dataclass(frozen=True, order=True)
class ScorerRef:
    """Which scorer, in which version, scored a candidate."""

    name: str
    version: int


@dataclass(frozen=True)
class Factor:
    """One factor of a score: its points out of its maximum, and why, in a few words."""

    name: str
    points: Decimal
    maximum: Decimal
    rationale: str

    def __post_init__(self) -> None:
        for figure in (self.points, self.maximum):
            if figure != figure.quantize(POINTS_STEP):
                raise ValueError(f"{self.name}: points are kept to the hundredth, not {figure}")
        if not Decimal(0) <= self.points <= self.maximum:
            raise ValueError(f"{self.name}: {self.points} points lie outside 0..{self.maximum}")


def points_of(share: Decimal, maximum: Decimal) -> Decimal:
    """`share` (held to 0..1) of `maximum`, to the hundredth.

    A maximum is kept to the hundredth, so rounding to the nearest never passes it.
    """
    bounded = min(Decimal(1), max(Decimal(0), share))
    return (maximum * bounded).quantize(POINTS_STEP, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class ProposedTerms:
    """The trade a scorer proposes: a quantity (base unit) at a price (per the price unit), and
    the value they come to, in the currency's minor units."""

    quantity: Decimal
    price: Decimal
    currency: str
    value: Decimal


@dataclass(frozen=True)
class Scored:
    """A candidate's score out of 100, the factors it is the exact sum of, and the terms."""

    scorer: ScorerRef
    factors: tuple[Factor, ...]
    terms: ProposedTerms

    def __post_init__(self) -> None:
        names = [factor.name for factor in self.factors]
        if len(set(names)) != len(names):
            raise ValueError(f"a breakdown names each factor once: {names}")
        if sum((factor.maximum for factor in self.factors), Decimal(0)) > SCORE_MAXIMUM:
            raise ValueError("a breakdown's maxima add up to 100 at most")

    @property
    def score(self) -> Decimal:
        """The sum of the factors' points: 0.00 to 100.00."""
        return sum((factor.points for factor in self.factors), Decimal(0)).quantize(POINTS_STEP)


@dataclass(frozen=True)
class Excluded:
    """A candidate that must never be proposed: the rule that says so and why, in words."""

    reason: str
    rule: str


class Scorer(Protocol):
    """Scores a candidate, or excludes it."""

    @property
    def ref(self) -> ScorerRef:
        """Its name and version."""

    def score(self, candidate: Candidate, now: datetime) -> Scored | Excluded:
        """The candidate's score with its breakdown, or why it must never be proposed."""
