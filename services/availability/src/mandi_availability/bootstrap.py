"""The availability service's adapters and use cases, built from what the runtime made."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from mandi_availability.adapters.unit_of_work import SqlAvailabilityUnitOfWork
from mandi_availability.config import Settings
from mandi_availability.service_layer.dependencies import AvailabilityDependencies
from mandi_runtime import Resources, SystemClock, Wiring

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

    deps = AvailabilityDependencies(uow=uow, read_uow=read_uow, clock=SystemClock())
    return Wiring(deps, consumer_unit_of_work=uow)
