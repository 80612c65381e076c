"""Use cases of the commodity catalog: operator staff define and change commodities; every
caller with the read scope reads them. Each change publishes `CatalogChanged`."""

from __future__ import annotations

import logging
from dataclasses import replace
from uuid import UUID

from mandi_availability.domain import access
from mandi_availability.domain.catalog import Commodity, CommodityChanges
from mandi_availability.service_layer.dependencies import AvailabilityDependencies
from mandi_availability.service_layer.unit_of_work import AvailabilityUnitOfWork
from mandi_availability.service_layer.views import CommodityView, commodity_view
from mandi_contracts import CatalogChanged
from mandi_db import Answer, IdempotencyKey, idempotently
from mandi_errors import NotFound, PreconditionFailed, PreconditionRequired
from mandi_security import Principal

_log = logging.getLogger(__name__)

__all__ = [
    "cached_commodity",
    "catalog",
    "change_commodity",
    "commodity",
    "define_commodity",
    "forget_commodity",
]


async def define_commodity(
    deps: AvailabilityDependencies,
    principal: Principal,
    commodity: Commodity,
    key: IdempotencyKey | None = None,
) -> Answer[CommodityView]:
    """Adds a commodity to the tenant's catalog."""
    access.require_operator(principal, "define commodities")
    defined = replace(commodity, version=1)

    async def work(uow: AvailabilityUnitOfWork) -> CommodityView:
        await uow.catalog.add(uow.tenant_id, defined, deps.clock.now())
        await _announce(uow, defined, principal)
        return commodity_view(defined)

    answer = await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=CommodityView)
    await _forget_now(deps, principal.tenant_id, defined.code)  # a miss cached before it existed
    return answer


async def change_commodity(
    deps: AvailabilityDependencies,
    principal: Principal,
    code: str,
    changes: CommodityChanges,
    *,
    if_match: int | None,
    key: IdempotencyKey | None = None,
) -> Answer[CommodityView]:
    """Changes a commodity's definition, if the caller read its current version."""
    access.require_operator(principal, "change commodities")
    if if_match is None:
        raise PreconditionRequired("A change names the version it changes (If-Match).")

    async def work(uow: AvailabilityUnitOfWork) -> CommodityView:
        current = await _existing(uow, code)
        if current.version != if_match:
            raise PreconditionFailed(
                f"The commodity is at version {current.version}, not {if_match}: read it again."
            )
        new = replace(changes.applied_to(current), version=current.version + 1)
        await uow.catalog.save(new, deps.clock.now())
        await _announce(uow, new, principal)
        return commodity_view(new)

    answer = await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=CommodityView)
    await _forget_now(deps, principal.tenant_id, code)
    return answer


async def commodity(
    deps: AvailabilityDependencies, principal: Principal, code: str
) -> CommodityView:
    """One commodity of the tenant's catalog."""
    principal.require_scope(access.READ)
    async with deps.uow(principal.tenant_id) as uow:
        return commodity_view(await cached_commodity(deps, uow, code))


async def cached_commodity(
    deps: AvailabilityDependencies, uow: AvailabilityUnitOfWork, code: str
) -> Commodity:
    """The commodity, from the cache when it holds it; NotFound when the catalog has none."""
    cached = await deps.catalog_cache.get(uow.tenant_id, code)
    if cached is not None:
        return cached
    found = await _existing(uow, code)
    await deps.catalog_cache.put(uow.tenant_id, found)
    return found


async def forget_commodity(deps: AvailabilityDependencies, event: CatalogChanged) -> None:
    """Drops a changed commodity from the cache (the catalog's own event, from any replica)."""
    await deps.catalog_cache.forget(event.tenant_id, event.commodity)


async def _forget_now(deps: AvailabilityDependencies, tenant_id: UUID, code: str) -> None:
    try:
        await deps.catalog_cache.forget(tenant_id, code)
    except Exception:  # noqa: BLE001 - committed already: the change's own event clears it later
        _log.warning("catalog cache not cleared now; the change's event will clear it")


async def catalog(deps: AvailabilityDependencies, principal: Principal) -> list[CommodityView]:
    """The tenant's whole catalog, by code (a moment stale on a replica)."""
    principal.require_scope(access.READ)
    async with deps.read_uow(principal.tenant_id) as uow:
        return [commodity_view(item) for item in await uow.catalog.all()]


async def _existing(uow: AvailabilityUnitOfWork, code: str) -> Commodity:
    found = await uow.catalog.get(code)
    if found is None:
        raise NotFound(f"The catalog has no commodity {code!r}.")
    return found


async def _announce(uow: AvailabilityUnitOfWork, commodity: Commodity, by: Principal) -> None:
    event = CatalogChanged(
        tenant_id=uow.tenant_id,
        commodity=commodity.code,
        version=commodity.version,
        changed_by=by.principal_id,
        quality_ranges={
            name: (parameter.minimum, parameter.maximum)
            for name, parameter in commodity.quality.items()
        },
        units=dict(commodity.units.sizes),
    )
    await uow.publish(event, subject=commodity.code)
