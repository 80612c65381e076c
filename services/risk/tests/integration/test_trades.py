"""Risk's read model of trades, from matching's events delivered to its consumer group: a
partner's open trades as buyer and as seller, the same however often and in whatever order the
events arrive, and seen by no other tenant."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from mandi_contracts import EVENTS, TradeCancelled, TradeConfirmed, TradeSettled
from mandi_messaging import Envelope, events_topic
from mandi_risk.domain.trades import TradeStatus
from mandi_risk.service_layer import partners
from mandi_risk.service_layer.partners import COUNTERPARTIES_SHOWN
from mandi_testing.messaging import DeadLetterRecorder, envelope_of, publish_envelope

pytestmark = pytest.mark.integration

MONDAY = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
_Trade = TradeConfirmed | TradeCancelled | TradeSettled


def confirmed(
    tenant: UUID, buyer: UUID, seller: UUID, value: str, currency: str = "INR"
) -> TradeConfirmed:
    """Matching's confirmation of a trade of cotton worth `value`."""
    return TradeConfirmed(
        tenant_id=tenant,
        trade_id=uuid4(),
        buyer_id=buyer,
        seller_id=seller,
        saga_id=uuid4(),
        proposal_id=uuid4(),
        requirement_id=uuid4(),
        availability_id=uuid4(),
        commodity="cotton",
        grade="shankar-6",
        quantity=Decimal(10),
        unit="bale",
        price=Decimal(value) / 10,
        currency=currency,
        value=Decimal(value),
        delivery_from=date(2026, 4, 1),
        delivery_to=date(2026, 4, 30),
        delivery_city="Rajkot",
        delivery_state="GJ",
    )


def cancelled(trade: TradeConfirmed) -> TradeCancelled:
    """Matching's cancellation of the trade."""
    return TradeCancelled(
        tenant_id=trade.tenant_id,
        trade_id=trade.trade_id,
        buyer_id=trade.buyer_id,
        seller_id=trade.seller_id,
        saga_id=uuid4(),
        value=trade.value,
        currency=trade.currency,
        reason="the buyer withdrew",
    )


def settled(trade: TradeConfirmed) -> TradeSettled:
    """Matching's settlement of the trade."""
    return TradeSettled(
        tenant_id=trade.tenant_id,
        trade_id=trade.trade_id,
        buyer_id=trade.buyer_id,
        seller_id=trade.seller_id,
        value=trade.value,
        currency=trade.currency,
    )


def envelope(event: _Trade, at: datetime, tenant: UUID | None = None) -> Envelope:
    """The envelope matching's outbox gives the event, written at `at`."""
    made = envelope_of(
        event,
        subject=str(event.trade_id),
        registry=EVENTS,
        tenant_id=tenant or event.tenant_id,
    )
    return dataclasses.replace(made, time=at)


async def deliver(delivering: Any, *envelopes: Envelope) -> DeadLetterRecorder:
    """Delivers the envelopes, in order, on matching's events topic to risk's group."""
    dead_letters = DeadLetterRecorder("risk")
    async with delivering(dead_letters) as broker:
        for each in envelopes:
            await publish_envelope(broker, events_topic("matching"), each)
    return dead_letters


async def open_trades(desk: Any, partner: UUID) -> dict[str, Any]:
    """The partner's open trades as the API shows them (JSON)."""
    view = await partners.partner_risk(desk.deps, desk.officer, partner)
    shown: dict[str, Any] = view.model_dump(mode="json")["open_trades"]
    return shown


async def trade_of(desk: Any, trade_id: UUID) -> Any:
    async with desk.deps.uow(desk.tenant) as uow:
        return await uow.trades.get(trade_id)


NOTHING_OPEN = {
    "as_buyer": {"totals": [], "counterparties": []},
    "as_seller": {"totals": [], "counterparties": []},
}


async def test_confirmed_trades_are_open_for_both_parties(desk: Any, delivering: Any) -> None:
    tenant, buyer, mill, gin = desk.tenant, uuid4(), uuid4(), uuid4()
    trades = [
        confirmed(tenant, buyer, mill, "100000.00"),
        confirmed(tenant, buyer, mill, "50000.50"),
        confirmed(tenant, buyer, gin, "20000.00"),
        confirmed(tenant, buyer, gin, "1000.00", "USD"),
        confirmed(tenant, mill, buyer, "7000.00"),  # the buyer sells to the mill, too
    ]

    dead_letters = await deliver(
        delivering,
        *(envelope(trade, MONDAY + timedelta(minutes=n)) for n, trade in enumerate(trades)),
    )

    assert dead_letters.records == []
    assert await open_trades(desk, buyer) == {
        "as_buyer": {
            "totals": [
                {"currency": "INR", "trades": 3, "value": "170000.50", "counterparties": 2},
                {"currency": "USD", "trades": 1, "value": "1000.00", "counterparties": 1},
            ],
            "counterparties": [
                {
                    "counterparty_id": str(mill),
                    "trades": 2,
                    "value": "150000.50",
                    "currency": "INR",
                },
                {"counterparty_id": str(gin), "trades": 1, "value": "20000.00", "currency": "INR"},
                {"counterparty_id": str(gin), "trades": 1, "value": "1000.00", "currency": "USD"},
            ],
        },
        "as_seller": {
            "totals": [{"currency": "INR", "trades": 1, "value": "7000.00", "counterparties": 1}],
            "counterparties": [
                {"counterparty_id": str(mill), "trades": 1, "value": "7000.00", "currency": "INR"}
            ],
        },
    }
    assert await open_trades(desk, mill) == {
        "as_buyer": {
            "totals": [{"currency": "INR", "trades": 1, "value": "7000.00", "counterparties": 1}],
            "counterparties": [
                {"counterparty_id": str(buyer), "trades": 1, "value": "7000.00", "currency": "INR"}
            ],
        },
        "as_seller": {
            "totals": [{"currency": "INR", "trades": 2, "value": "150000.50", "counterparties": 1}],
            "counterparties": [
                {
                    "counterparty_id": str(buyer),
                    "trades": 2,
                    "value": "150000.50",
                    "currency": "INR",
                }
            ],
        },
    }
    stored = await trade_of(desk, trades[0].trade_id)
    assert (stored.status, stored.commodity) == (TradeStatus.CONFIRMED, "cotton")
    assert (stored.buyer_id, stored.seller_id, stored.value.amount) == (buyer, mill, 100000)
    assert stored.confirmed_at == stored.changed_at == MONDAY


async def test_cancelled_and_settled_trades_leave_the_open_figures(
    desk: Any, delivering: Any
) -> None:
    tenant, buyer, seller = desk.tenant, uuid4(), uuid4()
    to_cancel, to_settle, stays = (
        confirmed(tenant, buyer, seller, amount) for amount in ("300000.00", "200000.00", "5000.25")
    )
    later = MONDAY + timedelta(days=2)

    await deliver(
        delivering,
        *(envelope(trade, MONDAY) for trade in (to_cancel, to_settle, stays)),
        envelope(cancelled(to_cancel), later),
        envelope(settled(to_settle), later + timedelta(hours=1)),
    )

    one_left = {"currency": "INR", "trades": 1, "value": "5000.25", "counterparties": 1}
    assert (await open_trades(desk, buyer))["as_buyer"]["totals"] == [one_left]
    assert (await open_trades(desk, seller))["as_seller"]["totals"] == [one_left]
    gone = await trade_of(desk, to_cancel.trade_id)
    paid = await trade_of(desk, to_settle.trade_id)
    assert (gone.status, gone.changed_at, gone.confirmed_at) == (
        TradeStatus.CANCELLED,
        later,
        MONDAY,
    )
    assert (paid.status, paid.changed_at) == (TradeStatus.SETTLED, later + timedelta(hours=1))


async def test_a_duplicate_delivery_changes_nothing(desk: Any, delivering: Any) -> None:
    tenant, buyer, seller = desk.tenant, uuid4(), uuid4()
    trade, other = (
        confirmed(tenant, buyer, seller, "80000.00"),
        confirmed(tenant, buyer, seller, "1.00"),
    )
    first = envelope(trade, MONDAY)
    cancel = cancelled(other)

    dead_letters = await deliver(
        delivering,
        first,
        first,  # redelivered as it was
        envelope(trade, MONDAY + timedelta(hours=1)),  # published again, a new message
        envelope(other, MONDAY),
        envelope(cancel, MONDAY + timedelta(hours=2)),
        envelope(cancel, MONDAY + timedelta(hours=3)),
    )

    assert dead_letters.records == []
    assert (await open_trades(desk, buyer))["as_buyer"]["totals"] == [
        {"currency": "INR", "trades": 1, "value": "80000.00", "counterparties": 1}
    ]
    assert (await trade_of(desk, trade.trade_id)).confirmed_at == MONDAY
    assert (await trade_of(desk, other.trade_id)).changed_at == MONDAY + timedelta(hours=2)


@pytest.mark.parametrize(("end", "status"), [(cancelled, "cancelled"), (settled, "settled")])
async def test_a_trade_that_ended_before_its_confirmation_arrived_stays_ended(
    desk: Any, delivering: Any, end: Any, status: str
) -> None:
    tenant, buyer, seller = desk.tenant, uuid4(), uuid4()
    trade = confirmed(tenant, buyer, seller, "450000.00")
    ended_at = MONDAY + timedelta(days=1)

    dead_letters = await deliver(
        delivering,
        envelope(end(trade), ended_at),
        envelope(trade, MONDAY),  # late, as a redelivery after a rebalance
        envelope(trade, MONDAY + timedelta(days=2)),
    )

    assert dead_letters.records == []
    assert await open_trades(desk, buyer) == NOTHING_OPEN
    assert await open_trades(desk, seller) == NOTHING_OPEN
    stored = await trade_of(desk, trade.trade_id)
    assert (stored.status.value, stored.changed_at) == (status, ended_at)
    assert (stored.commodity, stored.confirmed_at) == ("cotton", MONDAY)


async def test_another_tenant_sees_nothing(desk: Any, delivering: Any) -> None:
    buyer, seller = uuid4(), uuid4()
    trade = confirmed(desk.tenant, buyer, seller, "90000.00")
    await deliver(delivering, envelope(trade, MONDAY))
    elsewhere = type(desk)(desk.deps)

    assert await open_trades(elsewhere, buyer) == NOTHING_OPEN
    assert await open_trades(elsewhere, seller) == NOTHING_OPEN
    assert await trade_of(elsewhere, trade.trade_id) is None
    assert (await open_trades(desk, buyer))["as_buyer"]["totals"][0]["value"] == "90000.00"


async def test_a_trade_event_naming_another_tenant_is_dead_lettered(
    desk: Any, delivering: Any
) -> None:
    lying = confirmed(uuid4(), uuid4(), uuid4(), "90000.00")

    dead_letters = await deliver(delivering, envelope(lying, MONDAY, tenant=desk.tenant))

    assert [reason for _, reason in dead_letters.records] == ["PermanentFailure"]
    assert await trade_of(desk, lying.trade_id) is None


async def test_the_counterparties_with_the_most_open_trades_are_listed_all_are_counted(
    desk: Any, delivering: Any
) -> None:
    tenant, seller = desk.tenant, uuid4()
    buyers = [uuid4() for _ in range(COUNTERPARTIES_SHOWN + 2)]
    regular = buyers[0]
    trades = [confirmed(tenant, buyer, seller, "1000.00") for buyer in buyers]
    trades.append(confirmed(tenant, regular, seller, "1000.00"))

    await deliver(delivering, *(envelope(trade, MONDAY) for trade in trades))

    as_seller = (await open_trades(desk, seller))["as_seller"]
    assert as_seller["totals"] == [
        {
            "currency": "INR",
            "trades": COUNTERPARTIES_SHOWN + 3,
            "value": f"{(COUNTERPARTIES_SHOWN + 3) * 1000}.00",
            "counterparties": COUNTERPARTIES_SHOWN + 2,
        }
    ]
    listed = as_seller["counterparties"]
    assert len(listed) == COUNTERPARTIES_SHOWN
    assert listed[0] == {
        "counterparty_id": str(regular),
        "trades": 2,
        "value": "2000.00",
        "currency": "INR",
    }
    others = sorted(str(buyer) for buyer in buyers[1:])[: COUNTERPARTIES_SHOWN - 1]
    assert [each["counterparty_id"] for each in listed[1:]] == others
