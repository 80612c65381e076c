"""Risk as a participant of the trade saga: reserve a trade's value against the buyer's limit,
never beyond it under concurrency, each step once, and release exactly what was reserved, the
saga's own or, for a cancellation, the trade saga's it names."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from mandi_contracts import EVENTS, CheckAndReserveExposure, ReleaseExposure
from mandi_risk.domain.credit import HoldStatus
from mandi_risk.service_layer.exposure import release_exposure, reserve_exposure
from mandi_testing.messaging import DeadLetterRecorder, envelope_of, publish_envelope

pytestmark = pytest.mark.integration


def reserve_command(desk: Any, buyer: UUID, seller: UUID, amount: str, **ids: Any) -> Any:
    return CheckAndReserveExposure(
        tenant_id=desk.tenant,
        saga_id=ids.get("saga_id", uuid4()),
        step=ids.get("step", "reserve-credit"),
        buyer_id=buyer,
        seller_id=seller,
        amount=Decimal(amount),
        currency="INR",
    )


async def apply(desk: Any, command: Any) -> None:
    """Applies a command as the consumer does: in one unit of work of the tenant."""
    handle = reserve_exposure if isinstance(command, CheckAndReserveExposure) else release_exposure
    async with desk.deps.uow(desk.tenant) as uow:
        await handle(uow, command, desk.deps.clock.now())
        await uow.commit()


async def exposure_of(desk: Any, partner: UUID) -> Decimal:
    async with desk.deps.uow(desk.tenant) as uow:
        found = await uow.exposure.get(partner)
    return found.open if found else Decimal(0)


async def test_a_reservation_that_fits_is_made_announced_and_answered(
    desk: Any, outbox_events: Any
) -> None:
    buyer = await desk.partner(limit=Decimal(1_000_000))
    seller = await desk.partner()
    command = reserve_command(desk, buyer, seller, "400000.00")

    await apply(desk, command)

    assert await exposure_of(desk, buyer) == Decimal("400000.00")
    [reply] = await outbox_events(desk.tenant, "mandi.credit.")
    assert reply["type"] == "mandi.credit.reserved.v1"
    assert (reply["saga_id"], Decimal(reply["headroom"])) == (str(command.saga_id), 600000)
    [event] = await outbox_events(desk.tenant, "mandi.exposure.")
    assert event["type"] == "mandi.exposure.reserved.v1"
    assert (event["counterparty_id"], Decimal(event["exposure"])) == (str(seller), 400000)


@pytest.mark.parametrize(
    ("limit", "currency", "reason"),
    [
        (None, "INR", "no credit limit"),
        (Decimal(100_000), "INR", "exceeds the buyer's headroom of 100000"),
        (Decimal(1_000_000), "USD", "the buyer's limit is in INR"),
    ],
)
async def test_a_reservation_that_does_not_fit_is_refused_with_why(
    desk: Any, outbox_events: Any, limit: Decimal | None, currency: str, reason: str
) -> None:
    buyer = await desk.partner(limit=limit)
    command = reserve_command(desk, buyer, uuid4(), "100000.01").model_copy(
        update={"currency": currency}
    )

    await apply(desk, command)

    assert await exposure_of(desk, buyer) == 0
    [reply] = await outbox_events(desk.tenant, "mandi.credit.")
    assert reply["type"] == "mandi.credit.refused.v1"
    assert reason in reply["reason"]


async def test_concurrent_sagas_of_one_buyer_never_take_it_past_its_limit(desk: Any) -> None:
    buyer = await desk.partner(limit=Decimal(1_000_000))
    seller = await desk.partner()
    commands = [reserve_command(desk, buyer, seller, "150000.00") for _ in range(20)]

    await asyncio.gather(*(apply(desk, command) for command in commands))

    # Six fit under a million (900,000); the other fourteen are refused, whatever the order.
    assert await exposure_of(desk, buyer) == Decimal("900000.00")
    async with desk.deps.uow(desk.tenant) as uow:
        holds = [await uow.exposure.hold(c.saga_id, c.step) for c in commands]
    assert (
        sorted(hold.status.value for hold in holds if hold) == ["refused"] * 14 + ["reserved"] * 6
    )


async def test_a_step_sent_again_is_answered_the_same_and_reserves_once(
    desk: Any, outbox_events: Any
) -> None:
    buyer = await desk.partner(limit=Decimal(1_000_000))
    command = reserve_command(desk, buyer, uuid4(), "250000.00")

    await apply(desk, command)
    await apply(desk, command)  # a redelivery with another message id: the same step

    assert await exposure_of(desk, buyer) == Decimal("250000.00")
    first, second = await outbox_events(desk.tenant, "mandi.credit.")
    assert first == second
    assert len(await outbox_events(desk.tenant, "mandi.exposure.")) == 1


async def test_release_gives_back_exactly_what_was_reserved_and_only_once(
    desk: Any, outbox_events: Any
) -> None:
    buyer = await desk.partner(limit=Decimal(1_000_000))
    seller = await desk.partner()
    saga = uuid4()
    await apply(desk, reserve_command(desk, buyer, uuid4(), "100000.00"))  # another saga's
    await apply(desk, reserve_command(desk, buyer, seller, "333333.33", saga_id=saga))
    release = ReleaseExposure(tenant_id=desk.tenant, saga_id=saga, step="release", buyer_id=buyer)

    await apply(desk, release)
    await apply(desk, release.model_copy(update={"step": "release-again"}))

    assert await exposure_of(desk, buyer) == Decimal("100000.00")
    *_, released, released_again = await outbox_events(desk.tenant, "mandi.credit.")
    assert released["type"] == "mandi.credit.released.v1"
    assert Decimal(released["amount"]) == Decimal("333333.33")
    assert Decimal(released_again["amount"]) == 0  # nothing held any more


async def test_a_release_naming_another_saga_gives_back_its_hold_once_under_its_own_step(
    desk: Any, outbox_events: Any
) -> None:
    buyer = await desk.partner(limit=Decimal(1_000_000))
    seller = await desk.partner()
    trade, cancellation = uuid4(), uuid4()
    await apply(desk, reserve_command(desk, buyer, uuid4(), "100000.00"))  # another saga's
    await apply(desk, reserve_command(desk, buyer, seller, "250000.00", saga_id=trade))
    release = ReleaseExposure(
        tenant_id=desk.tenant,
        saga_id=cancellation,
        step="release-exposure",
        buyer_id=buyer,
        reserved_by=trade,
    )

    await apply(desk, release)
    await apply(desk, release)  # sent again: answered the same
    await apply(desk, release.model_copy(update={"step": "release-again"}))

    assert await exposure_of(desk, buyer) == Decimal("100000.00")
    answers = [
        (reply["saga_id"], reply["step"], Decimal(reply["amount"]))
        for reply in await outbox_events(desk.tenant, "mandi.credit.released")
    ]
    assert answers == [
        (str(cancellation), "release-exposure", Decimal("250000.00")),
        (str(cancellation), "release-exposure", Decimal("250000.00")),
        (str(cancellation), "release-again", Decimal(0)),
    ]
    [event] = await outbox_events(desk.tenant, "mandi.exposure.released")
    assert (event["saga_id"], event["counterparty_id"], Decimal(event["exposure"])) == (
        str(trade),
        str(seller),
        Decimal("100000.00"),
    )
    async with desk.deps.uow(desk.tenant) as uow:
        held = await uow.exposure.hold(trade, "reserve-credit")
        recorded = await uow.exposure.hold(cancellation, "release-exposure")
    assert held.status is HoldStatus.RELEASED
    assert (recorded.status, recorded.amount) == (HoldStatus.RELEASED, Decimal("250000.00"))


async def test_the_consumer_applies_commands_from_kafka(
    desk: Any, outbox_events: Any, delivering: Any
) -> None:
    buyer = await desk.partner(limit=Decimal(500_000))
    command = reserve_command(desk, buyer, uuid4(), "500000.00")
    dead_letters = DeadLetterRecorder("risk")

    async with delivering(dead_letters) as broker:
        envelope = envelope_of(command, subject=str(buyer), registry=EVENTS, tenant_id=desk.tenant)
        await publish_envelope(broker, "mandi.risk.commands", envelope)

    assert dead_letters.records == []
    assert await exposure_of(desk, buyer) == Decimal("500000.00")
    [reply] = await outbox_events(desk.tenant, "mandi.credit.")
    assert reply["type"] == "mandi.credit.reserved.v1"
