"""A trade: what a confirmed saga agreed between a buyer and a seller, and what became of it.

A trade is confirmed when its saga holds the quantity and the buyer's credit. Cancelling it is
a saga of its own that gives both back: the trade is `cancelling` while it runs, `cancelled`
when it completed. Settling is recorded by the operator once it was paid and delivered; its
saga gives the buyer's credit back (the quantity was delivered: it stays the trade's).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from mandi_errors import Conflict

__all__ = ["SagaType", "Trade", "TradeStatus"]


class SagaType(StrEnum):
    """The sagas of a trade: the one that makes it, and those that undo or settle it."""

    TRADE = "trade"  # reserve quantity and credit, confirm: the trade is made
    CANCELLATION = "trade_cancellation"  # give back the credit and the quantity
    SETTLEMENT = "trade_settlement"  # paid: give back the credit


class TradeStatus(StrEnum):
    """Where a trade stands."""

    CONFIRMED = "confirmed"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    SETTLED = "settled"


@dataclass(frozen=True)
class Trade:
    """A confirmed trade between a buyer and a seller."""

    id: UUID
    tenant_id: UUID
    saga_id: UUID
    proposal_id: UUID
    requirement_id: UUID
    availability_id: UUID
    buyer_id: UUID
    seller_id: UUID
    commodity: str
    grade: str
    quantity: Decimal
    unit: str
    price: Decimal
    currency: str
    price_unit: str
    value: Decimal
    delivery_from: date
    delivery_to: date
    delivery_city: str
    delivery_state: str
    created_at: datetime
    updated_at: datetime
    status: TradeStatus = TradeStatus.CONFIRMED
    cancel_saga_id: UUID | None = None
    cancel_reason: str = ""
    version: int = 1

    def cancel(self, saga_id: UUID, reason: str, now: datetime) -> Trade:
        """Its cancellation saga `saga_id` gives the quantity and credit back."""
        self._require(TradeStatus.CONFIRMED, "cancelled")
        return self._next(
            now, status=TradeStatus.CANCELLING, cancel_saga_id=saga_id, cancel_reason=reason
        )

    def cancelled(self, now: datetime) -> Trade:
        """The cancellation gave everything back."""
        self._require(TradeStatus.CANCELLING, "marked cancelled")
        return self._next(now, status=TradeStatus.CANCELLED)

    def cancellation_failed(self, now: datetime) -> Trade:
        """The cancellation gave up: the trade stands as it was."""
        self._require(TradeStatus.CANCELLING, "restored")
        return self._next(now, status=TradeStatus.CONFIRMED, cancel_saga_id=None)

    def settle(self, now: datetime) -> Trade:
        """Paid and delivered."""
        self._require(TradeStatus.CONFIRMED, "settled")
        return self._next(now, status=TradeStatus.SETTLED)

    def _require(self, status: TradeStatus, action: str) -> None:
        if self.status is not status:
            raise Conflict(
                f"Only a {status.value} trade can be {action}; this one is {self.status.value}."
            )

    def _next(self, now: datetime, **changes: Any) -> Trade:
        return replace(self, **changes, updated_at=now, version=self.version + 1)
