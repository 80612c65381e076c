"""The availability's part in a trade's saga: reserve a quantity, confirm it to the trade,
release it, answer each step.

A command runs in its consumer's transaction, with the availability's row locked and its version
checked on save, and with nothing but the database inside it. A step applied before (the same
saga id and step, whatever the message) is answered again as it was, and changes nothing more;
a step name already used for another command is refused for good. Releasing twice releases once:
the second finds nothing held. A release gives back reservations confirmed or not, the saga's
own or, named by `reserved_by`, another saga's (a cancelled trade's).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from mandi_availability.domain.offers import Availability, OfferKind, OfferStatus, Requirement
from mandi_availability.domain.reservations import Reservation, ReservationStatus, StepKind
from mandi_availability.service_layer.unit_of_work import AvailabilityUnitOfWork
from mandi_contracts import (
    AvailabilityReleased,
    AvailabilityReserved,
    ConfirmReservation,
    QuantityReleased,
    QuantityReserved,
    ReleaseQuantity,
    RequirementFulfilled,
    ReservationConfirmed,
    ReservationRefused,
    ReserveQuantity,
)
from mandi_errors import Conflict, InvalidInput
from mandi_messaging import replies_topic

__all__ = ["confirm", "give_back", "release", "replies_to", "reserve"]

_REPLIES = replies_topic("availability")
_NOTHING_HELD = "Nothing of the saga's is reserved any more."
_PAST_DEADLINE = "The saga's deadline for its reservation has passed."

_Command = ReserveQuantity | ConfirmReservation | ReleaseQuantity
_KINDS: dict[type[_Command], StepKind] = {
    ReserveQuantity: StepKind.RESERVE,
    ConfirmReservation: StepKind.CONFIRM,
    ReleaseQuantity: StepKind.RELEASE,
}


async def reserve(uow: AvailabilityUnitOfWork, command: ReserveQuantity, now: datetime) -> None:
    """Reserves the quantity for the saga, or refuses; answers the saga either way."""
    _require_own_tenant(uow, command.tenant_id)
    applied = await _applied_before(uow, command)
    if applied is None:
        applied = await _reserved_or_refused(uow, command, now)
        await uow.reservations.add(applied, now)
    await _answer(uow, command, applied)


async def confirm(uow: AvailabilityUnitOfWork, command: ConfirmReservation, now: datetime) -> None:
    """Makes what the saga reserved of the availability its trade's, or refuses (nothing held
    any more, or the deadline passed); answers the saga either way."""
    _require_own_tenant(uow, command.tenant_id)
    applied = await _applied_before(uow, command)
    if applied is None:
        applied = await _confirmed_or_refused(uow, command, now)
        await uow.reservations.add(applied, now)
    await _answer(uow, command, applied)


async def release(uow: AvailabilityUnitOfWork, command: ReleaseQuantity, now: datetime) -> None:
    """Gives back what the saga, or the one `reserved_by` names, holds of the availability
    (nothing, if it holds nothing); answers the command's own saga and step."""
    _require_own_tenant(uow, command.tenant_id)
    applied = await _applied_before(uow, command)
    if applied is None:
        applied = await _released(uow, command, now)
        await uow.reservations.add(applied, now)
    await _answer(uow, command, applied)


async def _reserved_or_refused(
    uow: AvailabilityUnitOfWork, command: ReserveQuantity, now: datetime
) -> Reservation:
    found = await uow.offers.get(OfferKind.AVAILABILITY, command.availability_id, for_update=True)
    if not isinstance(found, Availability):
        return _refusal(command, "No such availability.")
    try:
        reserved = found.reserve(command.quantity, now)
    except (Conflict, InvalidInput) as refused:
        return _refusal(command, refused.detail, free=found.free)
    await uow.offers.save(reserved)
    await uow.publish(
        AvailabilityReserved(
            **_ids(reserved),
            saga_id=command.saga_id,
            quantity=command.quantity,
            reserved=reserved.reserved,
            free=reserved.free,
        ),
        subject=str(reserved.id),
    )
    return Reservation(
        saga_id=command.saga_id,
        step=command.step,
        kind=StepKind.RESERVE,
        availability_id=reserved.id,
        status=ReservationStatus.RESERVED,
        quantity=command.quantity,
        free=reserved.free,
        deadline=command.deadline,
    )


async def _confirmed_or_refused(
    uow: AvailabilityUnitOfWork, command: ConfirmReservation, now: datetime
) -> Reservation:
    held = await uow.reservations.held(command.saga_id, command.availability_id)
    if not held:
        return _refusal(command, _NOTHING_HELD)
    if any(reservation.overdue(now) for reservation in held):
        return _refusal(command, _PAST_DEADLINE)
    for reservation in held:
        if reservation.status is ReservationStatus.RESERVED:
            await uow.reservations.mark(reservation.confirmed())
    if command.requirement_id is not None:
        await _fulfil(uow, command.requirement_id, now)
    found = await uow.offers.get(OfferKind.AVAILABILITY, command.availability_id)
    return Reservation(
        saga_id=command.saga_id,
        step=command.step,
        kind=StepKind.CONFIRM,
        availability_id=command.availability_id,
        status=ReservationStatus.CONFIRMED,
        quantity=sum((reservation.quantity for reservation in held), Decimal(0)),
        free=found.free if isinstance(found, Availability) else Decimal(0),
    )


async def _fulfil(uow: AvailabilityUnitOfWork, requirement_id: UUID, now: datetime) -> None:
    """The trade meets the requirement: it leaves the book (a buyer posts another for more)."""
    found = await uow.offers.get(OfferKind.REQUIREMENT, requirement_id, for_update=True)
    if not isinstance(found, Requirement) or found.status is not OfferStatus.PUBLISHED:
        return  # withdrawn or expired meanwhile: the trade stands all the same
    fulfilled = found.fulfil(now)
    await uow.offers.save(fulfilled)
    await uow.publish(
        RequirementFulfilled(
            tenant_id=fulfilled.tenant_id,
            requirement_id=fulfilled.id,
            partner_id=fulfilled.partner_id,
            version=fulfilled.version,
        ),
        subject=str(fulfilled.id),
    )


async def give_back(
    uow: AvailabilityUnitOfWork, held: list[Reservation], availability_id: UUID, now: datetime
) -> tuple[Decimal, Decimal]:
    """Releases what these reservations of one saga hold of the availability; the quantity
    given back and what is free after."""
    found = await uow.offers.get(OfferKind.AVAILABILITY, availability_id, for_update=True)
    quantity = sum((reservation.quantity for reservation in held), Decimal(0))
    free = Decimal(0)
    if isinstance(found, Availability):
        free = found.free
        if quantity:
            given_back = found.release(quantity, now)
            await uow.offers.save(given_back)
            free = given_back.free
            await uow.publish(
                AvailabilityReleased(
                    **_ids(given_back),
                    saga_id=held[0].saga_id,
                    quantity=quantity,
                    reserved=given_back.reserved,
                    free=free,
                ),
                subject=str(given_back.id),
            )
    for reservation in held:
        await uow.reservations.mark(reservation.released())
    return quantity, free


async def _released(
    uow: AvailabilityUnitOfWork, command: ReleaseQuantity, now: datetime
) -> Reservation:
    holder = command.saga_id if command.reserved_by is None else command.reserved_by
    held = await uow.reservations.held(holder, command.availability_id)
    quantity, free = await give_back(uow, held, command.availability_id, now)
    return Reservation(
        saga_id=command.saga_id,
        step=command.step,
        kind=StepKind.RELEASE,
        availability_id=command.availability_id,
        status=ReservationStatus.RELEASED,
        quantity=quantity,
        free=free,
    )


async def _applied_before(uow: AvailabilityUnitOfWork, command: _Command) -> Reservation | None:
    """The step, if it was applied before; a step name the saga used for another command is
    refused rather than answered with that command's answer."""
    applied = await uow.reservations.step(command.saga_id, command.step)
    kind = _KINDS[type(command)]
    if applied is not None and applied.kind is not kind:
        raise InvalidInput(
            f"The saga's step {command.step!r} was a {applied.kind.value} step, not a {kind.value}."
        )
    return applied


async def _answer(uow: AvailabilityUnitOfWork, command: _Command, applied: Reservation) -> None:
    step = {
        "tenant_id": command.tenant_id,
        "saga_id": command.saga_id,
        "step": command.step,
        "availability_id": command.availability_id,
    }
    reply: Reply
    if isinstance(command, ReleaseQuantity):
        reply = QuantityReleased(**step, quantity=applied.quantity)
    elif applied.status is ReservationStatus.REFUSED:
        reply = ReservationRefused(**step, reason=applied.reason)
    elif isinstance(command, ConfirmReservation):
        reply = ReservationConfirmed(**step, quantity=applied.quantity)
    else:  # reserved then, perhaps confirmed or released since: the answer stays the same
        reply = QuantityReserved(**step, quantity=applied.quantity, free=applied.free)
    await replies_to(uow, reply)


Reply = QuantityReserved | ReservationConfirmed | ReservationRefused | QuantityReleased


async def replies_to(uow: AvailabilityUnitOfWork, reply: Reply) -> None:
    """Sends a saga its answer, keyed by the saga, on the reply topic, with this transaction."""
    await uow.publish(reply, subject=str(reply.saga_id), topic=_REPLIES)


def _refusal(
    command: ReserveQuantity | ConfirmReservation, reason: str, *, free: Decimal = Decimal(0)
) -> Reservation:
    return Reservation(
        saga_id=command.saga_id,
        step=command.step,
        kind=_KINDS[type(command)],
        availability_id=command.availability_id,
        status=ReservationStatus.REFUSED,
        quantity=Decimal(0),
        free=free,
        reason=reason,
    )


def _ids(availability: Availability) -> dict[str, object]:
    return {
        "tenant_id": availability.tenant_id,
        "availability_id": availability.id,
        "partner_id": availability.partner_id,
        "version": availability.version,
    }


def _require_own_tenant(uow: AvailabilityUnitOfWork, tenant_id: object) -> None:
    if tenant_id != uow.tenant_id:
        raise InvalidInput("The command's tenant is not the tenant it was sent for.")
