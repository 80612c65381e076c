"""The trained model: its breakdown adds up, its artifact round-trips, its training is sound."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from mandi_risk.adapters.training import generate_history, train
from mandi_risk.domain.drift import baseline_of
from mandi_risk.domain.features import BOUNDS, FEATURES, Features
from mandi_risk.domain.scoring import ModelRef
from mandi_risk.domain.trained_model import (
    BASELINED,
    LogisticScorer,
    LogisticWeights,
    ModelArtifact,
)
from mandi_risk.service_layer.models import TrainedModel

MODEL = ModelRef("logistic", 1)
WEIGHTS = LogisticWeights(
    {
        "credit_headroom": 2.0,
        "rating": 1.5,
        "on_time_ratio": 3.0,
        "days_late": -2.5,
        "concentration": -1.0,
        "bureau": 2.0,
    },
    intercept=-2.5,
    bureau_imputed=0.55,
)
AVERAGE = Features(0.2, 0.5, 0.8, 0.1, 0.3, 0.55)

_factors = st.builds(
    Features,
    **{name: st.floats(*BOUNDS[name]) for name in FEATURES if name != "bureau"},
    bureau=st.none() | st.floats(*BOUNDS["bureau"]),
)
_weights = st.builds(
    LogisticWeights,
    st.lists(st.floats(-10, 10), min_size=len(FEATURES), max_size=len(FEATURES))
    .filter(lambda weights: max(map(abs, weights)) > 0.1)
    .map(lambda weights: dict(zip(FEATURES, weights, strict=True))),
    intercept=st.floats(-10, 10),
    bureau_imputed=st.floats(*BOUNDS["bureau"]),
)


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    """A model trained on a generated history of 8,000 trades."""
    return train(generate_history(8000, seed=1), name="logistic", version=1)


def _rescaled_logit(weights: LogisticWeights, features: Features) -> float:
    """The score by the definition: the logit placed between its extremes, times 100."""
    values = {name: getattr(features, name) for name in FEATURES}
    values["bureau"] = weights.bureau_imputed if features.bureau is None else features.bureau
    logit = weights.intercept + sum(w * values[name] for name, w in weights.coefficients.items())
    ends = {name: [w * bound for bound in BOUNDS[name]] for name, w in weights.coefficients.items()}
    lowest = weights.intercept + sum(min(pair) for pair in ends.values())
    highest = weights.intercept + sum(max(pair) for pair in ends.values())
    return 100 * (logit - lowest) / (highest - lowest)


@settings(max_examples=300)
@given(weights=_weights, features=_factors)
def test_the_base_and_points_add_up_to_the_rescaled_logit_within_0_to_100(
    weights: LogisticWeights, features: Features
) -> None:
    scored = LogisticScorer(MODEL, weights).score(features)
    assert math.isclose(scored.exact, _rescaled_logit(weights, features), abs_tol=1e-9)
    assert -1e-9 <= scored.exact <= 100 + 1e-9
    assert scored.model == MODEL


def test_the_best_trade_scores_100_and_the_worst_0() -> None:
    scorer = LogisticScorer(MODEL, WEIGHTS)
    best = Features(1, 1, 1, 0, 0, 1)
    worst = Features(-1, 0, 0, 1, 1, 0)
    assert scorer.score(best).exact == pytest.approx(100)
    assert scorer.score(worst).exact == pytest.approx(0, abs=1e-9)
    assert scorer.probability_paid_on_time(best) > scorer.probability_paid_on_time(worst)


def test_a_better_factor_raises_the_score_by_its_points_alone() -> None:
    scorer = LogisticScorer(MODEL, WEIGHTS)
    before = scorer.score(AVERAGE)
    better_rating = scorer.score(replace(AVERAGE, rating=0.9))
    later_payer = scorer.score(replace(AVERAGE, days_late=0.5))
    assert better_rating.exact > before.exact
    assert better_rating.exact - before.exact == pytest.approx(
        better_rating.points["rating"] - before.points["rating"]
    )
    assert later_payer.exact < before.exact
    assert later_payer.base == before.base


def test_an_unknown_bureau_score_counts_as_the_training_mean() -> None:
    scorer = LogisticScorer(MODEL, WEIGHTS)
    unknown = replace(AVERAGE, bureau=None)
    at_mean = replace(AVERAGE, bureau=WEIGHTS.bureau_imputed)
    assert scorer.score(unknown) == scorer.score(at_mean)
    assert scorer.probability_paid_on_time(unknown) == scorer.probability_paid_on_time(at_mean)
    assert scorer.score(replace(AVERAGE, bureau=0.9)).exact > scorer.score(unknown).exact


def test_all_zero_coefficients_are_refused() -> None:
    with pytest.raises(ValueError, match="too small to tell one trade from another"):
        LogisticWeights(dict.fromkeys(FEATURES, 0.0), intercept=1.0, bureau_imputed=0.5)


def test_the_json_round_trip_is_exact_and_the_digest_stable(trained: TrainedModel) -> None:
    document = trained.artifact.to_json()
    again = ModelArtifact.from_json(document)
    assert again == trained.artifact
    assert again.to_json() == document
    assert again.digest() == trained.artifact.digest()
    assert len(trained.artifact.digest()) == 64
    assert b" " not in document
    assert list(json.loads(document)) == sorted(json.loads(document))


def _spoiled(artifact: ModelArtifact, spoil: str) -> bytes:
    """The artifact's JSON with one thing wrong with it."""
    document = json.loads(artifact.to_json())
    if spoil == "missing feature":
        del document["coefficients"]["days_late"]
    elif spoil == "unknown feature":
        document["coefficients"]["shoe_size"] = 1.0
    elif spoil == "NaN":
        document["intercept"] = math.nan
    elif spoil == "falling edges":
        document["baselines"]["rating"]["edges"].reverse()
    elif spoil == "text for a number":
        document["metrics"]["roc_auc"] = "0.9"
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("spoil", "complaint"),
    [
        ("missing feature", "coefficients lacks days_late"),
        ("unknown feature", "coefficients has unknown shoe_size"),
        ("NaN", "intercept must be a finite number"),
        ("falling edges", "baselines.rating: a baseline's edges must rise strictly"),
        ("text for a number", "metrics.roc_auc must be a number"),
    ],
)
def test_from_json_refuses_a_malformed_artifact_saying_what_is_wrong(
    trained: TrainedModel, spoil: str, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        ModelArtifact.from_json(_spoiled(trained.artifact, spoil))


@pytest.mark.parametrize("garbage", [b"", b"[1, 2]", b"\xff\xfe", b'{"intercept": 1}'])
def test_from_json_refuses_what_is_no_artifact_at_all(garbage: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message differs with each kind of garbage
        ModelArtifact.from_json(garbage)


def test_training_is_reproducible_for_one_seed(trained: TrainedModel) -> None:
    again = train(generate_history(8000, seed=1), name="logistic", version=1)
    other = train(generate_history(8000, seed=2), name="logistic", version=1)
    assert again.artifact.digest() == trained.artifact.digest()
    assert again.training_digest == trained.training_digest
    assert other.artifact.digest() != trained.artifact.digest()
    assert other.training_digest != trained.training_digest


def test_the_trained_model_ranks_trades_it_never_saw(trained: TrainedModel) -> None:
    unseen = generate_history(4000, seed=3)
    scorer = LogisticScorer(trained.model, trained.artifact.weights)
    scores = [scorer.score(row).exact for row in unseen.rows]
    assert roc_auc_score(unseen.paid_on_time, scores) > 0.7
    assert trained.artifact.metrics["roc_auc"] > 0.7
    assert 0 < trained.artifact.metrics["brier"] < 0.25


def test_the_trained_model_learns_the_direction_of_every_factor(trained: TrainedModel) -> None:
    signs = {name: math.copysign(1, w) for name, w in trained.artifact.weights.coefficients.items()}
    assert signs == {
        "credit_headroom": 1,
        "rating": 1,
        "on_time_ratio": 1,
        "days_late": -1,
        "concentration": -1,
        "bureau": 1,
    }


def test_the_scorers_probability_is_scikit_learns(trained: TrainedModel) -> None:
    weights = trained.artifact.weights
    rows = generate_history(20, seed=4).rows
    regression = LogisticRegression()
    regression.classes_ = np.array([False, True])
    regression.coef_ = np.array([list(weights.coefficients.values())])
    regression.intercept_ = np.array([weights.intercept])
    matrix = [
        [weights.bureau_imputed if v is None else v for v in row.as_dict().values()] for row in rows
    ]
    expected = regression.predict_proba(np.array(matrix))[:, 1]
    scorer = LogisticScorer(trained.model, weights)
    assert any(row.bureau is None for row in rows)
    for row, probability in zip(rows, expected, strict=True):
        assert scorer.probability_paid_on_time(row) == pytest.approx(probability, abs=1e-9)


def test_the_baselines_are_those_of_the_training_factors_and_scores(trained: TrainedModel) -> None:
    history = generate_history(8000, seed=1)
    fitted = history.rows[:6000]
    scorer = LogisticScorer(trained.model, trained.artifact.weights)
    assert tuple(trained.artifact.baselines) == BASELINED
    assert trained.artifact.baselines["rating"] == baseline_of([row.rating for row in fitted])
    assert trained.artifact.baselines["score"] == baseline_of(
        [scorer.score(row).exact for row in fitted]
    )
