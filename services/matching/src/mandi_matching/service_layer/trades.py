"""Trades, and the sagas that make and cancel them: each party lists and reads its own trades
and cancels one; operator staff follow any saga's history, and retry or resolve a stuck one.

Cancelling a confirmed trade starts its cancellation saga in the transaction that marks the
trade cancelling; the saga gives the buyer's credit and the quantity back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from mandi_contracts import TradeSettled
from mandi_db import Answer, IdempotencyKey, idempotently
from mandi_errors import Conflict, NotFound
from mandi_matching.domain import access
from mandi_matching.domain.trades import Trade
from mandi_matching.service_layer.dependencies import MatchingDependencies
from mandi_matching.service_layer.unit_of_work import MatchingUnitOfWork
from mandi_matching.service_layer.views import (
    HistoryEntryView,
    SagaView,
    TradeView,
    history_view,
    saga_view,
    trade_view,
)
from mandi_saga import NotAwaitingOperator, Saga, SagaStatus, UnknownSaga
from mandi_security import Principal

__all__ = [
    "cancel",
    "expire_overdue_sagas",
    "resolve_saga",
    "retry_saga",
    "saga",
    "saga_history",
    "settle",
    "trade",
    "trades",
]


async def trades(
    deps: MatchingDependencies,
    principal: Principal,
    *,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> tuple[list[TradeView], tuple[datetime, UUID] | None]:
    """The caller's trades, newest first (a partner's own; the tenant's for operator staff)."""
    partner = access.own_partner(principal, access.READ)
    async with deps.read_uow(principal.tenant_id) as uow:
        found = await uow.trades.page(partner_id=partner, limit=limit + 1, after=after)
    following = (found[limit - 1].created_at, found[limit - 1].id) if len(found) > limit else None
    return [trade_view(each) for each in found[:limit]], following


async def trade(deps: MatchingDependencies, principal: Principal, trade_id: UUID) -> TradeView:
    """One trade the caller is party to (any of the tenant's, for operator staff)."""
    async with deps.read_uow(principal.tenant_id) as uow:
        found = await uow.trades.get(trade_id)
    if found is None:
        raise NotFound("No such proposal or trade.")
    access.side_of(principal, access.READ, found.buyer_id, found.seller_id)
    return trade_view(found)


async def cancel(
    deps: MatchingDependencies,
    principal: Principal,
    trade_id: UUID,
    reason: str,
    key: IdempotencyKey | None,
) -> Answer[SagaView]:
    """Cancels a confirmed trade for a party: its cancellation saga starts; the saga's state."""
    saga_id = _cancellation_id(principal.tenant_id, key) if key else uuid4()

    async def work(uow: MatchingUnitOfWork) -> SagaView:
        found = await uow.trades.get(trade_id, for_update=True)
        if found is None:
            raise NotFound("No such proposal or trade.")
        access.side_of(principal, access.WRITE, found.buyer_id, found.seller_id)
        await uow.trades.save(found.cancel(saga_id, reason, deps.clock.now()))
        definition = deps.trade_sagas.cancellation
        started = await deps.sagas.start(uow, definition, _of_trade(found), saga_id)
        return saga_view(started, definition)

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=SagaView)


async def settle(
    deps: MatchingDependencies, principal: Principal, trade_id: UUID, key: IdempotencyKey | None
) -> Answer[TradeView]:
    """Records a confirmed trade paid and delivered (operator staff): it is settled, and its
    settlement saga gives the buyer's credit back."""
    access.require_operator(principal, "settle a trade")

    async def work(uow: MatchingUnitOfWork) -> TradeView:
        found = await uow.trades.get(trade_id, for_update=True)
        if found is None:
            raise NotFound("No such proposal or trade.")
        settled = found.settle(deps.clock.now())
        await uow.trades.save(settled)
        await uow.publish(
            TradeSettled(
                tenant_id=settled.tenant_id,
                trade_id=settled.id,
                buyer_id=settled.buyer_id,
                seller_id=settled.seller_id,
                value=settled.value,
                currency=settled.currency,
            ),
            subject=str(settled.id),
        )
        await deps.sagas.start(uow, deps.trade_sagas.settlement, _of_trade(settled))
        return trade_view(settled)

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=TradeView)


async def saga(deps: MatchingDependencies, principal: Principal, saga_id: UUID) -> SagaView:
    """A saga's state, for a party of its trade or operator staff."""
    async with deps.uow(principal.tenant_id) as uow:
        found = await _visible_saga(deps, uow, principal, saga_id)
    return saga_view(found, deps.trade_sagas.definition(found.type))


async def saga_history(
    deps: MatchingDependencies, principal: Principal, saga_id: UUID
) -> list[HistoryEntryView]:
    """Everything that happened to a saga, oldest first: commands, replies, timeouts, timings."""
    async with deps.uow(principal.tenant_id) as uow:
        await _visible_saga(deps, uow, principal, saga_id)
        history = await deps.sagas.history(uow, saga_id)
    return [history_view(entry) for entry in history]


async def retry_saga(
    deps: MatchingDependencies, principal: Principal, saga_id: UUID, reason: str
) -> SagaView:
    """Sends a stuck saga's pending compensation again (operator staff)."""
    access.require_operator(principal, "retry a saga")
    async with deps.uow(principal.tenant_id) as uow:
        moved = await _operate(
            deps.sagas.retry(uow, saga_id, operator=principal.principal_id, reason=reason)
        )
        await uow.commit()
    return saga_view(moved, deps.trade_sagas.definition(moved.type))


async def resolve_saga(
    deps: MatchingDependencies,
    principal: Principal,
    saga_id: UUID,
    outcome: SagaStatus,
    reason: str,
) -> SagaView:
    """Settles a stuck saga by hand as failed or completed (operator staff)."""
    access.require_operator(principal, "resolve a saga")
    async with deps.uow(principal.tenant_id) as uow:
        moved = await _operate(
            deps.sagas.resolve(
                uow, saga_id, outcome, operator=principal.principal_id, reason=reason
            )
        )
        await uow.commit()
    return saga_view(moved, deps.trade_sagas.definition(moved.type))


async def expire_overdue_sagas(deps: MatchingDependencies) -> int:
    """Times out every saga whose deadline passed, tenant by tenant (the leader's job); how
    many."""
    expired = 0
    async with deps.directory() as directory:
        tenant_ids = await directory.tenants.all()
    for tenant_id in tenant_ids:
        async with deps.uow(tenant_id) as uow:
            expired += await deps.sagas.expire_due(uow, deps.clock.now(), deps.saga_sweep_batch)
            await uow.commit()
    return expired


async def _visible_saga(
    deps: MatchingDependencies, uow: MatchingUnitOfWork, principal: Principal, saga_id: UUID
) -> Saga:
    found = await deps.sagas.get(uow, saga_id)
    if found is None:
        raise NotFound("No such saga.")
    buyer, seller = UUID(found.data["buyer_id"]), UUID(found.data["seller_id"])
    try:
        access.side_of(principal, access.READ, buyer, seller)
    except NotFound:
        raise NotFound("No such saga.") from None
    return found


async def _operate(moving: Any) -> Saga:
    try:
        moved: Saga = await moving
    except UnknownSaga:
        raise NotFound("No such saga.") from None
    except NotAwaitingOperator as not_stuck:
        raise Conflict(str(not_stuck)) from None
    return moved


def _cancellation_id(tenant_id: UUID, key: IdempotencyKey) -> UUID:
    return uuid5(
        NAMESPACE_URL, f"mandi:trade-cancellation:{tenant_id}:{key.principal_id}:{key.key}"
    )


def _of_trade(trade: Trade) -> dict[str, str]:
    """What a saga undoing or settling the trade is started with."""
    return {
        "trade_id": str(trade.id),
        "trade_saga_id": str(trade.saga_id),
        "availability_id": str(trade.availability_id),
        "buyer_id": str(trade.buyer_id),
        "seller_id": str(trade.seller_id),
    }
