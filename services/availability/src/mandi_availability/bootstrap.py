"""The availability service's adapters and use cases, built from what the runtime made."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from uuid import UUID

from mandi_availability.adapters.unit_of_work import (
    SqlAvailabilityDirectory,
    SqlAvailabilityUnitOfWork,
)
from mandi_availability.config import Settings
from mandi_availability.service_layer.dependencies import AvailabilityDependencies
from mandi_availability.service_layer.sweeps import expire_offers, release_overdue_reservations
from mandi_runtime import PeriodicJob, Resources, SystemClock, Wiring

__all__ = ["build"]


def build(resources: Resources[Settings]) -> Wiring[AvailabilityDependencies]:
    """Builds every adapter; nothing connects until it is used."""
    retention = timedelta(hours=resources.settings.idempotency_retention_hours)

    def uow(tenant_id: UUID) -> SqlAvailabilityUnitOfWork:
        return SqlAvailabilityUnitOfWork(
            resources.sessions, tenant_id=tenant_id, idempotency_retention=retention
        )

    def read_uow(tenant_id: UUID) -> SqlAvailabilityUnitOfWork:
        return SqlAvailabilityUnitOfWork(
            resources.reads, tenant_id=tenant_id, idempotency_retention=retention
        )

    deps = AvailabilityDependencies(
        uow=uow,
        read_uow=read_uow,
        directory=lambda: SqlAvailabilityDirectory(resources.sessions),
        clock=SystemClock(),
    )
    settings = resources.settings
    jobs = [
        PeriodicJob(
            "availability.expiry", settings.expiry_sweep_seconds, partial(expire_offers, deps)
        ),
        PeriodicJob(
            "availability.reservation_deadlines",
            settings.reservation_sweep_seconds,
            partial(release_overdue_reservations, deps),
        ),
    ]
    return Wiring(deps, jobs=jobs, consumer_unit_of_work=uow)
