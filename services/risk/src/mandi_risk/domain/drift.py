"""Whether the trades a model scores now still look like the trades it was trained on.

The population stability index (PSI) compares, bin by bin, the share of recent values with the
share the training data had: PSI = sum over bins of (actual - expected) * ln(actual / expected).
Its usual reading: below 0.1 the distribution is stable, from 0.1 to 0.25 it has moved
moderately, above 0.25 it has shifted enough that the model's scores need a second look and,
likely, retraining. The bins are the training data's deciles, so each starts with about a tenth.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "DRIFT_THRESHOLD",
    "Baseline",
    "DriftReport",
    "baseline_of",
    "drift_of",
    "drifted",
    "stability_index",
]

DRIFT_THRESHOLD = 0.25
# A share no value fell in counts as this small one, so an empty bin adds a large, finite term.
_EMPTY_SHARE = 1e-4

DriftReport: TypeAlias = dict[str, float]
"""The stability index of each feature, and of the score, by name."""


@dataclass(frozen=True)
class Baseline:
    """How the training values spread: the bins' inner edges and each bin's share of the values.

    Bin i holds the values above edges[i - 1] and up to edges[i]; the first and last are open.
    """

    edges: tuple[float, ...]  # strictly rising
    shares: tuple[float, ...]  # one more than the edges, summing to 1

    def __post_init__(self) -> None:
        if len(self.shares) != len(self.edges) + 1:
            raise ValueError(
                f"a baseline has one share more than edges, not {len(self.shares)} shares "
                f"for {len(self.edges)} edges"
            )
        if not all(math.isfinite(number) for number in self.edges + self.shares):
            raise ValueError("a baseline's edges and shares must be finite numbers")
        if any(lower >= upper for lower, upper in itertools.pairwise(self.edges)):
            raise ValueError(f"a baseline's edges must rise strictly, not {self.edges}")
        if min(self.shares) < 0 or not math.isclose(sum(self.shares), 1.0, abs_tol=1e-9):
            raise ValueError(
                f"a baseline's shares must be non-negative and sum to 1: {self.shares}"
            )


def baseline_of(values: Sequence[float], bins: int = 10) -> Baseline:
    """The baseline of training values: their quantiles (deciles by default) as the bins' edges.

    Repeated values (a rating scale's grades, a ratio that is often exactly 1) make quantiles
    coincide; those edges merge, and each bin keeps the share the values really had in it.
    """
    if not values:
        raise ValueError("a baseline needs at least one value")
    ordered = sorted(values)
    count = len(ordered)
    # The smallest value with at least k/bins of the values at or below it: always a value.
    quantiles = {ordered[math.ceil(k * count / bins) - 1] for k in range(1, bins)}
    edges = tuple(sorted(quantile for quantile in quantiles if quantile < ordered[-1]))
    return Baseline(edges, _shares_in(edges, values))


def stability_index(baseline: Baseline, recent_values: Sequence[float]) -> float:
    """The population stability index of recent values against their training baseline."""
    if not recent_values:
        raise ValueError("the stability index needs at least one recent value")
    actual = _shares_in(baseline.edges, recent_values)
    return sum(map(_divergence, actual, baseline.shares))


def drift_of(
    artifact_baselines: Mapping[str, Baseline], recent: Sequence[Mapping[str, float | None]]
) -> DriftReport:
    """The stability index of every baselined name (each feature, the score) over recent rows.

    A value that is None or absent (no bureau score) is left out; a name without any recent
    value is left out of the report, as there is nothing to compare.
    """
    report: DriftReport = {}
    for name, baseline in artifact_baselines.items():
        values = [value for row in recent if (value := row.get(name)) is not None]
        if values:
            report[name] = stability_index(baseline, values)
    return report


def drifted(report: DriftReport, threshold: float = DRIFT_THRESHOLD) -> list[str]:
    """The names whose stability index is above the threshold, in the report's order."""
    return [name for name, index in report.items() if index > threshold]


def _shares_in(edges: tuple[float, ...], values: Sequence[float]) -> tuple[float, ...]:
    """The share of the values in each bin the edges make."""
    counts = [0] * (len(edges) + 1)
    for value in values:
        counts[bisect_left(edges, value)] += 1
    return tuple(count / len(values) for count in counts)


def _divergence(actual: float, expected: float) -> float:
    """One bin's term of the index."""
    actual, expected = max(actual, _EMPTY_SHARE), max(expected, _EMPTY_SHARE)
    return (actual - expected) * math.log(actual / expected)
