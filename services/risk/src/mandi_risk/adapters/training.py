"""Training the logistic scorer: a generated, labelled history of trades, and a fit on it.

The only module that needs numpy and scikit-learn. What leaves it is a `ModelArtifact`: the
fitted coefficients as plain numbers, never the scikit-learn object.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# scikit-learn ships no type hints.
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import (  # type: ignore[import-untyped]
    accuracy_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)

from mandi_risk.domain.drift import Baseline, baseline_of
from mandi_risk.domain.features import FEATURES, Features
from mandi_risk.domain.scoring import ModelRef
from mandi_risk.domain.trained_model import LogisticScorer, LogisticWeights, ModelArtifact
from mandi_risk.service_layer.models import TrainedModel

__all__ = ["TrainingSet", "generate_history", "train"]

# The process generate_history draws labels from, which a fitted model should learn back.
_TRUE_INTERCEPT = -2.5
_TRUE_COEFFICIENTS = {
    "credit_headroom": 2.0,
    "rating": 1.5,
    "on_time_ratio": 3.0,
    "days_late": -2.5,
    "concentration": -1.0,
    "bureau": 2.0,
}
_UNKNOWN_TO_BUREAU = 0.15  # the share of trades whose partner the bureau does not report on
_HELD_OUT = 0.25  # the newest share of a history, kept out of fitting to measure the model
_LIKELY = 0.5  # accuracy counts a trade as predicted paid when the model finds that likelier


@dataclass(frozen=True)
class TrainingSet:
    """Past trades' factors, and whether each was paid on time, oldest first."""

    rows: tuple[Features, ...]
    paid_on_time: tuple[bool, ...]

    def __post_init__(self) -> None:
        if len(self.rows) != len(self.paid_on_time):
            raise ValueError(
                f"every trade has one label: {len(self.rows)} trades, "
                f"{len(self.paid_on_time)} labels"
            )

    def digest(self) -> str:
        """The SHA-256 of the set as canonical JSON, in hex: names the data a model learned from."""
        document = {
            "features": FEATURES,
            "rows": [
                [*row.as_dict().values(), paid]
                for row, paid in zip(self.rows, self.paid_on_time, strict=True)
            ],
        }
        canonical = json.dumps(document, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def generate_history(count: int, seed: int) -> TrainingSet:
    """A labelled history of `count` past trades, the same for the same seed.

    Each trade's partner has a hidden creditworthiness q ~ N(0, 1), which its factors reflect:
    its rating is one of ten grades (0, 1/9, ..., 1) around 0.5 + 0.22 q; its bureau score is
    0.55 + 0.15 q with noise, unreported for 15% of trades; its on-time ratio is
    logistic(1.5 + q + noise); its average lateness is exponential with a mean of 9 * exp(-0.6 q)
    days; the trade's credit headroom is 0.2 + 0.25 q with noise, and the seller's concentration
    is Beta(2, 5), whatever q. The trade was paid on time with probability logistic(z), where
    z = -2.5 + 2 headroom + 1.5 rating + 3 on_time - 2.5 days_late - 1 concentration + 2 bureau
    + N(0, 0.5), the true bureau score counting even where it is unreported. A model fitted on
    the history learns these coefficients back, shrunk a little by the noise in z.
    """
    rng = np.random.default_rng(seed)
    quality = rng.normal(size=count)
    factors = {
        "credit_headroom": np.clip(0.2 + 0.25 * quality + rng.normal(0, 0.3, count), -1, 1),
        "rating": np.clip(np.round(4.5 + 2 * quality + rng.normal(0, 1, count)), 0, 9) / 9,
        "on_time_ratio": _logistic(1.5 + quality + rng.normal(0, 0.5, count)),
        "days_late": np.minimum(rng.exponential(9 * np.exp(-0.6 * quality)) / 90, 1),
        "concentration": rng.beta(2, 5, count),
        "bureau": np.clip(0.55 + 0.15 * quality + rng.normal(0, 0.08, count), 0, 1),
    }
    logit = _TRUE_INTERCEPT + rng.normal(0, 0.5, count)
    for name, weight in _TRUE_COEFFICIENTS.items():
        logit += weight * factors[name]
    paid = rng.random(count) < _logistic(logit)
    reported = rng.random(count) >= _UNKNOWN_TO_BUREAU
    columns = [factors[name].tolist() for name in FEATURES]
    rows = tuple(
        Features(headroom, rating, on_time, late, concentration, bureau if known else None)
        for headroom, rating, on_time, late, concentration, bureau, known in zip(
            *columns, reported.tolist(), strict=True
        )
    )
    return TrainingSet(rows, tuple(paid.tolist()))


def train(history: TrainingSet, *, name: str, version: int) -> TrainedModel:
    """Fit a logistic regression on the older trades of the history, measured on the newest.

    The newest quarter is held out, as the model will score trades newer than any it learned
    from. An unknown bureau score is imputed with the mean of the known ones it learned from.
    """
    cut = round(len(history.rows) * (1 - _HELD_OUT))
    fitted_rows, held_out_rows = history.rows[:cut], history.rows[cut:]
    bureau_mean = float(np.mean([row.bureau for row in fitted_rows if row.bureau is not None]))
    regression = LogisticRegression(max_iter=1000).fit(
        _matrix(fitted_rows, bureau_mean), np.array(history.paid_on_time[:cut])
    )
    weights = LogisticWeights(
        dict(zip(FEATURES, map(float, regression.coef_[0]), strict=True)),
        intercept=float(regression.intercept_[0]),
        bureau_imputed=bureau_mean,
    )
    model = ModelRef(name, version)
    probability = regression.predict_proba(_matrix(held_out_rows, bureau_mean))[:, 1]
    artifact = ModelArtifact(
        weights,
        _baselines(LogisticScorer(model, weights), fitted_rows),
        _metrics(np.array(history.paid_on_time[cut:]), probability),
    )
    return TrainedModel(model, artifact, history.digest())


def _matrix(rows: tuple[Features, ...], bureau_mean: float) -> NDArray[np.float64]:
    """The rows as a matrix, one column per factor in FEATURES order, bureau imputed."""
    return np.array(
        [
            [bureau_mean if value is None else value for value in row.as_dict().values()]
            for row in rows
        ]
    )


def _baselines(scorer: LogisticScorer, rows: tuple[Features, ...]) -> dict[str, Baseline]:
    """The training distribution of each factor (known values only) and of the exact score."""
    by_factor = {
        name: baseline_of([value for row in rows if (value := getattr(row, name)) is not None])
        for name in FEATURES
    }
    return by_factor | {"score": baseline_of([scorer.score(row).exact for row in rows])}


def _metrics(paid: NDArray[np.bool_], probability: NDArray[np.float64]) -> dict[str, float]:
    """How well the probabilities predict who paid on time, on trades the model did not see."""
    return {
        "roc_auc": float(roc_auc_score(paid, probability)),
        "accuracy": float(accuracy_score(paid, probability > _LIKELY)),
        "log_loss": float(log_loss(paid, probability)),
        "brier": float(brier_score_loss(paid, probability)),
    }


def _logistic(logit: NDArray[np.float64]) -> NDArray[np.float64]:
    """The logistic function, elementwise."""
    return 1 / (1 + np.exp(-logit))
