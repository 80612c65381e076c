"""The trained model as a scorer: a logistic regression's logit, rescaled onto 0 to 100.

The logit, intercept + sum(w_i * x_i), is linear in the factors, so it splits into the intercept
and one term per factor. Each factor's range (features.BOUNDS) bounds the logit between L_min and
L_max; mapping that interval linearly onto 0..100 keeps the split. The base is
100 * (intercept - L_min) / (L_max - L_min), a factor's points are
100 * w_i * x_i / (L_max - L_min), and the score of any trade lies within 0..100. Scoring is
plain arithmetic on six numbers, cheap enough for every assessment; only training
(adapters/training.py) needs scikit-learn.

The artifact is JSON of numbers, never a pickle: unpickling runs whatever code the file names.
Reading a malformed artifact raises ValueError, whatever is wrong, as json's own errors do
(hence the `noqa: TRY004` below), so its reader handles one exception.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from mandi_risk.domain.drift import Baseline
from mandi_risk.domain.features import BOUNDS, FEATURES, Features
from mandi_risk.domain.scoring import ModelRef, Scored

__all__ = ["BASELINED", "LogisticScorer", "LogisticWeights", "ModelArtifact"]

BASELINED = (*FEATURES, "score")
_ARTIFACT_FIELDS = ("baselines", "bureau_imputed", "coefficients", "intercept", "metrics")


@dataclass(frozen=True)
class LogisticWeights:
    """What a logistic regression learned: a coefficient per factor and an intercept.

    An unknown bureau score counts as `bureau_imputed`, the training data's mean, as in training.
    """

    coefficients: dict[str, float]  # by factor, in FEATURES order
    intercept: float
    bureau_imputed: float

    def __post_init__(self) -> None:
        if tuple(self.coefficients) != FEATURES:
            raise ValueError(
                f"the coefficients name every factor, in order {FEATURES}, "
                f"not {tuple(self.coefficients)}"
            )
        _require_finite(
            {"intercept": self.intercept, "bureau_imputed": self.bureau_imputed}
            | {f"coefficients.{name}": weight for name, weight in self.coefficients.items()}
        )
        low, high = BOUNDS["bureau"]
        if not low <= self.bureau_imputed <= high:
            raise ValueError(f"bureau_imputed must lie in {low}..{high}, not {self.bureau_imputed}")
        lowest, highest = _logit_range(self)
        if not lowest < highest:
            raise ValueError("the coefficients are too small to tell one trade from another")


@dataclass(frozen=True)
class ModelArtifact:
    """What the registry stores of a trained model: its weights, training baselines and metrics.

    The baselines (one per factor, then one of the exact score, `Scored.exact`) are what drift is
    measured against; the metrics were measured on trades held out of training.
    """

    weights: LogisticWeights
    baselines: dict[str, Baseline]  # in BASELINED order
    metrics: dict[str, float]

    def __post_init__(self) -> None:
        if tuple(self.baselines) != BASELINED:
            raise ValueError(
                f"the baselines name every factor and the score, in order {BASELINED}, "
                f"not {tuple(self.baselines)}"
            )
        _require_finite({f"metrics.{name}": value for name, value in self.metrics.items()})

    def to_json(self) -> bytes:
        """The artifact as canonical JSON (sorted keys, no spaces): equal artifacts, equal bytes."""
        document = {
            "baselines": {
                name: {"edges": list(baseline.edges), "shares": list(baseline.shares)}
                for name, baseline in self.baselines.items()
            },
            "bureau_imputed": self.weights.bureau_imputed,
            "coefficients": self.weights.coefficients,
            "intercept": self.weights.intercept,
            "metrics": self.metrics,
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()

    @classmethod
    def from_json(cls, document: bytes) -> ModelArtifact:
        """The artifact these bytes hold; ValueError, saying what is wrong, if they hold none."""
        fields = _json_object(json.loads(document), "the artifact", _ARTIFACT_FIELDS)
        coefficients = _json_object(fields["coefficients"], "coefficients", FEATURES)
        baselines = _json_object(fields["baselines"], "baselines", BASELINED)
        weights = LogisticWeights(
            {name: _number(value, f"coefficients.{name}") for name, value in coefficients.items()},
            intercept=_number(fields["intercept"], "intercept"),
            bureau_imputed=_number(fields["bureau_imputed"], "bureau_imputed"),
        )
        return cls(
            weights,
            {name: _baseline(value, f"baselines.{name}") for name, value in baselines.items()},
            {
                name: _number(value, f"metrics.{name}")
                for name, value in _json_object(fields["metrics"], "metrics").items()
            },
        )

    def digest(self) -> str:
        """The SHA-256 of the canonical JSON, in hex: names these exact weights in the registry."""
        return hashlib.sha256(self.to_json()).hexdigest()


class LogisticScorer:
    """The trained model as a `Scorer`; the module's docstring says how the logit becomes 0..100."""

    def __init__(self, model: ModelRef, weights: LogisticWeights) -> None:
        self._model = model
        self._weights = weights
        lowest, highest = _logit_range(weights)
        self._scale = 100.0 / (highest - lowest)
        self._base = self._scale * (weights.intercept - lowest)

    @property
    def model(self) -> ModelRef:
        """Its name and version."""
        return self._model

    def score(self, features: Features) -> Scored:
        """The score of these features: a base, plus each factor's part of the rescaled logit."""
        terms = self._terms(features)
        points = {name: self._scale * term for name, term in terms.items()}
        return Scored(self._model, self._base, points)

    def probability_paid_on_time(self, features: Features) -> float:
        """The model's probability that the trade is paid on time: the logistic of the logit."""
        logit = self._weights.intercept + sum(self._terms(features).values())
        if logit >= 0:
            return 1.0 / (1.0 + math.exp(-logit))
        odds = math.exp(logit)  # not exp(-logit), which overflows for a very negative logit
        return odds / (1.0 + odds)

    def _terms(self, features: Features) -> dict[str, float]:
        """Each factor's coefficient times its value, in FEATURES order."""
        return {
            name: weight * self._value(features, name)
            for name, weight in self._weights.coefficients.items()
        }

    def _value(self, features: Features, name: str) -> float:
        """A factor's value; only the bureau score can be unknown, and counts as the mean."""
        value: float | None = getattr(features, name)
        return self._weights.bureau_imputed if value is None else value


def _logit_range(weights: LogisticWeights) -> tuple[float, float]:
    """The lowest and highest logit the weights give to factors within their BOUNDS."""
    lowest = highest = weights.intercept
    for name, weight in weights.coefficients.items():
        low, high = BOUNDS[name]
        lowest += min(weight * low, weight * high)
        highest += max(weight * low, weight * high)
    return lowest, highest


def _require_finite(numbers: Mapping[str, float]) -> None:
    """Refuse NaN and infinities, naming the first such number."""
    for name, number in numbers.items():
        if not math.isfinite(number):
            raise ValueError(f"{name} must be a finite number, not {number}")


def _json_object(
    value: object, what: str, names: Collection[str] | None = None
) -> dict[str, object]:
    """A JSON object, with exactly these names (in this order) when names are given."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object, not {value!r}")  # noqa: TRY004
    if names is None:
        return value
    if missing := [name for name in names if name not in value]:
        raise ValueError(f"{what} lacks {', '.join(missing)}")
    if unknown := sorted(set(value) - set(names)):
        raise ValueError(f"{what} has unknown {', '.join(unknown)}")
    return {name: value[name] for name in names}


def _number(value: object, what: str) -> float:
    """A JSON number as a float (finiteness is the dataclasses' to check)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number, not {value!r}")  # noqa: TRY004
    return float(value)


def _numbers(value: object, what: str) -> tuple[float, ...]:
    """A JSON array of numbers."""
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a JSON array, not {value!r}")  # noqa: TRY004
    return tuple(_number(item, f"{what}[{index}]") for index, item in enumerate(value))


def _baseline(value: object, what: str) -> Baseline:
    """A baseline from its JSON object, its errors prefixed with which baseline it is."""
    fields = _json_object(value, what, ("edges", "shares"))
    edges = _numbers(fields["edges"], f"{what}.edges")
    shares = _numbers(fields["shares"], f"{what}.shares")
    try:
        return Baseline(edges, shares)
    except ValueError as error:
        raise ValueError(f"{what}: {error}") from error
