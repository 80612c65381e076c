"""What a saga's moves mean to matching: the events that tell them, and the trade or proposal
each end settles. Called by the saga observer, in the transaction of the move.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from mandi_contracts import (
    SagaCompensating,
    SagaCompleted,
    SagaFailed,
    SagaNeedsOperator,
    SagaStarted,
    SagaStepCompleted,
    TradeCancelled,
    TradeConfirmed,
)
from mandi_matching.domain.proposals import ProposalStatus
from mandi_matching.domain.trades import SagaType, Trade, TradeStatus
from mandi_matching.service_layer.unit_of_work import MatchingUnitOfWork
from mandi_messaging.registry import Event
from mandi_observability import get_logger
from mandi_saga import HistoryEntry, Saga, SagaStatus, Transition

__all__ = ["announce", "completed", "failed", "trade_of"]

_log = get_logger("mandi.matching.sagas")


async def announce(
    uow: MatchingUnitOfWork, before: SagaStatus | None, transition: Transition, step: str
) -> None:
    """Publishes what the transition did: a start, completed steps, and a change of status."""
    saga = transition.saga
    ids = {"tenant_id": saga.tenant_id, "saga_id": saga.id, "saga_type": saga.type}
    ids["trade_id"] = UUID(saga.data["trade_id"])
    events: list[Event] = []
    for entry in transition.history:
        if entry.kind == "started":
            events.append(SagaStarted(**ids))
        elif entry.kind == "completed" and entry.step is not None:
            events.append(SagaStepCompleted(**ids, step=entry.step))
    if saga.status is not before:
        events.extend(await _status_events(uow, transition, ids, step))
    for event in events:
        await uow.publish(event, subject=str(saga.id))


async def _status_events(
    uow: MatchingUnitOfWork, transition: Transition, ids: dict[str, Any], step: str
) -> list[Event]:
    saga = transition.saga
    if saga.status is SagaStatus.COMPENSATING:
        reason = _reason(transition.history) or "compensating"
        return [SagaCompensating(**ids, step=step, reason=reason)]
    if saga.status is SagaStatus.COMPLETED:
        return [SagaCompleted(**ids)]
    if saga.status is SagaStatus.NEEDS_OPERATOR:
        return [SagaNeedsOperator(**ids, step=step)]
    if saga.status is SagaStatus.FAILED:
        return [SagaFailed(**ids, reason=await _first_reason(uow, saga.id))]
    return []


async def completed(uow: MatchingUnitOfWork, saga: Saga) -> None:
    """A trade saga confirms its trade; a cancellation marks its trade cancelled (a settlement
    has given the credit back, and its trade was settled when it began)."""
    if saga.type == SagaType.TRADE:
        await _confirm_trade(uow, saga)
    elif saga.type == SagaType.CANCELLATION:
        await _trade_cancelled(uow, saga)


async def failed(uow: MatchingUnitOfWork, saga: Saga) -> None:
    """A trade saga fails its proposal; a failed cancellation leaves its trade as it was; a
    failed settlement is an operator's to look at."""
    if saga.type == SagaType.SETTLEMENT:
        _log.error("a settled trade's credit was not given back", saga_id=str(saga.id))
        return
    if saga.type == SagaType.TRADE:
        proposal = await uow.proposals.by_saga(saga.id)
        # A saga that failed may fail again: a late success it gave back after failing.
        if proposal is not None and proposal.status is ProposalStatus.ACCEPTED:
            reason = await _first_reason(uow, saga.id)
            await uow.proposals.save(proposal.fail(reason, saga.updated_at))
        return
    trade = await uow.trades.by_cancellation(saga.id)
    if trade is not None and trade.status is TradeStatus.CANCELLING:
        _log.error("a trade's cancellation failed", trade_id=str(trade.id), saga_id=str(saga.id))
        await uow.trades.save(trade.cancellation_failed(saga.updated_at))


async def _confirm_trade(uow: MatchingUnitOfWork, saga: Saga) -> None:
    trade = trade_of(saga)
    await uow.trades.add(trade)
    proposal = await uow.proposals.by_saga(saga.id)
    if proposal is not None:
        await uow.proposals.save(proposal.traded(saga.updated_at))
    await uow.publish(
        TradeConfirmed(
            tenant_id=trade.tenant_id,
            trade_id=trade.id,
            buyer_id=trade.buyer_id,
            seller_id=trade.seller_id,
            saga_id=trade.saga_id,
            proposal_id=trade.proposal_id,
            requirement_id=trade.requirement_id,
            availability_id=trade.availability_id,
            commodity=trade.commodity,
            grade=trade.grade,
            quantity=trade.quantity,
            unit=trade.unit,
            price=trade.price,
            currency=trade.currency,
            value=trade.value,
            delivery_from=trade.delivery_from,
            delivery_to=trade.delivery_to,
            delivery_city=trade.delivery_city,
            delivery_state=trade.delivery_state,
        ),
        subject=str(trade.id),
    )


async def _trade_cancelled(uow: MatchingUnitOfWork, saga: Saga) -> None:
    trade = await uow.trades.by_cancellation(saga.id)
    if trade is None:
        return
    cancelled = trade.cancelled(saga.updated_at)
    await uow.trades.save(cancelled)
    await uow.publish(
        TradeCancelled(
            tenant_id=cancelled.tenant_id,
            trade_id=cancelled.id,
            buyer_id=cancelled.buyer_id,
            seller_id=cancelled.seller_id,
            saga_id=saga.id,
            value=cancelled.value,
            currency=cancelled.currency,
            reason=cancelled.cancel_reason,
        ),
        subject=str(cancelled.id),
    )


def trade_of(saga: Saga) -> Trade:
    """The trade a completed trade saga agreed, from the terms it was started with."""
    data, now = saga.data, saga.updated_at
    return Trade(
        id=UUID(data["trade_id"]),
        tenant_id=saga.tenant_id,
        saga_id=saga.id,
        proposal_id=UUID(data["proposal_id"]),
        requirement_id=UUID(data["requirement_id"]),
        availability_id=UUID(data["availability_id"]),
        buyer_id=UUID(data["buyer_id"]),
        seller_id=UUID(data["seller_id"]),
        commodity=data["commodity"],
        grade=data["grade"],
        quantity=Decimal(data["quantity"]),
        unit=data["base_unit"],
        price=Decimal(data["price"]),
        currency=data["currency"],
        price_unit=data["price_unit"],
        value=Decimal(data["value"]),
        delivery_from=date.fromisoformat(data["delivery_from"]),
        delivery_to=date.fromisoformat(data["delivery_to"]),
        delivery_city=data["delivery_city"],
        delivery_state=data["delivery_state"],
        created_at=now,
        updated_at=now,
    )


def _reason(history: Iterable[HistoryEntry]) -> str | None:
    """The first refusal or timeout told in the history."""
    for entry in history:
        if entry.kind == "refused":
            return f"{entry.step} refused: {entry.detail.get('reason', '')}"
        if entry.kind == "timed_out":
            return f"{entry.step} timed out"
    return None


async def _first_reason(uow: MatchingUnitOfWork, saga_id: UUID) -> str:
    """Why a saga failed: its first refusal or timeout."""
    return _reason(await uow.sagas.history(saga_id)) or "compensated"
