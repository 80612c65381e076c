"""The matching service's adapters and use cases, built from what the runtime made."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from uuid import UUID

from mandi_matching.adapters.unit_of_work import SqlMatchingDirectory, SqlMatchingUnitOfWork
from mandi_matching.config import Settings
from mandi_matching.domain.decisions import ScorerCatalog
from mandi_matching.domain.heuristic import HeuristicScorer
from mandi_matching.service_layer.decisions import DecisionOrchestrator
from mandi_matching.service_layer.dependencies import MatchingDependencies
from mandi_matching.service_layer.sagas import SagaDeadlines, TradeSagaObserver, trade_sagas
from mandi_matching.service_layer.trades import expire_overdue_sagas
from mandi_runtime import PeriodicJob, Resources, SystemClock, Wiring
from mandi_saga import SagaOrchestrator

__all__ = ["build"]


def build(resources: Resources[Settings]) -> Wiring[MatchingDependencies]:
    """Builds every adapter; nothing connects until it is used."""
    settings = resources.settings
    retention = timedelta(hours=settings.idempotency_retention_hours)

    def uow(tenant_id: UUID) -> SqlMatchingUnitOfWork:
        return SqlMatchingUnitOfWork(
            resources.sessions, tenant_id=tenant_id, idempotency_retention=retention
        )

    def read_uow(tenant_id: UUID) -> SqlMatchingUnitOfWork:
        return SqlMatchingUnitOfWork(
            resources.reads, tenant_id=tenant_id, idempotency_retention=retention
        )

    clock = SystemClock()
    sagas = trade_sagas(_deadlines(settings))
    heuristic = HeuristicScorer()
    deps = MatchingDependencies(
        uow=uow,
        read_uow=read_uow,
        directory=lambda: SqlMatchingDirectory(resources.sessions),
        clock=clock,
        decisions=DecisionOrchestrator(ScorerCatalog([heuristic], heuristic.ref)),
        sagas=SagaOrchestrator(sagas.all, clock, TradeSagaObserver(sagas)),
        trade_sagas=sagas,
        radius_km=settings.match_radius_km,
        candidates_per_offer=settings.candidates_per_offer,
        saga_sweep_batch=settings.saga_sweep_batch,
    )
    jobs = [
        PeriodicJob(
            "matching.saga_deadlines",
            settings.saga_sweep_seconds,
            partial(expire_overdue_sagas, deps),
        )
    ]
    return Wiring(deps, jobs=jobs, consumer_unit_of_work=uow, handler_dependencies={"deps": deps})


def _deadlines(settings: Settings) -> SagaDeadlines:
    return SagaDeadlines(
        step=timedelta(seconds=settings.step_deadline_seconds),
        compensation=timedelta(seconds=settings.compensation_deadline_seconds),
        reservation_hold=timedelta(seconds=settings.reservation_hold_seconds),
        cancellation_step=timedelta(seconds=settings.cancellation_step_deadline_seconds),
        compensation_attempts=settings.compensation_attempts,
    )
