"""The trade saga and the cancellation saga, on `mandi_saga`, and what matching does as they
move.

A trade: reserve the quantity (availability), reserve the value against the buyer's credit
(risk), confirm the reservation (availability: no deadline gives it back any more); then the
trade is confirmed. A refusal or a timeout gives back what was held, in reverse: the exposure,
then the quantity. Compensations go under step names of their own, since participants remember
each step they applied by saga and step name.

A cancellation gives back what a confirmed trade holds: the buyer's credit, then the quantity.
Its commands name the trade's saga (`reserved_by`), whose holdings they release.

Every move tells the world (saga started, step completed, compensating, completed, failed,
needs operator) in the transaction that made it, and a saga's end settles its proposal or trade.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from mandi_contracts import (
    CheckAndReserveExposure,
    ConfirmReservation,
    CreditRefused,
    CreditReleased,
    CreditReserved,
    QuantityReleased,
    QuantityReserved,
    ReleaseExposure,
    ReleaseQuantity,
    ReservationConfirmed,
    ReservationRefused,
    ReserveQuantity,
)
from mandi_matching.domain.trades import SagaType
from mandi_matching.service_layer import outcomes
from mandi_matching.service_layer.unit_of_work import MatchingUnitOfWork
from mandi_messaging import commands_topic
from mandi_saga import (
    Command,
    Compensation,
    Completed,
    Refused,
    Saga,
    SagaDefinition,
    SagaStatus,
    Step,
    StepOutcome,
    Transition,
)

__all__ = [
    "SagaDeadlines",
    "TradeSagaObserver",
    "TradeSagas",
    "trade_sagas",
]

_AVAILABILITY, _RISK = commands_topic("availability"), commands_topic("risk")
RESERVE_QUANTITY, RESERVE_EXPOSURE, CONFIRM = "reserve-quantity", "reserve-exposure", "confirm"
RELEASE_QUANTITY, RELEASE_EXPOSURE = "release-quantity", "release-exposure"


@dataclass(frozen=True)
class SagaDeadlines:
    """How long participants have to answer, and how long a reservation is held unconfirmed."""

    step: timedelta
    compensation: timedelta
    reservation_hold: timedelta
    cancellation_step: timedelta
    compensation_attempts: int = 5


@dataclass(frozen=True)
class TradeSagas:
    """The two saga definitions matching runs."""

    trade: SagaDefinition
    cancellation: SagaDefinition
    settlement: SagaDefinition
    reservation_hold: timedelta  # how long availability holds a trade's quantity unconfirmed

    @property
    def all(self) -> tuple[SagaDefinition, ...]:
        """Every saga definition matching runs."""
        return (self.trade, self.cancellation, self.settlement)

    def definition(self, saga_type: str) -> SagaDefinition:
        """The definition of a saga of this type."""
        return next(each for each in self.all if each.type == saga_type)


def trade_sagas(deadlines: SagaDeadlines) -> TradeSagas:
    """The trade, cancellation and settlement sagas with these deadlines."""
    return TradeSagas(
        _trade(deadlines),
        _cancellation(deadlines),
        _settlement(deadlines),
        deadlines.reservation_hold,
    )


def _trade(deadlines: SagaDeadlines) -> SagaDefinition:
    release_quantity = Compensation(
        command=lambda saga: _availability(saga, ReleaseQuantity, RELEASE_QUANTITY),
        recognises=lambda reply: isinstance(reply, QuantityReleased),
        deadline=deadlines.compensation,
        step=RELEASE_QUANTITY,
    )
    release_exposure = Compensation(
        command=lambda saga: _risk(saga, ReleaseExposure, RELEASE_EXPOSURE),
        recognises=lambda reply: isinstance(reply, CreditReleased),
        deadline=deadlines.compensation,
        step=RELEASE_EXPOSURE,
    )
    steps = (
        Step(
            RESERVE_QUANTITY,
            _reserve_quantity,
            _read(QuantityReserved, ReservationRefused),
            deadlines.step,
            release_quantity,
        ),
        Step(
            RESERVE_EXPOSURE,
            _reserve_exposure,
            _read(CreditReserved, CreditRefused),
            deadlines.step,
            release_exposure,
        ),
        Step(
            CONFIRM,
            _confirm,
            _read(ReservationConfirmed, ReservationRefused),
            deadlines.step,
        ),
    )
    return SagaDefinition(
        SagaType.TRADE, steps, compensation_attempts=deadlines.compensation_attempts
    )


def _cancellation(deadlines: SagaDeadlines) -> SagaDefinition:
    steps = (
        Step(
            RELEASE_EXPOSURE,
            lambda saga: _risk(saga, ReleaseExposure, RELEASE_EXPOSURE, of_trade=True),
            _read(CreditReleased),
            deadlines.cancellation_step,
        ),
        Step(
            RELEASE_QUANTITY,
            lambda saga: _availability(saga, ReleaseQuantity, RELEASE_QUANTITY, of_trade=True),
            _read(QuantityReleased),
            deadlines.cancellation_step,
        ),
    )
    return SagaDefinition(SagaType.CANCELLATION, steps)


def _settlement(deadlines: SagaDeadlines) -> SagaDefinition:
    release = Step(
        RELEASE_EXPOSURE,
        lambda saga: _risk(saga, ReleaseExposure, RELEASE_EXPOSURE, of_trade=True),
        _read(CreditReleased),
        deadlines.cancellation_step,
    )
    return SagaDefinition(SagaType.SETTLEMENT, (release,))


def _reserve_quantity(saga: Saga) -> Command:
    data = saga.data
    hold = datetime.fromisoformat(data["reservation_deadline"])
    command = ReserveQuantity(
        **_step_of(saga, RESERVE_QUANTITY),
        availability_id=UUID(data["availability_id"]),
        quantity=Decimal(data["quantity"]),
        deadline=hold,
    )
    return Command(command, _AVAILABILITY, data["availability_id"])


def _reserve_exposure(saga: Saga) -> Command:
    data = saga.data
    command = CheckAndReserveExposure(
        **_step_of(saga, RESERVE_EXPOSURE),
        buyer_id=UUID(data["buyer_id"]),
        seller_id=UUID(data["seller_id"]),
        amount=Decimal(data["value"]),
        currency=data["currency"],
    )
    return Command(command, _RISK, data["buyer_id"])


def _confirm(saga: Saga) -> Command:
    """Confirms the reservation to the trade, and fulfils the requirement it meets."""
    data = saga.data
    command = ConfirmReservation(
        **_step_of(saga, CONFIRM),
        availability_id=UUID(data["availability_id"]),
        requirement_id=UUID(data["requirement_id"]),
    )
    return Command(command, _AVAILABILITY, data["availability_id"])


def _availability(
    saga: Saga,
    kind: type[ReleaseQuantity],
    step: str,
    *,
    of_trade: bool = False,
) -> Command:
    availability_id = saga.data["availability_id"]
    fields: dict[str, Any] = {**_step_of(saga, step), "availability_id": UUID(availability_id)}
    if of_trade:
        fields["reserved_by"] = UUID(saga.data["trade_saga_id"])
    return Command(kind(**fields), _AVAILABILITY, availability_id)


def _risk(saga: Saga, kind: type[ReleaseExposure], step: str, *, of_trade: bool = False) -> Command:
    buyer_id = saga.data["buyer_id"]
    fields: dict[str, Any] = {**_step_of(saga, step), "buyer_id": UUID(buyer_id)}
    if of_trade:
        fields["reserved_by"] = UUID(saga.data["trade_saga_id"])
    return Command(kind(**fields), _RISK, buyer_id)


def _step_of(saga: Saga, step: str) -> dict[str, Any]:
    return {"tenant_id": saga.tenant_id, "saga_id": saga.id, "step": step}


def _read(
    success: type, refusal: type[ReservationRefused] | type[CreditRefused] | None = None
) -> Callable[[Any], StepOutcome | None]:
    """Reads a reply: `success` completes the step, `refusal` (with its reason) refuses it."""

    def read(reply: Any) -> StepOutcome | None:
        if isinstance(reply, success):
            return Completed()
        if refusal is not None and isinstance(reply, refusal):
            return Refused(reply.reason)
        return None

    return read


class TradeSagaObserver:
    """Tells the world how matching's sagas move, and settles proposals and trades as they
    end; in the transaction of the move."""

    def __init__(self, sagas: TradeSagas) -> None:
        self._sagas = sagas

    async def moved(
        self, uow: MatchingUnitOfWork, before: SagaStatus | None, transition: Transition
    ) -> None:
        """Publishes the move, and acts on the saga's end."""
        saga = transition.saga
        step = self._sagas.definition(saga.type).steps[saga.step].name
        await outcomes.announce(uow, before, transition, step)
        if saga.status is before:
            return
        if saga.status is SagaStatus.COMPLETED:
            await outcomes.completed(uow, saga)
        elif saga.status is SagaStatus.FAILED:
            await outcomes.failed(uow, saga)
