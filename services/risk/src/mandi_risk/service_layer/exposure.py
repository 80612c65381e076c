"""Risk's part in a trade's saga: reserve the trade's value against the buyer's credit limit,
release it, and answer each step.

A command runs in its consumer's transaction with the buyer's exposure row locked, so two sagas
of one buyer take turns and never both fit under the limit; nothing but the database happens
inside it. A step applied before (the same saga id and step, whatever the message) is answered
again as it was, and changes nothing more. Releasing twice releases once. A release gives back
the saga's own holds or, named by `reserved_by`, another saga's (a cancelled trade's), and is
answered under its own saga and step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from mandi_contracts import (
    CheckAndReserveExposure,
    CreditRefused,
    CreditReleased,
    CreditReserved,
    ExposureReleased,
    ExposureReserved,
    ReleaseExposure,
)
from mandi_errors import InvalidInput
from mandi_messaging import replies_topic
from mandi_risk.domain.credit import Exposure, Hold, HoldStatus, Refusal, reserve
from mandi_risk.service_layer.unit_of_work import RiskUnitOfWork
from mandi_rules import Money

__all__ = ["release_exposure", "reserve_exposure"]

_REPLIES = replies_topic("risk")


async def reserve_exposure(
    uow: RiskUnitOfWork, command: CheckAndReserveExposure, now: datetime
) -> None:
    """Reserves the trade's value if it fits under the buyer's limit; answers either way."""
    _require_own_tenant(uow, command.tenant_id)
    applied = await uow.exposure.hold(command.saga_id, command.step)
    if applied is None:
        applied = await _reserved_or_refused(uow, command)
        await uow.exposure.add_hold(applied, now)
    await _answer(uow, command, applied)


async def release_exposure(uow: RiskUnitOfWork, command: ReleaseExposure, now: datetime) -> None:
    """Gives back what the saga, or the one `reserved_by` names, holds of the buyer's credit
    (nothing, if it holds nothing); answers the command's own saga and step."""
    _require_own_tenant(uow, command.tenant_id)
    applied = await uow.exposure.hold(command.saga_id, command.step)
    if applied is None:
        applied = await _released(uow, command)
        await uow.exposure.add_hold(applied, now)
    await _answer(uow, command, applied)


async def _reserved_or_refused(uow: RiskUnitOfWork, command: CheckAndReserveExposure) -> Hold:
    limit = await uow.limits.get(command.buyer_id)
    currency = limit.limit.currency if limit else command.currency
    exposure = await uow.exposure.locked(command.buyer_id, currency)
    try:
        value = Money(command.currency, command.amount)
    except InvalidInput as invalid:
        return _refusal(command, invalid.detail)
    reserved = reserve(limit, exposure, value)
    if isinstance(reserved, Refusal):
        return _refusal(command, reserved.reason, headroom=exposure.headroom(limit))
    await uow.exposure.save(reserved.exposure)
    change = _Change(
        command.saga_id, command.seller_id, reserved.exposure, reserved.limit.limit.amount, value
    )
    await _announce(uow, ExposureReserved, command, change)
    return Hold(
        saga_id=command.saga_id,
        step=command.step,
        buyer_id=command.buyer_id,
        seller_id=command.seller_id,
        status=HoldStatus.RESERVED,
        amount=value.amount,
        currency=value.currency,
        headroom=reserved.headroom,
    )


async def _released(uow: RiskUnitOfWork, command: ReleaseExposure) -> Hold:
    holder = command.saga_id if command.reserved_by is None else command.reserved_by
    held = await uow.exposure.held(holder, command.buyer_id)
    amount = sum((hold.amount for hold in held), Decimal(0))
    currency = held[0].currency if held else ""
    if held:
        limit = await uow.limits.get(command.buyer_id)
        exposure = await uow.exposure.locked(command.buyer_id, currency)
        given_back = exposure.minus(amount)
        await uow.exposure.save(given_back)
        for hold in held:
            await uow.exposure.mark(hold.released())
        limit_amount = limit.limit.amount if limit else Decimal(0)
        value = Money(currency, amount)
        change = _Change(holder, held[0].seller_id, given_back, limit_amount, value)
        await _announce(uow, ExposureReleased, command, change)
    return Hold(
        saga_id=command.saga_id,
        step=command.step,
        buyer_id=command.buyer_id,
        seller_id=None,
        status=HoldStatus.RELEASED,
        amount=amount,
        currency=currency,
    )


@dataclass(frozen=True)
class _Change:
    saga_id: UUID  # whose holds changed
    seller_id: UUID | None
    exposure: Exposure
    limit: Decimal
    value: Money


async def _announce(
    uow: RiskUnitOfWork,
    event: type[ExposureReserved] | type[ExposureReleased],
    command: CheckAndReserveExposure | ReleaseExposure,
    change: _Change,
) -> None:
    await uow.publish(
        event(
            tenant_id=command.tenant_id,
            partner_id=command.buyer_id,
            counterparty_id=change.seller_id,
            saga_id=change.saga_id,
            amount=change.value.amount,
            currency=change.value.currency,
            exposure=change.exposure.open,
            limit=change.limit,
        ),
        subject=str(command.buyer_id),
    )


async def _answer(
    uow: RiskUnitOfWork, command: CheckAndReserveExposure | ReleaseExposure, applied: Hold
) -> None:
    step = {
        "tenant_id": command.tenant_id,
        "saga_id": command.saga_id,
        "step": command.step,
        "buyer_id": command.buyer_id,
    }
    reply: CreditReserved | CreditRefused | CreditReleased
    if isinstance(command, ReleaseExposure):
        reply = CreditReleased(**step, amount=applied.amount, currency=applied.currency)
    elif applied.status is HoldStatus.REFUSED:
        reply = CreditRefused(**step, reason=applied.reason)
    else:  # reserved then, and perhaps released since: the answer to this step stays the same
        reply = CreditReserved(
            **step, amount=applied.amount, currency=applied.currency, headroom=applied.headroom
        )
    await uow.publish(reply, subject=str(command.saga_id), topic=_REPLIES)


def _refusal(
    command: CheckAndReserveExposure, reason: str, *, headroom: Decimal = Decimal(0)
) -> Hold:
    return Hold(
        saga_id=command.saga_id,
        step=command.step,
        buyer_id=command.buyer_id,
        seller_id=command.seller_id,
        status=HoldStatus.REFUSED,
        amount=Decimal(0),
        currency=command.currency,
        headroom=headroom,
        reason=reason,
    )


def _require_own_tenant(uow: RiskUnitOfWork, tenant_id: object) -> None:
    if tenant_id != uow.tenant_id:
        raise InvalidInput("The command's tenant is not the tenant it was sent for.")
