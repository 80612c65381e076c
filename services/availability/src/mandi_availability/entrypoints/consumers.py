"""The events availability takes from other services, each handled by a plain typed function.

The runtime runs the group inside `serve` or in `python -m mandi_availability consume`; a handler
gets the unit of work of the event's tenant (it commits with the inbox claim, never here).
"""

from __future__ import annotations

from mandi_availability.domain.standing import Standing
from mandi_availability.service_layer import catalog, reservations
from mandi_availability.service_layer.dependencies import AvailabilityDependencies
from mandi_availability.service_layer.standing import record_standing
from mandi_availability.service_layer.unit_of_work import AvailabilityUnitOfWork
from mandi_contracts import (
    EVENTS,
    CatalogChanged,
    ConfirmReservation,
    PartnerApproved,
    PartnerReinstated,
    PartnerRejected,
    PartnerSuspended,
    ReleaseQuantity,
    ReserveQuantity,
)
from mandi_errors import InvalidInput
from mandi_messaging import Consumers, Envelope, PermanentFailure, commands_topic, events_topic

__all__ = ["consumers"]

# Partners' events build the standing read model; the trade saga's commands reserve, confirm and
# release; the catalog's own events clear it from the cache.
consumers = Consumers(
    group="availability",
    topics=[events_topic("partners"), commands_topic("availability"), events_topic("availability")],
    registry=EVENTS,
)

_PartnerEvent = PartnerApproved | PartnerReinstated | PartnerRejected | PartnerSuspended


async def _record(event: _PartnerEvent, uow: AvailabilityUnitOfWork, standing: Standing) -> None:
    try:
        await record_standing(
            uow,
            tenant_id=event.tenant_id,
            partner_id=event.partner_id,
            standing=standing,
            version=event.version,
        )
    except InvalidInput as refused:  # the same event is refused however often it is retried
        raise PermanentFailure(refused.detail) from refused


@consumers.on(PartnerApproved)
async def on_partner_approved(event: PartnerApproved, uow: AvailabilityUnitOfWork) -> None:
    """An approved partner may publish."""
    await _record(event, uow, Standing.APPROVED)


@consumers.on(PartnerReinstated)
async def on_partner_reinstated(event: PartnerReinstated, uow: AvailabilityUnitOfWork) -> None:
    """A reinstated partner may publish again."""
    await _record(event, uow, Standing.APPROVED)


@consumers.on(PartnerSuspended)
async def on_partner_suspended(event: PartnerSuspended, uow: AvailabilityUnitOfWork) -> None:
    """A suspended partner may not publish."""
    await _record(event, uow, Standing.SUSPENDED)


@consumers.on(PartnerRejected)
async def on_partner_rejected(event: PartnerRejected, uow: AvailabilityUnitOfWork) -> None:
    """A rejected application may not publish."""
    await _record(event, uow, Standing.REJECTED)


@consumers.on(ReserveQuantity)
async def on_reserve_quantity(
    command: ReserveQuantity, uow: AvailabilityUnitOfWork, envelope: Envelope
) -> None:
    """Reserves for a trade's saga, and answers it."""
    try:
        await reservations.reserve(uow, command, now=envelope.time)
    except InvalidInput as refused:
        raise PermanentFailure(refused.detail) from refused


@consumers.on(ConfirmReservation)
async def on_confirm_reservation(
    command: ConfirmReservation, uow: AvailabilityUnitOfWork, envelope: Envelope
) -> None:
    """Makes what a trade's saga reserved its trade's, and answers it."""
    try:
        await reservations.confirm(uow, command, now=envelope.time)
    except InvalidInput as refused:
        raise PermanentFailure(refused.detail) from refused


@consumers.on(ReleaseQuantity)
async def on_release_quantity(
    command: ReleaseQuantity, uow: AvailabilityUnitOfWork, envelope: Envelope
) -> None:
    """Gives back what a trade's saga reserved (or a cancelled trade's), and answers it."""
    try:
        await reservations.release(uow, command, now=envelope.time)
    except InvalidInput as refused:
        raise PermanentFailure(refused.detail) from refused


@consumers.on(CatalogChanged)
async def on_catalog_changed(event: CatalogChanged, deps: AvailabilityDependencies) -> None:
    """Drops the changed commodity from the cache every replica reads."""
    await catalog.forget_commodity(deps, event)
