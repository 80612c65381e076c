"""Drift: are the trades the active model scores still like those it learned from?

The leader, every so often, compares each tenant's recent assessments by the active trained
model with the model's training baselines: the population stability index of each factor and of
the score. Each index is exported as `mandi_risk_model_drift{model,version,feature}`; when any
crosses the threshold, `mandi.risk_model.drift_detected` is published, once per crossing (again
only after the inputs came back under it). The scorecard learned nothing, so it has no drift.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from prometheus_client import Gauge

from mandi_contracts import RiskModelDriftDetected
from mandi_risk.domain.drift import DriftReport, drift_of, drifted
from mandi_risk.domain.scoring import ModelRef
from mandi_risk.domain.trained_model import ModelArtifact
from mandi_risk.service_layer.dependencies import RiskDependencies
from mandi_risk.service_layer.models import active_model
from mandi_risk.service_layer.unit_of_work import RiskUnitOfWork

__all__ = ["DRIFT", "MINIMUM_SAMPLE", "check_drift", "drift_of_tenant"]

_log = logging.getLogger(__name__)
DRIFT = Gauge(
    "mandi_risk_model_drift",
    "Population stability index of the active model's recent inputs and scores against its "
    "training baseline (above 0.25: shifted).",
    ["model", "version", "feature"],
)
MINIMUM_SAMPLE = 50  # fewer recent assessments say too little to call a shift
_SAMPLE_LIMIT = 5000
# The (tenant, model) pairs whose drift was announced and has not come back under the threshold.
_announced: set[tuple[UUID, ModelRef]] = set()


async def check_drift(deps: RiskDependencies) -> int:
    """Measures drift for every tenant the service holds data of (run by the leader); for how
    many tenants it could."""
    async with deps.directory() as directory:
        tenant_ids = await directory.tenants.all()
    measured = [await drift_of_tenant(deps, tenant_id) for tenant_id in tenant_ids]
    return sum(report is not None for report in measured)


async def drift_of_tenant(deps: RiskDependencies, tenant_id: UUID) -> DriftReport | None:
    """Measures, exports and, on crossing the threshold, announces the tenant's drift; None
    while the scorecard decides or too few assessments were made lately."""
    async with deps.uow(tenant_id) as uow:
        model = await active_model(uow.models)
        if model is None:
            return None
        report = await _measured(deps, uow, model)
        if report is None:
            return None
        for feature, index in report.items():
            DRIFT.labels(model.name, str(model.version), feature).set(index)
        await _announce_crossing(deps, uow, model, report)
        await uow.commit()
    return report


async def _measured(
    deps: RiskDependencies, uow: RiskUnitOfWork, model: ModelRef
) -> DriftReport | None:
    registered = await uow.models.get(model)
    if registered is None:
        return None
    since = deps.clock.now() - timedelta(hours=deps.drift_window_hours)
    recent = await uow.assessments.recent(model, since, _SAMPLE_LIMIT)
    if len(recent) < MINIMUM_SAMPLE:
        return None
    baselines = ModelArtifact.from_json(registered.artifact).baselines
    rows = [{**made.features.as_dict(), "score": made.scored.exact} for made in recent]
    return drift_of(baselines, rows)


async def _announce_crossing(
    deps: RiskDependencies, uow: RiskUnitOfWork, model: ModelRef, report: DriftReport
) -> None:
    shifted = drifted(report, deps.drift_threshold)
    key = (uow.tenant_id, model)
    if not shifted:
        _announced.discard(key)
        return
    if key in _announced:
        return
    _log.warning("%s v%d drifted: %s", model.name, model.version, ", ".join(shifted))
    await uow.publish(
        RiskModelDriftDetected(
            tenant_id=uow.tenant_id,
            model_name=model.name,
            model_version=model.version,
            stability=report,
            threshold=deps.drift_threshold,
        ),
        subject=model.name,
    )
    _announced.add(key)
