"""The periodic jobs of the order book, run by one leader per cluster: offers past their
validity expire, and reservations past their saga's deadline are given back (a confirmed one
is its trade's: no deadline gives it back).

Each tenant's batch is one transaction; rows another sweep holds are skipped (SKIP LOCKED), so
a job that overlaps itself never applies a step twice.
"""

from __future__ import annotations

from uuid import UUID

from mandi_availability.domain.offers import Availability
from mandi_availability.service_layer.dependencies import AvailabilityDependencies
from mandi_availability.service_layer.reservations import give_back, replies_to
from mandi_contracts import AvailabilityExpired, QuantityReleased, RequirementExpired

__all__ = ["DEADLINE_STEP", "expire_offers", "release_overdue_reservations"]

# The step a sweep's release answers a saga under: the saga did not ask for it.
DEADLINE_STEP = "deadline-passed"


async def expire_offers(deps: AvailabilityDependencies) -> int:
    """Takes every offer past its validity off the book; how many."""
    expired = 0
    for tenant_id in await _tenants(deps):
        async with deps.uow(tenant_id) as uow:
            now = deps.clock.now()
            for offer in await uow.offers.past_validity(now, deps.sweep_batch_size):
                ended = offer.expire(now)
                await uow.offers.save(ended)
                ids = {
                    "tenant_id": tenant_id,
                    "partner_id": ended.partner_id,
                    "version": ended.version,
                }
                event = (
                    AvailabilityExpired(**ids, availability_id=ended.id)
                    if isinstance(ended, Availability)
                    else RequirementExpired(**ids, requirement_id=ended.id)
                )
                await uow.publish(event, subject=str(ended.id))
                expired += 1
            await uow.commit()
    return expired


async def release_overdue_reservations(deps: AvailabilityDependencies) -> int:
    """Gives back every unconfirmed reservation whose saga's deadline has passed, and tells the
    saga; how many."""
    released = 0
    for tenant_id in await _tenants(deps):
        async with deps.uow(tenant_id) as uow:
            now = deps.clock.now()
            for reservation in await uow.reservations.overdue(now, deps.sweep_batch_size):
                quantity, _ = await give_back(uow, [reservation], reservation.availability_id, now)
                await replies_to(
                    uow,
                    QuantityReleased(
                        tenant_id=tenant_id,
                        saga_id=reservation.saga_id,
                        step=DEADLINE_STEP,
                        availability_id=reservation.availability_id,
                        quantity=quantity,
                    ),
                )
                released += 1
            await uow.commit()
    return released


async def _tenants(deps: AvailabilityDependencies) -> list[UUID]:
    async with deps.directory() as directory:
        return await directory.tenants.all()
