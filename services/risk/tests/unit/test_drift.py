"""Drift: the population stability index of recent inputs against the training baseline."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from mandi_risk.domain.drift import (
    DRIFT_THRESHOLD,
    Baseline,
    baseline_of,
    drift_of,
    drifted,
    stability_index,
)


def _headroom(rng: random.Random, count: int, shift: float = 0.0) -> list[float]:
    """Credit headroom as trades usually have it, moved by `shift`, within -1..1."""
    return [min(1.0, max(-1.0, rng.gauss(0.2, 0.3) + shift)) for _ in range(count)]


def _ratings(rng: random.Random, count: int) -> list[float]:
    """Ratings on a ten-grade scale, so many trades share each value."""
    return [rng.randint(0, 9) / 9 for _ in range(count)]


def test_deciles_make_ten_bins_of_a_tenth_each() -> None:
    baseline = baseline_of([i / 100 for i in range(100)])
    assert baseline.edges == tuple(i / 100 for i in range(9, 90, 10))
    assert baseline.shares == pytest.approx([0.1] * 10)


def test_repeated_values_merge_edges_and_keep_the_shares_they_had() -> None:
    ratios = [1.0] * 70 + [i / 30 for i in range(30)]
    baseline = baseline_of(ratios)
    assert all(lower < upper for lower, upper in itertools.pairwise(baseline.edges))
    assert baseline.shares[-1] == pytest.approx(0.7)
    assert stability_index(baseline, ratios) == 0


def test_a_sample_from_the_training_distribution_is_stable() -> None:
    baseline = baseline_of(_headroom(random.Random(1), 20_000))
    assert stability_index(baseline, _headroom(random.Random(2), 5_000)) < 0.02


def test_headroom_moved_down_by_half_crosses_the_threshold() -> None:
    baseline = baseline_of(_headroom(random.Random(1), 20_000))
    shifted = _headroom(random.Random(2), 5_000, shift=-0.5)
    assert stability_index(baseline, shifted) > DRIFT_THRESHOLD


def test_empty_bins_give_a_finite_index() -> None:
    never_above_half = Baseline(edges=(0.5,), shares=(1.0, 0.0))
    all_above_half = stability_index(never_above_half, [0.9] * 10)
    assert math.isfinite(all_above_half)
    assert all_above_half > DRIFT_THRESHOLD
    assert stability_index(never_above_half, [0.1] * 10) == 0


def test_drifted_names_the_shifted_features_only() -> None:
    rng = random.Random(1)
    baselines = {
        "credit_headroom": baseline_of(_headroom(rng, 20_000)),
        "rating": baseline_of(_ratings(rng, 20_000)),
        "bureau": baseline_of([rng.uniform(0.3, 0.8) for _ in range(20_000)]),
    }
    # Headroom moves down; the few bureau scores reported are all 0.5; ratings stay as they were.
    recent = [
        {"credit_headroom": headroom, "rating": rating, "bureau": None if i % 3 else 0.5}
        for i, (headroom, rating) in enumerate(
            zip(_headroom(rng, 3_000, shift=-0.5), _ratings(rng, 3_000), strict=True)
        )
    ]
    report = drift_of(baselines, recent)
    assert set(report) == set(baselines)
    assert report["rating"] < 0.1
    assert drifted(report) == ["credit_headroom", "bureau"]
    assert drifted(report, threshold=100) == []


def test_a_name_without_recent_values_is_left_out_of_the_report() -> None:
    baselines = {"bureau": baseline_of([0.2, 0.4, 0.6]), "rating": baseline_of([0.5, 1.0])}
    report = drift_of(baselines, [{"bureau": None, "rating": 0.5}, {"rating": 1.0}])
    assert list(report) == ["rating"]


@pytest.mark.parametrize(
    ("edges", "shares", "complaint"),
    [
        ((0.5, 0.2), (0.2, 0.3, 0.5), "edges must rise strictly"),
        ((0.5, 0.5), (0.2, 0.3, 0.5), "edges must rise strictly"),
        ((0.5,), (1.0,), "one share more than edges"),
        ((0.5,), (0.6, 0.6), "sum to 1"),
        ((math.nan,), (0.5, 0.5), "finite"),
    ],
)
def test_a_malformed_baseline_is_refused(
    edges: tuple[float, ...], shares: tuple[float, ...], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        Baseline(edges, shares)


def test_nothing_recent_has_no_index() -> None:
    with pytest.raises(ValueError, match="at least one recent value"):
        stability_index(baseline_of([0.1, 0.2]), [])
