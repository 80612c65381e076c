"""Trades as risk knows them: the read model built from matching's trade events, the same
however often and in whatever order they arrive (the domain's `Trade.heard` says how)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from mandi_contracts import TradeCancelled, TradeConfirmed, TradeSettled
from mandi_errors import Conflict, InvalidInput
from mandi_risk.domain.trades import Trade, TradeStatus
from mandi_risk.service_layer.unit_of_work import RiskUnitOfWork
from mandi_rules import Money

__all__ = ["record_confirmed", "record_ended"]


async def record_confirmed(uow: RiskUnitOfWork, event: TradeConfirmed, *, at: datetime) -> bool:
    """Records a trade that stands, confirmed at `at` (one heard cancelled or settled before
    stays so); whether anything changed."""
    news = Trade(
        event.trade_id,
        event.buyer_id,
        event.seller_id,
        Money(event.currency, event.value),
        TradeStatus.CONFIRMED,
        changed_at=at,
        commodity=event.commodity,
        confirmed_at=at,
    )
    return await _heard(uow, event.tenant_id, news)


async def record_ended(
    uow: RiskUnitOfWork,
    event: TradeCancelled | TradeSettled,
    status: TradeStatus,
    *,
    at: datetime,
) -> bool:
    """Records a trade cancelled or settled at `at` (one that ended before stays as it ended);
    whether anything changed."""
    value = Money(event.currency, event.value)
    news = Trade(event.trade_id, event.buyer_id, event.seller_id, value, status, changed_at=at)
    return await _heard(uow, event.tenant_id, news)


async def _heard(uow: RiskUnitOfWork, tenant_id: UUID, news: Trade) -> bool:
    # An event naming another tenant than its envelope is refused, never applied to either.
    if tenant_id != uow.tenant_id:
        raise InvalidInput("The event's tenant is not the tenant it was published for.")
    if await uow.trades.add(news):
        return True
    # Known: stored before, or by a transaction the insert waited for, which this read sees.
    known = await uow.trades.get_for_update(news.trade_id)
    if known is None:
        raise Conflict("The trade was stored and is gone: hear the event again.")
    updated = known.heard(news)
    if updated == known:
        return False
    await uow.trades.save(updated)
    return True
