"""A trade as risk hears of it: it ends with its first cancellation or settlement and never
opens again, whatever order the events come in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from mandi_risk.domain.trades import Trade, TradeStatus
from mandi_rules import Money

CONFIRMED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ENDED_AT = CONFIRMED_AT + timedelta(days=3)
TRADE_ID, BUYER, SELLER = uuid4(), uuid4(), uuid4()
VALUE = Money("INR", Decimal("150000.50"))
CONFIRMED = Trade(
    TRADE_ID,
    BUYER,
    SELLER,
    VALUE,
    TradeStatus.CONFIRMED,
    changed_at=CONFIRMED_AT,
    commodity="cotton",
    confirmed_at=CONFIRMED_AT,
)


def ended(status: TradeStatus, at: datetime = ENDED_AT) -> Trade:
    return Trade(TRADE_ID, BUYER, SELLER, VALUE, status, changed_at=at)


@pytest.mark.parametrize("status", [TradeStatus.CANCELLED, TradeStatus.SETTLED])
def test_an_open_trade_ends_when_cancelled_or_settled(status: TradeStatus) -> None:
    after = CONFIRMED.heard(ended(status))

    assert (after.status, after.changed_at) == (status, ENDED_AT)
    assert (after.commodity, after.confirmed_at) == ("cotton", CONFIRMED_AT)


def test_a_confirmation_heard_again_changes_nothing() -> None:
    again = Trade(
        TRADE_ID,
        BUYER,
        SELLER,
        VALUE,
        TradeStatus.CONFIRMED,
        changed_at=ENDED_AT,
        commodity="cotton",
        confirmed_at=ENDED_AT,
    )

    assert CONFIRMED.heard(again) is CONFIRMED


def test_a_late_confirmation_fills_in_what_it_tells_and_does_not_reopen() -> None:
    cancelled = ended(TradeStatus.CANCELLED)

    after = cancelled.heard(CONFIRMED)

    assert (after.status, after.changed_at) == (TradeStatus.CANCELLED, ENDED_AT)
    assert (after.commodity, after.confirmed_at) == ("cotton", CONFIRMED_AT)


@pytest.mark.parametrize(
    ("first", "then"),
    [
        (TradeStatus.CANCELLED, TradeStatus.SETTLED),
        (TradeStatus.SETTLED, TradeStatus.CANCELLED),
        (TradeStatus.CANCELLED, TradeStatus.CANCELLED),
    ],
)
def test_a_trade_that_ended_stays_as_it_ended(first: TradeStatus, then: TradeStatus) -> None:
    ended_first = CONFIRMED.heard(ended(first))

    after = ended_first.heard(ended(then, ENDED_AT + timedelta(hours=1)))

    assert after is ended_first
    assert (after.status, after.changed_at) == (first, ENDED_AT)
