"""Risk's read model of trades on PostgreSQL, in the unit of work's transaction (row-level
security confines it to its tenant): each trade as matching's events told it, and a partner's
open trades summed in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Uuid,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from mandi_db import PreparedQuery, SqlRepository, StatementSource
from mandi_risk.adapters.tables import trades
from mandi_risk.domain.trades import Trade, TradeStatus
from mandi_risk.service_layer.unit_of_work import OpenSide, OpenTotal, OpenTrades, OpenWith
from mandi_rules import Money

__all__ = ["SqlTrades"]

_TRADE = select(trades).where(trades.c.trade_id == bindparam("trade_id"))
_TRADE_BY_ID = PreparedQuery(_TRADE)
_TRADE_FOR_UPDATE = PreparedQuery(_TRADE.with_for_update())
# A trade stored meanwhile by another transaction is waited for, then left as it is.
_ADD_TRADE = PreparedQuery(
    pg_insert(trades)
    .values({column.name: bindparam(column.name) for column in trades.c})
    .on_conflict_do_nothing()
    .returning(trades.c.trade_id)
)
_SAVE_TRADE = PreparedQuery(
    update(trades)
    .where(trades.c.trade_id == bindparam("trade_id"))
    .values(
        status=bindparam("new_status"),
        changed_at=bindparam("new_changed_at"),
        commodity=bindparam("new_commodity"),
        confirmed_at=bindparam("new_confirmed_at"),
    )
)


def _open_trades_query() -> PreparedQuery:
    """A partner's open trades as buyer and as seller (each side by its partial index): a row
    per side and currency (no counterparty: the total), and per side the `shown` counterparties
    with the most trades, a row per currency."""
    partner = bindparam("partner_id", type_=Uuid)
    # A constant, not a parameter: a generic plan uses the partial indexes only for it.
    is_open = trades.c.status == literal_column(f"'{TradeStatus.CONFIRMED.value}'")
    sides = union_all(
        select(
            literal_column("'buyer'").label("side"),
            trades.c.seller_id.label("counterparty_id"),
            trades.c.currency,
            trades.c.value,
        ).where(trades.c.buyer_id == partner, is_open),
        select(
            literal_column("'seller'"), trades.c.buyer_id, trades.c.currency, trades.c.value
        ).where(trades.c.seller_id == partner, is_open),
    ).subquery("sides")
    grouped = (
        select(
            sides.c.side,
            sides.c.currency,
            sides.c.counterparty_id,
            func.count().label("trades"),
            func.sum(sides.c.value).label("value"),
            func.count(sides.c.counterparty_id.distinct()).label("counterparties"),
        )
        .group_by(
            func.grouping_sets(
                tuple_(sides.c.side, sides.c.currency),
                tuple_(sides.c.side, sides.c.currency, sides.c.counterparty_id),
            )
        )
        .subquery("grouped")
    )
    total = grouped.c.counterparty_id.is_(None)
    rank = func.row_number().over(
        partition_by=(grouped.c.side, total),
        order_by=(
            grouped.c.trades.desc(),
            grouped.c.value.desc(),
            grouped.c.currency,
            grouped.c.counterparty_id,
        ),
    )
    ranked = select(grouped, rank.label("rank")).subquery("ranked")
    shown = or_(ranked.c.counterparty_id.is_(None), ranked.c.rank <= bindparam("shown"))
    return PreparedQuery(select(ranked).where(shown).order_by(ranked.c.side, ranked.c.rank))


_OPEN_TRADES = _open_trades_query()


class SqlTrades(SqlRepository):
    """Trades as matching's events told them."""

    def __init__(self, source: StatementSource, tenant_id: UUID) -> None:
        super().__init__(source)
        self._tenant_id = tenant_id

    async def add(self, trade: Trade) -> bool:
        """Stores a trade not heard of before; False, storing nothing, if it is known."""
        return bool(await self._fetch(_ADD_TRADE, _trade_values(self._tenant_id, trade)))

    async def get(self, trade_id: UUID) -> Trade | None:
        """The trade, if risk heard of it."""
        rows = await self._fetch(_TRADE_BY_ID, {"trade_id": trade_id})
        return _trade(rows[0]) if rows else None

    async def get_for_update(self, trade_id: UUID) -> Trade | None:
        """The trade, locked until the transaction ends."""
        rows = await self._fetch(_TRADE_FOR_UPDATE, {"trade_id": trade_id})
        return _trade(rows[0]) if rows else None

    async def save(self, trade: Trade) -> None:
        """Stores what changed of a known trade: its status, and what its confirmation told."""
        values = {
            "trade_id": trade.trade_id,
            "new_status": trade.status.value,
            "new_changed_at": trade.changed_at,
            "new_commodity": trade.commodity,
            "new_confirmed_at": trade.confirmed_at,
        }
        await self._fetch(_SAVE_TRADE, values)

    async def open_of(self, partner_id: UUID, *, counterparties: int) -> OpenTrades:
        """The partner's open trades as buyer and as seller, in one round trip."""
        rows = await self._fetch(_OPEN_TRADES, {"partner_id": partner_id, "shown": counterparties})
        return OpenTrades(as_buyer=_side(rows, "buyer"), as_seller=_side(rows, "seller"))


def _trade_values(tenant_id: UUID, trade: Trade) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "trade_id": trade.trade_id,
        "buyer_id": trade.buyer_id,
        "seller_id": trade.seller_id,
        "commodity": trade.commodity,
        "value": trade.value.amount,
        "currency": trade.value.currency,
        "status": trade.status.value,
        "confirmed_at": trade.confirmed_at,
        "changed_at": trade.changed_at,
    }


def _trade(row: Any) -> Trade:
    return Trade(
        trade_id=row.trade_id,
        buyer_id=row.buyer_id,
        seller_id=row.seller_id,
        value=Money(row.currency, row.value),
        status=TradeStatus(row.status),
        changed_at=row.changed_at,
        commodity=row.commodity,
        confirmed_at=row.confirmed_at,
    )


def _side(rows: Sequence[Any], side: str) -> OpenSide:
    mine = [row for row in rows if row.side == side]
    return OpenSide(
        totals=[
            OpenTotal(row.currency, row.trades, row.value, row.counterparties)
            for row in mine
            if row.counterparty_id is None
        ],
        counterparties=[
            OpenWith(row.counterparty_id, row.currency, row.trades, row.value)
            for row in mine
            if row.counterparty_id is not None
        ],
    )
