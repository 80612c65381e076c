"""The one interface every scorer meets: features in, a score from 0 to 100 with its breakdown.

A scorer's breakdown is additive: `base` plus the points of every factor is the score (before
it is rounded to a whole number), so the rationale can say how much each factor gave or took.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mandi_risk.domain.features import FEATURES, Features

__all__ = ["ModelRef", "Scored", "Scorer"]


@dataclass(frozen=True, order=True)
class ModelRef:
    """Which model, in which version, produced a score."""

    name: str
    version: int


@dataclass(frozen=True)
class Scored:
    """A score from 0 to 100 and how it came about: a base and the points of each factor."""

    model: ModelRef
    base: float
    points: dict[str, float]  # by factor, in FEATURES order

    def __post_init__(self) -> None:
        if tuple(self.points) != FEATURES:
            raise ValueError(f"a breakdown names every factor, in order: {FEATURES}")

    @property
    def exact(self) -> float:
        """The base plus every factor's points."""
        return self.base + sum(self.points.values())

    @property
    def score(self) -> int:
        """The score, a whole number from 0 to 100."""
        return min(100, max(0, round(self.exact)))


class Scorer(Protocol):
    """A model that scores a proposed trade's features."""

    @property
    def model(self) -> ModelRef:
        """Its name and version."""

    def score(self, features: Features) -> Scored:
        """The score of these features, with its breakdown."""
