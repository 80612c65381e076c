"""The availability service's adapters and use cases, built from what the runtime made."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from uuid import UUID

from mandi_availability.adapters.catalog_cache import RedisCatalogCache
from mandi_availability.adapters.unit_of_work import (
    SqlAvailabilityDirectory,
    SqlAvailabilityUnitOfWork,
    SqlOfferLookups,
)
from mandi_availability.config import Settings
from mandi_availability.service_layer.dependencies import AvailabilityDependencies
from mandi_availability.service_layer.sweeps import expire_offers, release_overdue_reservations
from mandi_runtime import PeriodicJob, Resources, SystemClock, Wiring
from mandi_runtime.redis import redis_of

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

    settings = resources.settings
    redis = redis_of(settings)
    resources.close_at_the_end(redis.aclose)
    deps = AvailabilityDependencies(
        uow=uow,
        read_uow=read_uow,
        lookups=lambda tenant_id: SqlOfferLookups(resources.database.engine, tenant_id=tenant_id),
        directory=lambda: SqlAvailabilityDirectory(resources.sessions),
        catalog_cache=RedisCatalogCache(redis, ttl_seconds=settings.catalog_cache_seconds),
        clock=SystemClock(),
    )
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
    return Wiring(deps, jobs=jobs, consumer_unit_of_work=uow, handler_dependencies={"deps": deps})
