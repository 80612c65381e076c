"""The risk service's adapters and use cases, built from what the runtime made."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from uuid import UUID

from mandi_risk.adapters.bureau import BureauClient, CreditBureau
from mandi_risk.adapters.unit_of_work import (
    SqlRiskDirectory,
    SqlRiskLookups,
    SqlRiskUnitOfWork,
)
from mandi_risk.config import Settings
from mandi_risk.service_layer.dependencies import RiskDependencies
from mandi_risk.service_layer.drift import check_drift
from mandi_runtime import PeriodicJob, Resources, SystemClock, Wiring

__all__ = ["build"]


def build(resources: Resources[Settings]) -> Wiring[RiskDependencies]:
    """Builds every adapter; nothing connects until it is used."""
    settings = resources.settings
    retention = timedelta(hours=settings.idempotency_retention_hours)

    def uow(tenant_id: UUID) -> SqlRiskUnitOfWork:
        return SqlRiskUnitOfWork(
            resources.sessions, tenant_id=tenant_id, idempotency_retention=retention
        )

    def read_uow(tenant_id: UUID) -> SqlRiskUnitOfWork:
        return SqlRiskUnitOfWork(
            resources.reads, tenant_id=tenant_id, idempotency_retention=retention
        )

    token = settings.bureau_token.get_secret_value() if settings.bureau_token else None
    bureau = CreditBureau(
        BureauClient(settings.bureau_url, token=token),
        timeout_seconds=settings.bureau_timeout_seconds,
        attempts=settings.bureau_attempts,
        breaker_fail_max=settings.bureau_failures_to_open,
        breaker_reset_seconds=settings.bureau_reset_seconds,
    )
    resources.close_at_the_end(bureau.aclose)
    deps = RiskDependencies(
        uow=uow,
        read_uow=read_uow,
        lookups=lambda tenant_id: SqlRiskLookups(resources.database.engine, tenant_id=tenant_id),
        directory=lambda: SqlRiskDirectory(resources.sessions),
        bureau=bureau,
        clock=SystemClock(),
        bureau_fresh_for=timedelta(hours=settings.bureau_fresh_hours),
        drift_window_hours=settings.drift_window_hours,
        drift_threshold=settings.drift_threshold,
    )
    jobs = [PeriodicJob("risk.drift", settings.drift_check_seconds, partial(check_drift, deps))]
    return Wiring(deps, jobs=jobs, consumer_unit_of_work=uow)
