"""The model registry on the real PostgreSQL: a trained model registered, promoted and rolled
back changes which model decides, the kept decisions show it, and drift rises when inputs shift."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from prometheus_client import REGISTRY

from mandi_db import IdempotencyKey
from mandi_errors import Conflict
from mandi_risk.adapters.training import generate_history, train
from mandi_risk.domain.assessment import Proposal
from mandi_risk.domain.scoring import ModelRef
from mandi_risk.service_layer import assessments, models
from mandi_risk.service_layer.drift import MINIMUM_SAMPLE, drift_of_tenant
from mandi_rules import Money

pytestmark = pytest.mark.integration

LOGISTIC_V1 = ModelRef("logistic", 1)


async def registered(desk: Any, version: int = 1, seed: int = 7) -> ModelRef:
    trained = train(generate_history(2000, seed), name="logistic", version=version)
    view = await models.register(desk.deps, desk.tenant, trained, by="risk.officer")
    return ModelRef(view.name, view.version)


async def assess(desk: Any, buyer: Any, seller: Any, value: str) -> Any:
    made = Proposal(buyer, seller, "cotton", Money("INR", Decimal(value)))
    return (await assessments.assess(desk.deps, desk.officer, made)).value


async def test_promoting_and_rolling_back_change_which_model_decides(desk: Any) -> None:
    buyer = await desk.partner(limit=Decimal(10_000_000))
    seller = await desk.partner()
    first, second = await registered(desk, 1), await registered(desk, 2, seed=8)

    by_scorecard = await assess(desk, buyer, seller, "1000000.00")
    await models.promote(desk.deps, desk.officer, first)
    await models.promote(desk.deps, desk.officer, second)
    by_second = await assess(desk, buyer, seller, "1000000.00")
    assert (await models.roll_back(desk.deps, desk.officer)).value.version == first.version
    by_first = await assess(desk, buyer, seller, "1000000.00")
    await models.roll_back(desk.deps, desk.officer)
    by_scorecard_again = await assess(desk, buyer, seller, "1000000.00")

    decided = [
        (made.model_name, made.model_version)
        for made in (by_scorecard, by_second, by_first, by_scorecard_again)
    ]
    assert decided == [("scorecard", 1), ("logistic", 2), ("logistic", 1), ("scorecard", 1)]
    kept = await assessments.assessment(desk.deps, desk.officer, by_second.id)
    assert (kept.model_name, kept.model_version) == ("logistic", 2)
    assert sum(f.points for f in kept.factors) + kept.base == pytest.approx(kept.score, abs=0.5)
    with pytest.raises(Conflict):
        await models.roll_back(desk.deps, desk.officer)


async def test_a_rollback_sent_again_with_its_key_rolls_back_once(desk: Any) -> None:
    first, second = await registered(desk, 1), await registered(desk, 2, seed=8)
    await models.promote(desk.deps, desk.officer, first)
    await models.promote(desk.deps, desk.officer, second)
    key = IdempotencyKey.from_header("risk.officer", "roll-back-1", "fingerprint")

    done = await models.roll_back(desk.deps, desk.officer, key)
    again = await models.roll_back(desk.deps, desk.officer, key)

    assert (done.value.name, done.value.version) == ("logistic", 1)
    assert again.replayed
    assert again.value == done.value
    async with desk.deps.uow(desk.tenant) as uow:
        assert await models.active_model(uow.models) == first  # not rolled back to the scorecard


async def test_the_registry_lists_versions_with_digests_metrics_and_the_active_one(
    desk: Any, outbox_events: Any
) -> None:
    model = await registered(desk)
    await models.promote(desk.deps, desk.officer, model)

    [view] = await models.models(desk.deps, desk.officer)

    assert (view.name, view.version, view.active, view.activated_by) == (
        "logistic",
        1,
        True,
        "risk.officer",
    )
    assert len(view.artifact_digest) == len(view.training_digest) == 64
    assert view.metrics["roc_auc"] > 0.7
    events = await outbox_events(desk.tenant, "mandi.risk_model.")
    assert [(e["type"], e["previous_version"]) for e in events] == [
        ("mandi.risk_model.promoted.v1", None)
    ]


async def test_drift_rises_when_the_inputs_shift_and_is_announced_once(
    desk: Any, outbox_events: Any
) -> None:
    buyer = await desk.partner(limit=Decimal(10_000_000))
    seller = await desk.partner()
    await models.promote(desk.deps, desk.officer, await registered(desk))
    for step in range(MINIMUM_SAMPLE):  # trade values across the whole limit
        await assess(desk, buyer, seller, str(100_000 + step * 190_000))
    before = await drift_of_tenant(desk.deps, desk.tenant)

    for _ in range(3 * MINIMUM_SAMPLE):  # then only trades that nearly fill the limit
        await assess(desk, buyer, seller, "9900000.00")
    after = await drift_of_tenant(desk.deps, desk.tenant)
    await drift_of_tenant(desk.deps, desk.tenant)  # still shifted: not announced again

    assert before is not None
    assert after is not None
    assert after["credit_headroom"] > before["credit_headroom"]
    assert after["credit_headroom"] > desk.deps.drift_threshold
    labels = {"model": "logistic", "version": "1", "feature": "credit_headroom"}
    assert REGISTRY.get_sample_value("mandi_risk_model_drift", labels) == after["credit_headroom"]
    [announced] = await outbox_events(desk.tenant, "mandi.risk_model.drift")
    assert "credit_headroom" in announced["stability"]
