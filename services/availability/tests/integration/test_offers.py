"""Availabilities and requirements on the real PostgreSQL (with PostGIS): drafts, the book, who
sees and changes what, and the events each step announces through the outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from mandi_availability.domain.catalog import Commodity, QualityParameter
from mandi_availability.domain.offers import DeliveryPlace, OfferKind, OfferStatus
from mandi_availability.domain.quantities import Money, UnitTable
from mandi_availability.domain.standing import Standing
from mandi_availability.service_layer import catalog, offers
from mandi_availability.service_layer.offers import OfferDraft
from mandi_availability.service_layer.standing import record_standing
from mandi_errors import Conflict, InvalidInput, NotFound, PermissionDenied, PreconditionFailed
from mandi_security import Principal, PrincipalType
from mandi_testing import TestDatabase, as_tenant

pytestmark = pytest.mark.integration

AVAILABILITY, REQUIREMENT = OfferKind.AVAILABILITY, OfferKind.REQUIREMENT
RAJKOT = DeliveryPlace(22.30, 70.80, state="Gujarat", city="Rajkot", label="Rajkot APMC")


def _draft(**changes: Any) -> OfferDraft:
    fields: dict[str, Any] = {
        "commodity": "cotton",
        "grade": "Shankar-6",
        "quality": {"trash_pct": Decimal("2.5")},
        "quantity": Decimal(100),
        "unit": "bale",
        "minimum_lot": Decimal(10),
        "price": Money("INR", Decimal("56000.00")),
        "price_unit": "candy",
        "place": RAJKOT,
        "delivery_from": date(2030, 1, 1),
        "delivery_to": date(2030, 1, 15),
        "valid_until": datetime.now(UTC) + timedelta(days=7),
    }
    return OfferDraft(**{**fields, **changes})


class Desk:
    """One tenant's catalog with cotton, an operator, and principals of partners."""

    def __init__(self, service: Any) -> None:
        self.service, self.tenant = service, uuid4()
        self.operator = Principal(
            self.tenant, "ops", PrincipalType.INTERNAL, None, frozenset({"*"})
        )

    def partner(self, partner_id: UUID | None = None) -> Principal:
        partner_id = partner_id or uuid4()
        return Principal(
            self.tenant, f"key-{partner_id}", PrincipalType.EXTERNAL, partner_id, frozenset({"*"})
        )

    async def with_cotton(self) -> Desk:
        cotton = Commodity(
            code="cotton",
            name="Cotton (lint)",
            units=UnitTable.with_units("kg", {"bale": "170", "candy": "355.6"}),
            price_unit="candy",
            grades=("Shankar-6",),
            quality={"trash_pct": QualityParameter("trash_pct", "%", Decimal(0), Decimal(6))},
        )
        await catalog.define_commodity(self.service.deps, self.operator, cotton)
        return self

    async def standing(self, partner: Principal, standing: Standing, version: int) -> None:
        async with self.service.deps.uow(self.tenant) as uow:
            assert partner.partner_id is not None
            await record_standing(
                uow,
                tenant_id=self.tenant,
                partner_id=partner.partner_id,
                standing=standing,
                version=version,
            )
            await uow.commit()

    async def events(self, database: TestDatabase) -> list[str]:
        connection = await asyncpg.connect(database.owner_url)
        try:
            rows = await connection.fetch(
                "SELECT event_type FROM outbox WHERE tenant_id::text = $1 ORDER BY id",
                str(self.tenant),
            )
        finally:
            await connection.close()
        return [
            row["event_type"] for row in rows if row["event_type"] != "mandi.catalog.changed.v1"
        ]


@pytest.fixture
async def desk(service: Any) -> Desk:
    return await Desk(service).with_cotton()


async def test_a_draft_is_kept_in_the_base_unit_and_published_once_the_partner_is_approved(
    desk: Desk, database: TestDatabase
) -> None:
    seller, deps = desk.partner(), desk.service.deps
    draft = (await offers.create_offer(deps, seller, AVAILABILITY, _draft())).value
    assert (draft.status, draft.quantity, draft.minimum_lot, draft.base_unit) == (
        OfferStatus.DRAFT,
        Decimal(17000),
        Decimal(1700),
        "kg",
    )
    with pytest.raises(Conflict, match="approved partner"):
        await offers.publish_offer(deps, seller, AVAILABILITY, draft.id)

    await desk.standing(seller, Standing.APPROVED, 3)
    published = (await offers.publish_offer(deps, seller, AVAILABILITY, draft.id, if_match=1)).value
    assert (published.status, published.version, published.free) == (
        OfferStatus.PUBLISHED,
        2,
        Decimal(17000),
    )
    assert await offers.get_offer(deps, seller, AVAILABILITY, draft.id) == published
    assert await desk.events(database) == ["mandi.availability.published.v1"]


async def test_a_suspended_partner_publishes_nothing(desk: Desk) -> None:
    buyer = desk.partner()
    await desk.standing(buyer, Standing.SUSPENDED, 5)
    draft = (await offers.create_offer(desk.service.deps, buyer, REQUIREMENT, _draft())).value
    with pytest.raises(Conflict):
        await offers.publish_offer(desk.service.deps, buyer, REQUIREMENT, draft.id)


async def test_others_see_an_offer_only_on_the_book_and_never_change_it(desk: Desk) -> None:
    seller, other, deps = desk.partner(), desk.partner(), desk.service.deps
    await desk.standing(seller, Standing.APPROVED, 3)
    draft = (await offers.create_offer(deps, seller, AVAILABILITY, _draft())).value
    with pytest.raises(NotFound):
        await offers.get_offer(deps, other, AVAILABILITY, draft.id)
    assert (await offers.get_offer(deps, desk.operator, AVAILABILITY, draft.id)).id == draft.id

    await offers.publish_offer(deps, seller, AVAILABILITY, draft.id)
    assert (
        await offers.get_offer(deps, other, AVAILABILITY, draft.id)
    ).status is OfferStatus.PUBLISHED
    with pytest.raises(PermissionDenied):
        await offers.withdraw_offer(deps, other, AVAILABILITY, draft.id)
    with pytest.raises(NotFound):  # an availability is no requirement
        await offers.get_offer(deps, seller, REQUIREMENT, draft.id)


async def test_a_partners_staff_act_for_their_own_partner_only(desk: Desk) -> None:
    with pytest.raises(PermissionDenied):
        await offers.create_offer(
            desk.service.deps, desk.partner(), AVAILABILITY, _draft(), partner_id=uuid4()
        )
    with pytest.raises(InvalidInput, match="name the partner"):
        await offers.create_offer(desk.service.deps, desk.operator, AVAILABILITY, _draft())
    made = await offers.create_offer(
        desk.service.deps, desk.operator, AVAILABILITY, _draft(), partner_id=uuid4()
    )
    assert made.value.status is OfferStatus.DRAFT


async def test_a_requirement_is_posted_changed_and_withdrawn_with_an_event_each(
    desk: Desk, database: TestDatabase
) -> None:
    buyer, deps = desk.partner(), desk.service.deps
    await desk.standing(buyer, Standing.APPROVED, 3)
    posted = (await offers.create_offer(deps, buyer, REQUIREMENT, _draft())).value
    await offers.publish_offer(deps, buyer, REQUIREMENT, posted.id)
    with pytest.raises(PreconditionFailed, match="at version 2, not 1"):
        await offers.change_offer(deps, buyer, REQUIREMENT, posted.id, _draft(), if_match=1)
    changed = await offers.change_offer(
        deps, buyer, REQUIREMENT, posted.id, _draft(quantity=Decimal(50)), if_match=2
    )
    assert changed.value.quantity == Decimal(8500)
    await offers.withdraw_offer(deps, buyer, REQUIREMENT, posted.id, if_match=3)
    assert await desk.events(database) == [
        "mandi.requirement.posted.v1",
        "mandi.requirement.updated.v1",
        "mandi.requirement.withdrawn.v1",
    ]


async def test_bad_terms_are_refused_before_anything_is_stored(desk: Desk) -> None:
    seller, deps = desk.partner(), desk.service.deps
    refusals = [
        (_draft(unit="sack"), InvalidInput),
        (_draft(quantity=Decimal(0)), InvalidInput),
        (_draft(quality={"trash_pct": Decimal(7)}), InvalidInput),
        (_draft(delivery_to=date(2029, 12, 1)), InvalidInput),
        (_draft(commodity="wheat"), NotFound),
    ]
    for draft, refusal in refusals:
        with pytest.raises(refusal):
            await offers.create_offer(deps, seller, AVAILABILITY, draft)


async def _as_tenant(database: TestDatabase, tenant: UUID, query: str, *args: object) -> object:
    return await as_tenant(database.app_url, tenant, lambda c: c.fetchval(query, *args))


async def test_the_database_never_holds_more_reserved_than_offered(
    desk: Desk, database: TestDatabase
) -> None:
    made = (
        await offers.create_offer(desk.service.deps, desk.partner(), AVAILABILITY, _draft())
    ).value
    over = "UPDATE offers SET reserved = quantity + 1 WHERE id = $1 RETURNING id"
    with pytest.raises(asyncpg.CheckViolationError):
        await _as_tenant(database, desk.tenant, over, made.id)


async def test_each_offer_has_a_geography_point_to_search_by(
    desk: Desk, database: TestDatabase
) -> None:
    made = (
        await offers.create_offer(desk.service.deps, desk.partner(), AVAILABILITY, _draft())
    ).value
    near = (
        "SELECT ST_DWithin(place, ST_MakePoint(70.81, 22.31)::geography, $2)"
        " FROM offers WHERE id = $1"
    )
    assert await _as_tenant(database, desk.tenant, near, made.id, 2000.0) is True  # about 1.5 km
    assert await _as_tenant(database, desk.tenant, near, made.id, 1000.0) is False


async def test_an_offers_commodity_does_not_change(desk: Desk) -> None:
    seller = desk.partner()
    made = (await offers.create_offer(desk.service.deps, seller, AVAILABILITY, _draft())).value
    with pytest.raises(InvalidInput, match="commodity does not change"):
        await offers.change_offer(
            desk.service.deps, seller, AVAILABILITY, made.id, _draft(commodity="wheat"), if_match=1
        )
