"""Trades as risk knows them from matching's events: who trades with whom, for how much, and
whether the trade is still open.

Events of one trade may arrive twice or out of order (a cancellation before the confirmation it
cancels). What risk holds of a trade is the same whatever the order: a cancelled or settled
trade has ended and never opens again, and a confirmation heard late only adds what it tells
(the commodity, when the trade was confirmed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from mandi_rules import Money

__all__ = ["Trade", "TradeStatus"]


class TradeStatus(StrEnum):
    """Where a trade stands: confirmed is open; cancelled and settled have ended."""

    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    SETTLED = "settled"

    @property
    def ended(self) -> bool:
        """Whether the trade no longer stands."""
        return self is not TradeStatus.CONFIRMED


@dataclass(frozen=True)
class Trade:
    """A trade between a buyer and a seller, as the events heard of it so far tell it."""

    trade_id: UUID
    buyer_id: UUID
    seller_id: UUID
    value: Money
    status: TradeStatus
    changed_at: datetime  # when it came to its status
    commodity: str | None = None  # known from its confirmation
    confirmed_at: datetime | None = None

    def heard(self, news: Trade) -> Trade:
        """The trade after one more event of it: an open trade ends with the first
        cancellation or settlement; a late confirmation fills in what it tells, and no more."""
        if not self.status.ended and news.status.ended:
            return replace(self, status=news.status, changed_at=news.changed_at)
        if self.confirmed_at is None and news.confirmed_at is not None:
            return replace(self, commodity=news.commodity, confirmed_at=news.confirmed_at)
        return self
