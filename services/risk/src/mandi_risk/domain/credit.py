"""Credit limits and exposure: how much of a partner's credit its open trades use.

A risk officer sets each partner's limit, in one currency. A trade's saga reserves its value
against the buyer's limit before the trade is made, and releases it when the trade settles or
the saga gives up. What the reservations hold is the partner's exposure; a reservation that
would take it past the limit is refused, never made. Lowering a limit below the exposure is
allowed: the open trades stand, and no new one fits until enough settle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from mandi_errors import InvalidInput
from mandi_rules import Money

__all__ = ["CreditLimit", "Exposure", "Hold", "HoldStatus", "Refusal", "Reserved", "reserve"]


@dataclass(frozen=True)
class CreditLimit:
    """A partner's limit as a risk officer last set it; `version` counts the changes."""

    partner_id: UUID
    limit: Money
    reason: str
    set_by: str
    set_at: datetime
    version: int = 1

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise InvalidInput("A credit limit is set with a reason.")

    def changed(self, limit: Money, *, reason: str, by: str, at: datetime) -> CreditLimit:
        """The next version of the limit."""
        return CreditLimit(self.partner_id, limit, reason, by, at, self.version + 1)


@dataclass(frozen=True)
class Exposure:
    """What a partner's open trades use of its credit, in the currency of its limit."""

    partner_id: UUID
    currency: str
    open: Decimal = Decimal(0)

    def headroom(self, limit: CreditLimit | None) -> Decimal:
        """What is left under the limit (below zero when over it); zero without a limit."""
        return limit.limit.amount - self.open if limit is not None else Decimal(0)

    def plus(self, amount: Decimal) -> Exposure:
        """The exposure with a trade's value added."""
        return replace(self, open=self.open + amount)

    def minus(self, amount: Decimal) -> Exposure:
        """The exposure with a trade's value given back (never below zero)."""
        return replace(self, open=max(Decimal(0), self.open - amount))


@dataclass(frozen=True)
class Refusal:
    """Why nothing was reserved."""

    reason: str


@dataclass(frozen=True)
class Reserved:
    """The exposure with the trade's value in it, under the limit it fits."""

    exposure: Exposure
    limit: CreditLimit

    @property
    def headroom(self) -> Decimal:
        """What is left under the limit."""
        return self.exposure.headroom(self.limit)


def reserve(limit: CreditLimit | None, exposure: Exposure, value: Money) -> Reserved | Refusal:
    """The exposure with the trade's value reserved, or why it may not be."""
    if limit is None:
        return Refusal("The buyer has no credit limit.")
    if value.currency != limit.limit.currency:
        return Refusal(
            f"The trade is in {value.currency}; the buyer's limit is in {limit.limit.currency}."
        )
    if value.amount <= 0:
        return Refusal("A trade's value is more than zero.")
    if exposure.open + value.amount > limit.limit.amount:
        return Refusal(
            f"The trade's {value.amount} {value.currency} exceeds the buyer's headroom of "
            f"{exposure.headroom(limit)} {value.currency}."
        )
    return Reserved(exposure.plus(value.amount), limit)


class HoldStatus(StrEnum):
    """What became of one saga step's reservation."""

    RESERVED = "reserved"
    REFUSED = "refused"
    RELEASED = "released"


@dataclass(frozen=True)
class Hold:
    """One saga step applied to a buyer's credit: the answer to give if it comes again."""

    saga_id: UUID
    step: str
    buyer_id: UUID
    seller_id: UUID | None
    status: HoldStatus
    amount: Decimal
    currency: str
    headroom: Decimal = Decimal(0)
    reason: str = ""

    def released(self) -> Hold:
        """The reservation, given back."""
        return replace(self, status=HoldStatus.RELEASED)
