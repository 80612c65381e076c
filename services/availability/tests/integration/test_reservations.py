"""The availability's part in the trade saga, on the real PostgreSQL: reserve and release
commands through the typed consumer (FastStream's in-memory Kafka), each answered on the reply
topic; a step sent again answered the same; never more reserved than offered, however many
sagas reserve at once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from mandi_availability.domain.offers import OfferKind
from mandi_availability.service_layer import reservations
from mandi_contracts import EVENTS, ReleaseQuantity, ReserveQuantity
from mandi_messaging import commands_topic
from mandi_testing import TestDatabase
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
