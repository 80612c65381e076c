"""The order book's sweeps on the real PostgreSQL: offers past their validity expire, and
reservations past their saga's deadline are given back and the saga told, unless the saga
confirmed them; a second run finds nothing more to do."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from mandi_availability.domain.offers import OfferKind, OfferStatus
from mandi_availability.service_layer import reservations
from mandi_availability.service_layer.sweeps import (
    DEADLINE_STEP,
    expire_offers,
    release_overdue_reservations,
)
from mandi_contracts import ConfirmReservation, ReserveQuantity
from mandi_testing import TestDatabase
from mandi_testing.fakes import FakeClock

pytestmark = pytest.mark.integration

START = datetime.now(UTC).replace(microsecond=0)


async def _state(deps: Any, tenant: UUID, availability: UUID) -> tuple[OfferStatus, Decimal]:
    async with deps.uow(tenant) as uow:
        found = await uow.offers.get(OfferKind.AVAILABILITY, availability)
    return found.status, found.reserved


async def _outbox(database: TestDatabase, tenant: UUID) -> list[tuple[str, dict[str, Any]]]:
    connection = await asyncpg.connect(database.owner_url)
    try:
        rows = await connection.fetch(
            "SELECT event_type, payload FROM outbox WHERE tenant_id::text = $1 ORDER BY id",
            str(tenant),
        )
    finally:
        await connection.close()
    return [(row["event_type"], json.loads(row["payload"])) for row in rows]


async def test_an_offer_past_its_validity_expires_once(
    service: Any, database: TestDatabase, publish_availability: Any
) -> None:
    clock = FakeClock(START)
    deps, tenant = replace(service.deps, clock=clock), uuid4()
    availability = await publish_availability(
        deps, tenant, bales=10, lot_bales=1, valid_until=START + timedelta(hours=1)
    )

    assert await expire_offers(deps) == 0  # still valid
    clock.advance(timedelta(hours=2))
    assert await expire_offers(deps) >= 1
    assert await _state(deps, tenant, availability) == (OfferStatus.EXPIRED, Decimal(0))
    await expire_offers(deps)  # again: nothing of it left to expire
    kinds = [kind for kind, _ in await _outbox(database, tenant)]
    assert kinds.count("mandi.availability.expired.v1") == 1


async def test_a_reservation_past_its_deadline_is_given_back_and_the_saga_told(
    service: Any, database: TestDatabase, publish_availability: Any
) -> None:
    clock = FakeClock(START)
    deps, tenant, saga = replace(service.deps, clock=clock), uuid4(), uuid4()
    availability = await publish_availability(
        deps, tenant, bales=10, lot_bales=1, valid_until=START + timedelta(days=7)
    )
    command = ReserveQuantity(
        tenant_id=tenant,
        saga_id=saga,
        step="reserve",
        availability_id=availability,
        quantity=Decimal(340),
        deadline=START + timedelta(minutes=5),
    )
    async with deps.uow(tenant) as uow:
        await reservations.reserve(uow, command, START)
        await uow.commit()
    assert await _state(deps, tenant, availability) == (
        OfferStatus.PARTIALLY_RESERVED,
        Decimal(340),
    )

    clock.advance(timedelta(minutes=10))
    assert await release_overdue_reservations(deps) >= 1
    assert await _state(deps, tenant, availability) == (OfferStatus.PUBLISHED, Decimal(0))
    releases = [
        body
        for kind, body in await _outbox(database, tenant)
        if kind == "mandi.quantity.released.v1"
    ]
    assert [(body["step"], Decimal(body["quantity"])) for body in releases] == [
        (DEADLINE_STEP, Decimal(340))
    ]
    await release_overdue_reservations(deps)  # nothing more is held: nothing more is released
    assert await _state(deps, tenant, availability) == (OfferStatus.PUBLISHED, Decimal(0))


async def test_a_confirmed_reservation_is_kept_when_its_deadline_passes(
    service: Any, database: TestDatabase, publish_availability: Any
) -> None:
    clock = FakeClock(START)
    deps, tenant, saga = replace(service.deps, clock=clock), uuid4(), uuid4()
    availability = await publish_availability(
        deps, tenant, bales=10, lot_bales=1, valid_until=START + timedelta(days=7)
    )
    step = {"tenant_id": tenant, "saga_id": saga, "availability_id": availability}
    reserve = ReserveQuantity(
        **step, step="reserve", quantity=Decimal(340), deadline=START + timedelta(minutes=5)
    )
    async with deps.uow(tenant) as uow:
        await reservations.reserve(uow, reserve, START)
        await reservations.confirm(uow, ConfirmReservation(**step, step="confirm"), START)
        await uow.commit()

    clock.advance(timedelta(minutes=10))
    await release_overdue_reservations(deps)

    assert await _state(deps, tenant, availability) == (
        OfferStatus.PARTIALLY_RESERVED,
        Decimal(340),
    )
    outbox = await _outbox(database, tenant)
    assert [
        (kind, Decimal(body["quantity"]))
        for kind, body in outbox
        if kind.startswith(("mandi.reservation.", "mandi.quantity."))
    ] == [
        ("mandi.quantity.reserved.v1", Decimal(340)),
        ("mandi.reservation.confirmed.v1", Decimal(340)),
    ]
    assert "mandi.availability.released.v1" not in [kind for kind, _ in outbox]
