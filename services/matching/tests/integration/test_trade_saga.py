"""The trade saga on the real PostgreSQL, its participants' replies delivered through matching's
own consumer group: accepted proposals become trades, or give back what they held."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from mandi_contracts import (
    CreditRefused,
    CreditReleased,
    CreditReserved,
    QuantityReleased,
    QuantityReserved,
    ReservationConfirmed,
    ReservationRefused,
)
from mandi_db import IdempotencyKey
from mandi_errors import Conflict, PermissionDenied
from mandi_matching.service_layer import proposals, trades
from mandi_messaging import replies_topic

pytestmark = pytest.mark.integration


class Trading:
    """One accepted proposal's saga, its commands read from the outbox and answered."""

    def __init__(self, service: Any, book: Any, outbox_events: Any) -> None:
        self.service, self.book, self.outbox_events = service, book, outbox_events

    async def proposal(self) -> Any:
        await self.book.catalog()
        self.seller, self.buyer = await self.book.partner(), await self.book.partner()
        self.availability = await self.book.availability(self.seller)
        self.requirement = await self.book.requirement(self.buyer)
        views, _ = await proposals.proposals(
            self.service.deps,
            self.book.operator(),
            requirement_id=self.requirement,
            statuses=None,
            limit=5,
            after=None,
        )
        [self.offered] = views
        return self.offered

    async def accept(self, key: str | None = "click-1") -> Any:
        principal = self.book.staff(self.buyer)
        idempotency = IdempotencyKey(principal.principal_id, key, "fp") if key else None
        answer = await proposals.accept(self.service.deps, principal, self.offered.id, idempotency)
        self.saga_id: UUID = answer.value.id
        return answer

    async def commands(self) -> list[tuple[str, str]]:
        """The (command, step) pairs the saga sent, oldest first."""
        sent = await self.outbox_events(self.book.tenant, "mandi.")
        mine = [
            e for e in sent if e.get("saga_id") == str(self.saga_id) and ".commands" in e["topic"]
        ]
        return [(event["type"].rsplit(".", 1)[0], event["step"]) for event in mine]

    async def answer(self, reply: type, step: str, **fields: Any) -> None:
        ids = {"tenant_id": self.book.tenant, "saga_id": self.saga_id, "step": step}
        if reply in {QuantityReserved, ReservationRefused, ReservationConfirmed, QuantityReleased}:
            ids["availability_id"] = self.availability
            topic = replies_topic("availability")
        else:
            ids["buyer_id"] = self.buyer
            topic = replies_topic("risk")
        await self.book.send(reply(**ids, **fields), topic, self.saga_id)

    async def quantity_reserved(self) -> None:
        await self.answer(QuantityReserved, "reserve-quantity", quantity=Decimal(10000), free=0)

    async def credit_reserved(self) -> None:
        await self.answer(
            CreditReserved,
            "reserve-exposure",
            amount=Decimal(620000),
            currency="INR",
            headroom=Decimal(1),
        )

    async def saga(self) -> Any:
        return await trades.saga(self.service.deps, self.book.operator(), self.saga_id)

    async def trades(self) -> list[Any]:
        views, _ = await trades.trades(
            self.service.deps, self.book.staff(self.buyer), limit=10, after=None
        )
        return views

    async def proposal_status(self) -> tuple[str, str]:
        view = await proposals.proposal(self.service.deps, self.book.operator(), self.offered.id)
        return view.status, view.reason


@pytest.fixture
async def trading(service: Any, book: Any, outbox_events: Any) -> Trading:
    """A proposal of wheat, 100 quintals at 6,200 INR, ready to accept."""
    started = Trading(service, book, outbox_events)
    await started.proposal()
    return started


async def test_the_happy_path_confirms_a_trade_with_quantity_and_exposure_reserved(
    trading: Trading, outbox_events: Any
) -> None:
    await trading.accept()
    assert await trading.commands() == [("mandi.reserve.quantity", "reserve-quantity")]
    await trading.quantity_reserved()
    assert (await trading.commands())[-1] == (
        "mandi.check_and_reserve.exposure",
        "reserve-exposure",
    )
    await trading.credit_reserved()
    assert (await trading.commands())[-1] == ("mandi.confirm.reservation", "confirm")
    [confirm] = await outbox_events(trading.book.tenant, "mandi.confirm.reservation")
    assert confirm["requirement_id"] == str(trading.requirement)  # it fulfils the requirement
    await trading.answer(ReservationConfirmed, "confirm", quantity=Decimal(10000))

    saga = await trading.saga()
    assert (saga.status, [step.status for step in saga.steps]) == ("completed", ["done"] * 3)
    [trade] = await trading.trades()
    assert (trade.buyer_id, trade.seller_id, trade.status) == (
        trading.buyer,
        trading.seller,
        "confirmed",
    )
    assert (trade.quantity, trade.value, trade.currency) == (Decimal(10000), Decimal(620000), "INR")
    assert trade.proposal_id == trading.offered.id
    assert await trading.proposal_status() == ("traded", "")
    [confirmed] = await outbox_events(trading.book.tenant, "mandi.trade.confirmed")
    assert confirmed["trade_id"] == str(trade.id)
    kinds = [event["type"] for event in await outbox_events(trading.book.tenant, "mandi.saga.")]
    assert kinds == [
        "mandi.saga.started.v1",
        "mandi.saga.step_completed.v1",
        "mandi.saga.step_completed.v1",
        "mandi.saga.step_completed.v1",
        "mandi.saga.completed.v1",
    ]


async def test_risk_refusing_releases_the_quantity_and_makes_no_trade(trading: Trading) -> None:
    await trading.accept()
    await trading.quantity_reserved()
    await trading.answer(CreditRefused, "reserve-exposure", reason="over the limit")

    assert (await trading.commands())[-1] == ("mandi.release.quantity", "release-quantity")
    assert (await trading.saga()).status == "compensating"
    await trading.answer(QuantityReleased, "release-quantity", quantity=Decimal(10000))

    assert (await trading.saga()).status == "failed"
    assert await trading.trades() == []
    status, reason = await trading.proposal_status()
    assert status == "failed"
    assert "over the limit" in reason


async def test_an_exhausted_availability_reserves_nothing_and_nothing_is_released(
    trading: Trading,
) -> None:
    await trading.accept()
    await trading.answer(ReservationRefused, "reserve-quantity", reason="Only 0 kg are free")

    assert (await trading.saga()).status == "failed"
    assert await trading.commands() == [("mandi.reserve.quantity", "reserve-quantity")]
    assert await trading.trades() == []


async def test_a_timeout_compensates_and_a_late_reservation_is_released_too(
    trading: Trading, service: Any
) -> None:
    await trading.accept()
    await trading.quantity_reserved()
    later = service.deps.clock.now() + timedelta(minutes=5)
    async with service.deps.uow(trading.book.tenant) as uow:
        assert await service.deps.sagas.expire_due(uow, later, 10) == 1
        await uow.commit()
    assert (await trading.commands())[-1] == ("mandi.release.quantity", "release-quantity")
    await trading.answer(QuantityReleased, "release-quantity", quantity=Decimal(10000))
    assert (await trading.saga()).status == "failed"

    await trading.credit_reserved()  # risk was down; its answer arrives after the saga gave up

    assert (await trading.commands())[-1] == ("mandi.release.exposure", "release-exposure")
    await trading.answer(CreditReleased, "release-exposure", amount=Decimal(620000), currency="INR")
    saga = await trading.saga()
    assert (saga.status, [step.status for step in saga.steps]) == (
        "failed",
        ["undone", "undone", "waiting"],
    )
    assert await trading.trades() == []


async def test_duplicated_and_reordered_replies_change_nothing(trading: Trading) -> None:
    await trading.accept()
    await trading.credit_reserved()  # before it was asked for: not this step's turn
    await trading.quantity_reserved()
    await trading.quantity_reserved()
    await trading.credit_reserved()
    await trading.credit_reserved()
    await trading.answer(ReservationConfirmed, "confirm", quantity=Decimal(10000))
    await trading.answer(ReservationConfirmed, "confirm", quantity=Decimal(10000))

    assert len(await trading.commands()) == 3
    assert (await trading.saga()).status == "completed"
    assert len(await trading.trades()) == 1


async def test_accepting_twice_with_one_key_starts_one_saga(trading: Trading) -> None:
    first = await trading.accept("double-click")
    again = await trading.accept("double-click")

    assert (first.replayed, again.replayed) == (False, True)
    assert first.value.id == again.value.id
    assert await trading.commands() == [("mandi.reserve.quantity", "reserve-quantity")]
    with pytest.raises(Conflict):
        await trading.accept("another-key")


async def test_cancelling_gives_back_exposure_then_quantity(
    trading: Trading, service: Any, outbox_events: Any
) -> None:
    await trading.accept()
    await trading.quantity_reserved()
    await trading.credit_reserved()
    await trading.answer(ReservationConfirmed, "confirm", quantity=Decimal(10000))
    [trade] = await trading.trades()
    trade_saga = trading.saga_id

    answer = await trades.cancel(
        service.deps, trading.book.staff(trading.seller), trade.id, "the truck broke down", None
    )
    trading.saga_id = answer.value.id
    [release] = await outbox_events(trading.book.tenant, "mandi.release.exposure")
    assert (release["step"], release["reserved_by"]) == ("release-exposure", str(trade_saga))
    await trading.answer(CreditReleased, "release-exposure", amount=Decimal(620000), currency="INR")
    await trading.answer(QuantityReleased, "release-quantity", quantity=Decimal(10000))

    [cancelled] = await trading.trades()
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "the truck broke down")
    [event] = await outbox_events(trading.book.tenant, "mandi.trade.cancelled")
    assert event["trade_id"] == str(trade.id)


async def test_a_compensation_unanswered_too_often_waits_for_an_operator(
    trading: Trading, service: Any
) -> None:
    await trading.accept()
    await trading.quantity_reserved()
    await trading.answer(CreditRefused, "reserve-exposure", reason="over the limit")
    now = service.deps.clock.now()
    for attempt in range(1, 7):
        async with service.deps.uow(trading.book.tenant) as uow:
            await service.deps.sagas.expire_due(uow, now + timedelta(minutes=attempt), 10)
            await uow.commit()
    assert (await trading.saga()).status == "needs_operator"
    releases = [c for c in await trading.commands() if c[0] == "mandi.release.quantity"]
    assert len(releases) == 5

    retried = await trades.retry_saga(
        service.deps, trading.book.operator(), trading.saga_id, "db back"
    )
    assert retried.status == "compensating"
    await trading.answer(QuantityReleased, "release-quantity", quantity=Decimal(10000))
    assert (await trading.saga()).status == "failed"
    history = await trades.saga_history(service.deps, trading.book.operator(), trading.saga_id)
    kinds = [entry.kind for entry in history]
    assert kinds.count("needs_operator") == 1
    assert "operator_retry" in kinds
    assert kinds[-1] == "saga_failed"


async def test_settling_gives_the_buyers_credit_back_and_keeps_the_quantity_sold(
    trading: Trading, service: Any, outbox_events: Any
) -> None:
    await trading.accept()
    await trading.quantity_reserved()
    await trading.credit_reserved()
    await trading.answer(ReservationConfirmed, "confirm", quantity=Decimal(10000))
    [trade] = await trading.trades()
    trade_saga = trading.saga_id
    with pytest.raises(PermissionDenied):  # a party does not settle its own trade
        await trades.settle(service.deps, trading.book.staff(trading.buyer), trade.id, None)

    settled = await trades.settle(service.deps, trading.book.operator(), trade.id, None)

    assert settled.value.status == "settled"
    [release] = await outbox_events(trading.book.tenant, "mandi.release.")
    assert (release["type"], release["reserved_by"]) == (
        "mandi.release.exposure.v1",
        str(trade_saga),
    )
    trading.saga_id = UUID(release["saga_id"])
    await trading.answer(CreditReleased, "release-exposure", amount=Decimal(620000), currency="INR")
    assert (await trading.saga()).status == "completed"
    [event] = await outbox_events(trading.book.tenant, "mandi.trade.settled")
    assert (event["trade_id"], Decimal(event["value"])) == (str(trade.id), Decimal(620000))
    with pytest.raises(Conflict):
        await trades.cancel(service.deps, trading.book.operator(), trade.id, "too late", None)
