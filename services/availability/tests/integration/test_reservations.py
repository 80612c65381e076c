"""The availability's part in the trade saga, on the real PostgreSQL: reserve, confirm and
release commands through the typed consumer (FastStream's in-memory Kafka) or its use cases,
each answered on the reply topic; a step sent again answered the same; never more reserved than
offered, however many sagas reserve at once; a confirmed reservation given back only by a
release, the saga's own or a cancellation's naming it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from mandi_availability.domain.offers import OfferKind, OfferStatus
from mandi_availability.service_layer import reservations
from mandi_contracts import EVENTS, ConfirmReservation, ReleaseQuantity, ReserveQuantity
from mandi_messaging import commands_topic
from mandi_testing import TestDatabase, as_tenant
from mandi_testing.messaging import DeadLetterRecorder, envelope_of, publish_envelope

pytestmark = pytest.mark.integration

COMMANDS = commands_topic("availability")
LOT = Decimal(1700)  # 10 bales


def _reserve(
    tenant: UUID, availability: UUID, saga: UUID, quantity: Decimal = LOT
) -> ReserveQuantity:
    deadline = datetime.now(UTC) + timedelta(minutes=5)
    return ReserveQuantity(
        tenant_id=tenant,
        saga_id=saga,
        step="reserve",
        availability_id=availability,
        quantity=quantity,
        deadline=deadline,
    )


async def _send(broker: Any, command: Any, tenant: UUID) -> None:
    envelope = envelope_of(
        command, subject=str(command.availability_id), registry=EVENTS, tenant_id=tenant
    )
    await publish_envelope(broker, COMMANDS, envelope)


async def _outbox(
    database: TestDatabase, tenant: UUID, topic: str
) -> list[tuple[str, dict[str, Any]]]:
    connection = await asyncpg.connect(database.owner_url)
    try:
        rows = await connection.fetch(
            "SELECT event_type, payload FROM outbox"
            " WHERE tenant_id::text = $1 AND topic = $2 ORDER BY id",
            str(tenant),
            topic,
        )
    finally:
        await connection.close()
    return [(row["event_type"], json.loads(row["payload"])) for row in rows]


async def _free(service: Any, tenant: UUID, availability: UUID) -> tuple[Decimal, Decimal]:
    async with service.deps.uow(tenant) as uow:
        found = await uow.offers.get(OfferKind.AVAILABILITY, availability)
    return found.reserved, found.free


async def _steps(
    database: TestDatabase, tenant: UUID, saga: UUID
) -> dict[str, tuple[str, str, Decimal]]:
    """The saga's applied steps as the table holds them: step -> (kind, status, quantity)."""
    rows = await as_tenant(
        database.owner_url,
        tenant,
        lambda connection: connection.fetch(
            "SELECT step, kind, status, quantity FROM reservations WHERE saga_id = $1", saga
        ),
    )
    return {row["step"]: (row["kind"], row["status"], row["quantity"]) for row in rows}


async def _apply(service: Any, tenant: UUID, command: Any, now: datetime) -> None:
    """Applies a command as the consumer does, in one unit of work, at the given time."""
    handle = {
        ReserveQuantity: reservations.reserve,
        ConfirmReservation: reservations.confirm,
        ReleaseQuantity: reservations.release,
    }[type(command)]
    async with service.deps.uow(tenant) as uow:
        await handle(uow, command, now)
        await uow.commit()


def _saga_step(tenant: UUID, availability: UUID, saga: UUID, step: str) -> dict[str, Any]:
    return {"tenant_id": tenant, "saga_id": saga, "step": step, "availability_id": availability}


async def _state(service: Any, tenant: UUID, availability: UUID) -> tuple[OfferStatus, Decimal]:
    async with service.deps.uow(tenant) as uow:
        found = await uow.offers.get(OfferKind.AVAILABILITY, availability)
    return found.status, found.free


async def test_a_reservation_is_answered_and_a_repeated_step_answered_the_same(
    service: Any, database: TestDatabase, delivering: Any, publish_availability: Any
) -> None:
    tenant, saga = uuid4(), uuid4()
    availability = await publish_availability(service.deps, tenant)
    dead_letters = DeadLetterRecorder("availability")
    async with delivering(dead_letters) as broker:
        await _send(broker, _reserve(tenant, availability, saga), tenant)
        await _send(
            broker, _reserve(tenant, availability, saga), tenant
        )  # a new message, the same step
    assert dead_letters.records == []
    assert await _free(service, tenant, availability) == (LOT, Decimal(15300))
    replies = await _outbox(database, tenant, "mandi.availability.replies")
    assert [kind for kind, _ in replies] == ["mandi.quantity.reserved.v1"] * 2
    assert replies[0][1] == replies[1][1]
    events = await _outbox(database, tenant, "mandi.availability.events")
    assert [kind for kind, _ in events].count("mandi.availability.reserved.v1") == 1


async def test_release_restores_the_quantity_exactly_and_releasing_twice_releases_once(
    service: Any, database: TestDatabase, delivering: Any, publish_availability: Any
) -> None:
    tenant, saga = uuid4(), uuid4()
    availability = await publish_availability(service.deps, tenant)
    release = {"tenant_id": tenant, "saga_id": saga, "availability_id": availability}
    async with delivering(DeadLetterRecorder("availability")) as broker:
        await _send(broker, _reserve(tenant, availability, saga, Decimal("1700.5")), tenant)
        await _send(broker, ReleaseQuantity(**release, step="release"), tenant)
        await _send(broker, ReleaseQuantity(**release, step="release-again"), tenant)
    assert await _free(service, tenant, availability) == (Decimal(0), Decimal(17000))
    replies = await _outbox(database, tenant, "mandi.availability.replies")
    released = [
        Decimal(body["quantity"]) for kind, body in replies if kind == "mandi.quantity.released.v1"
    ]
    assert released == [Decimal("1700.5"), Decimal(0)]


async def test_a_reservation_beyond_what_is_free_is_refused_with_the_reason(
    service: Any, database: TestDatabase, publish_availability: Any
) -> None:
    tenant = uuid4()
    availability = await publish_availability(service.deps, tenant)
    async with service.deps.uow(tenant) as uow:
        await reservations.reserve(
            uow, _reserve(tenant, availability, uuid4(), Decimal(20000)), datetime.now(UTC)
        )
        await uow.commit()
    [(kind, body)] = await _outbox(database, tenant, "mandi.availability.replies")
    assert kind == "mandi.reservation.refused.v1"
    assert "17000 kg are free" in body["reason"]
    assert await _free(service, tenant, availability) == (Decimal(0), Decimal(17000))


async def test_fifty_sagas_reserving_at_once_never_take_more_than_is_offered(
    service: Any, publish_availability: Any
) -> None:
    tenant = uuid4()
    availability = await publish_availability(service.deps, tenant)

    async def one_saga() -> None:
        async with service.deps.uow(tenant) as uow:
            await reservations.reserve(
                uow, _reserve(tenant, availability, uuid4()), datetime.now(UTC)
            )
            await uow.commit()

    await asyncio.gather(*(one_saga() for _ in range(50)))
    reserved, free = await _free(service, tenant, availability)
    assert (reserved, free) == (Decimal(17000), Decimal(0))  # ten lots, and forty refusals
    async with service.deps.uow(tenant) as uow:
        found = await uow.offers.get(OfferKind.AVAILABILITY, availability)
    assert found.version == 2 + 10  # published, then ten reservations: each one saved once


async def test_a_confirmed_reservation_is_answered_with_its_quantity_and_a_repeat_the_same(
    service: Any, database: TestDatabase, delivering: Any, publish_availability: Any
) -> None:
    tenant, saga = uuid4(), uuid4()
    availability = await publish_availability(service.deps, tenant)
    confirm = ConfirmReservation(**_saga_step(tenant, availability, saga, "confirm"))
    dead_letters = DeadLetterRecorder("availability")
    async with delivering(dead_letters) as broker:
        await _send(broker, _reserve(tenant, availability, saga), tenant)
        await _send(broker, confirm, tenant)
        await _send(broker, confirm, tenant)  # a new message, the same step
        await _send(broker, confirm.model_copy(update={"step": "confirm-again"}), tenant)

    assert dead_letters.records == []
    replies = await _outbox(database, tenant, "mandi.availability.replies")
    assert [kind for kind, _ in replies] == [
        "mandi.quantity.reserved.v1",
        *["mandi.reservation.confirmed.v1"] * 3,
    ]
    assert replies[1][1] == replies[2][1]
    assert [Decimal(body["quantity"]) for _, body in replies[1:]] == [LOT] * 3
    assert await _steps(database, tenant, saga) == {
        "reserve": ("reserve", "confirmed", LOT),
        "confirm": ("confirm", "confirmed", LOT),
        "confirm-again": ("confirm", "confirmed", LOT),
    }
    # Sold to the trade: it stays reserved on the availability, and nothing was released.
    assert await _free(service, tenant, availability) == (LOT, Decimal(15300))
    events = [kind for kind, _ in await _outbox(database, tenant, "mandi.availability.events")]
    assert "mandi.availability.released.v1" not in events


async def test_a_confirm_after_the_deadline_passed_is_refused_and_confirms_nothing(
    service: Any, database: TestDatabase, publish_availability: Any
) -> None:
    tenant, saga = uuid4(), uuid4()
    availability = await publish_availability(service.deps, tenant)
    reserve = _reserve(tenant, availability, saga)
    await _apply(service, tenant, reserve, datetime.now(UTC))

    confirm = ConfirmReservation(**_saga_step(tenant, availability, saga, "confirm"))
    await _apply(service, tenant, confirm, reserve.deadline + timedelta(seconds=1))

    [_, (kind, body)] = await _outbox(database, tenant, "mandi.availability.replies")
    assert kind == "mandi.reservation.refused.v1"
    assert "deadline" in body["reason"]
    assert (await _steps(database, tenant, saga))["reserve"] == ("reserve", "reserved", LOT)
    assert await _free(service, tenant, availability) == (LOT, Decimal(15300))
    async with service.deps.uow(tenant) as uow:  # still the sweep's to give back
        overdue = await uow.reservations.overdue(reserve.deadline + timedelta(seconds=1), 1000)
    assert [(found.saga_id, found.step) for found in overdue if found.saga_id == saga] == [
        (saga, "reserve")
    ]


async def test_a_confirm_after_a_release_is_refused_and_confirms_nothing(
    service: Any, database: TestDatabase, publish_availability: Any
) -> None:
    tenant, saga = uuid4(), uuid4()
    availability = await publish_availability(service.deps, tenant)
    now = datetime.now(UTC)
    await _apply(service, tenant, _reserve(tenant, availability, saga), now)
    release = ReleaseQuantity(**_saga_step(tenant, availability, saga, "release-quantity"))
    await _apply(service, tenant, release, now)

    confirm = ConfirmReservation(**_saga_step(tenant, availability, saga, "confirm"))
    await _apply(service, tenant, confirm, now)

    *_, (kind, body) = await _outbox(database, tenant, "mandi.availability.replies")
    assert (kind, body["reason"]) == (
        "mandi.reservation.refused.v1",
        "Nothing of the saga's is reserved any more.",
    )
    assert await _steps(database, tenant, saga) == {
        "reserve": ("reserve", "released", LOT),
        "release-quantity": ("release", "released", LOT),
        "confirm": ("confirm", "refused", Decimal(0)),
    }
    assert await _free(service, tenant, availability) == (Decimal(0), Decimal(17000))


async def test_a_release_under_its_own_step_gives_a_confirmed_reservation_back(
    service: Any, database: TestDatabase, publish_availability: Any
) -> None:
    tenant, saga, other = uuid4(), uuid4(), uuid4()
    availability = await publish_availability(service.deps, tenant, bales=20)
    now = datetime.now(UTC)
    for each in (saga, other):  # two lots: all of it
        await _apply(service, tenant, _reserve(tenant, availability, each), now)
        confirm = ConfirmReservation(**_saga_step(tenant, availability, each, "confirm"))
        await _apply(service, tenant, confirm, now)
    assert await _state(service, tenant, availability) == (OfferStatus.EXHAUSTED, Decimal(0))

    release = ReleaseQuantity(**_saga_step(tenant, availability, saga, "release-quantity"))
    await _apply(service, tenant, release, now)

    assert await _state(service, tenant, availability) == (
        OfferStatus.PARTIALLY_RESERVED,
        LOT,
    )
    *_, (kind, body) = await _outbox(database, tenant, "mandi.availability.replies")
    assert (kind, body["step"], Decimal(body["quantity"])) == (
        "mandi.quantity.released.v1",
        "release-quantity",
        LOT,
    )
    *_, (kind, event) = await _outbox(database, tenant, "mandi.availability.events")
    assert kind == "mandi.availability.released.v1"
    assert (event["saga_id"], Decimal(event["quantity"]), Decimal(event["free"])) == (
        str(saga),
        LOT,
        LOT,
    )
    assert (await _steps(database, tenant, other))["reserve"] == ("reserve", "confirmed", LOT)


async def test_a_release_naming_another_saga_gives_back_its_reservation_once(
    service: Any, database: TestDatabase, publish_availability: Any
) -> None:
    tenant, trade, cancellation = uuid4(), uuid4(), uuid4()
    availability = await publish_availability(service.deps, tenant, bales=10)  # one lot
    now = datetime.now(UTC)
    await _apply(service, tenant, _reserve(tenant, availability, trade), now)
    confirm = ConfirmReservation(**_saga_step(tenant, availability, trade, "confirm"))
    await _apply(service, tenant, confirm, now)
    release = ReleaseQuantity(
        **_saga_step(tenant, availability, cancellation, "release-quantity"), reserved_by=trade
    )

    await _apply(service, tenant, release, now)
    await _apply(service, tenant, release, now)  # sent again: answered the same
    await _apply(service, tenant, release.model_copy(update={"step": "release-again"}), now)

    assert await _state(service, tenant, availability) == (OfferStatus.PUBLISHED, LOT)
    replies = await _outbox(database, tenant, "mandi.availability.replies")
    answers = [
        (body["saga_id"], body["step"], Decimal(body["quantity"]))
        for kind, body in replies
        if kind == "mandi.quantity.released.v1"
    ]
    assert answers == [
        (str(cancellation), "release-quantity", LOT),
        (str(cancellation), "release-quantity", LOT),
        (str(cancellation), "release-again", Decimal(0)),
    ]
    released = [
        body
        for kind, body in await _outbox(database, tenant, "mandi.availability.events")
        if kind == "mandi.availability.released.v1"
    ]
    assert [(body["saga_id"], Decimal(body["quantity"])) for body in released] == [
        (str(trade), LOT)
    ]
    assert await _steps(database, tenant, trade) == {
        "reserve": ("reserve", "released", LOT),
        "confirm": ("confirm", "confirmed", LOT),
    }
    assert await _steps(database, tenant, cancellation) == {
        "release-quantity": ("release", "released", LOT),
        "release-again": ("release", "released", Decimal(0)),
    }


async def test_a_release_sent_under_the_reserve_step_name_is_refused_for_good(
    service: Any, database: TestDatabase, delivering: Any, publish_availability: Any
) -> None:
    tenant, saga = uuid4(), uuid4()
    availability = await publish_availability(service.deps, tenant)
    dead_letters = DeadLetterRecorder("availability")
    async with delivering(dead_letters) as broker:
        await _send(broker, _reserve(tenant, availability, saga), tenant)
        await _send(
            broker, ReleaseQuantity(**_saga_step(tenant, availability, saga, "reserve")), tenant
        )

    assert [reason for _, reason in dead_letters.records] == ["PermanentFailure"]
    assert await _free(service, tenant, availability) == (LOT, Decimal(15300))
    replies = await _outbox(database, tenant, "mandi.availability.replies")
    assert [kind for kind, _ in replies] == ["mandi.quantity.reserved.v1"]


async def test_a_confirm_naming_the_requirement_fulfils_it_once(
    service: Any, database: TestDatabase, publish_availability: Any
) -> None:
    tenant, saga = uuid4(), uuid4()
    availability = await publish_availability(service.deps, tenant)
    requirement = await publish_availability(service.deps, tenant, kind=OfferKind.REQUIREMENT)
    now = datetime.now(UTC)
    await _apply(service, tenant, _reserve(tenant, availability, saga), now)
    ids = _saga_step(tenant, availability, saga, "confirm")
    await _apply(service, tenant, ConfirmReservation(**ids, requirement_id=requirement), now)
    again = ConfirmReservation(**{**ids, "step": "confirm-again"}, requirement_id=requirement)
    await _apply(service, tenant, again, now)

    async with service.deps.uow(tenant) as uow:
        found = await uow.offers.get(OfferKind.REQUIREMENT, requirement)
    assert found.status is OfferStatus.FULFILLED
    events = await _outbox(database, tenant, "mandi.availability.events")
    fulfilled = [body for kind, body in events if kind == "mandi.requirement.fulfilled.v1"]
    assert [body["requirement_id"] for body in fulfilled] == [str(requirement)]
