"""Lists of offers on the real PostgreSQL with PostGIS: every filter, keyset pages, who sees
what off the book, and the indexes the radius and price filters use (EXPLAIN)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from mandi_availability.adapters.repositories import _offer_conditions
from mandi_availability.adapters.tables import offers as offers_table
from mandi_availability.domain.catalog import Commodity, QualityParameter
from mandi_availability.domain.offers import DeliveryPlace, OfferKind, OfferStatus
from mandi_availability.domain.quantities import Money, UnitTable
from mandi_availability.domain.standing import Standing
from mandi_availability.service_layer import catalog, offers
from mandi_availability.service_layer.offers import OfferDraft
from mandi_availability.service_layer.standing import record_standing
from mandi_availability.service_layer.unit_of_work import OfferFilter, PageRequest, QualityRange
from mandi_security import Principal, PrincipalType
from mandi_testing import TestDatabase, as_tenant

pytestmark = pytest.mark.integration

AVAILABILITY = OfferKind.AVAILABILITY
RAJKOT = DeliveryPlace(22.30, 70.80, state="Gujarat", city="Rajkot")
UNJHA = DeliveryPlace(23.80, 72.39, state="Gujarat", city="Unjha")  # about 230 km away
INDORE = DeliveryPlace(22.72, 75.86, state="Madhya Pradesh", city="Indore")  # about 520 km


class Book:
    """One tenant's book of cotton offers, made through the use cases."""

    def __init__(self, service: Any) -> None:
        self.deps, self.tenant = service.deps, uuid4()
        self.operator = Principal(
            self.tenant, "ops", PrincipalType.INTERNAL, None, frozenset({"*"})
        )

    def partner(self) -> Principal:
        partner_id = uuid4()
        return Principal(
            self.tenant, f"p-{partner_id}", PrincipalType.EXTERNAL, partner_id, frozenset({"*"})
        )

    async def open(self) -> Book:
        cotton = Commodity(
            code="cotton",
            name="Cotton",
            units=UnitTable.with_units("kg", {"bale": "170", "candy": "355.6"}),
            price_unit="candy",
            grades=("Shankar-6", "MCU-5"),
            quality={
                "moisture_pct": QualityParameter("moisture_pct", "%", Decimal(0), Decimal(12))
            },
        )
        await catalog.define_commodity(self.deps, self.operator, cotton)
        return self

    async def offer(
        self,
        seller: Principal,
        *,
        price: str,
        place: DeliveryPlace,
        moisture: str = "8",
        grade: str = "Shankar-6",
        publish: bool = True,
    ) -> UUID:
        draft = OfferDraft(
            commodity="cotton",
            grade=grade,
            quality={"moisture_pct": Decimal(moisture)},
            quantity=Decimal(100),
            unit="bale",
            minimum_lot=None,
            price=Money("INR", Decimal(price)),
            price_unit=None,
            place=place,
            delivery_from=date(2030, 1, 1),
            delivery_to=date(2030, 1, 15),
            valid_until=datetime.now(UTC) + timedelta(days=7),
        )
        made = (await offers.create_offer(self.deps, seller, AVAILABILITY, draft)).value
        if publish:
            await offers.publish_offer(self.deps, seller, AVAILABILITY, made.id)
        return made.id

    async def approved(self, principal: Principal) -> Principal:
        async with self.deps.uow(self.tenant) as uow:
            assert principal.partner_id is not None
            await record_standing(
                uow,
                tenant_id=self.tenant,
                partner_id=principal.partner_id,
                standing=Standing.APPROVED,
                version=1,
            )
            await uow.commit()
        return principal

    async def ids(self, viewer: Principal, criteria: OfferFilter, limit: int = 50) -> list[UUID]:
        views, _ = await offers.list_offers(
            self.deps, viewer, AVAILABILITY, criteria, PageRequest(limit)
        )
        return [view.id for view in views]


@pytest.fixture
async def book(service: Any) -> Book:
    return await Book(service).open()


async def test_each_filter_narrows_the_book(book: Book) -> None:
    seller = await book.approved(book.partner())
    cheap_rajkot = await book.offer(seller, price="50000", place=RAJKOT, moisture="6")
    dear_unjha = await book.offer(seller, price="60000", place=UNJHA, moisture="9", grade="MCU-5")
    mid_indore = await book.offer(seller, price="55000", place=INDORE, moisture="11")
    every = OfferFilter(commodity="cotton")
    viewer = book.partner()

    assert await book.ids(viewer, every) == [cheap_rajkot, dear_unjha, mid_indore]
    assert await book.ids(
        viewer, replace(every, price_min=Decimal(52000), price_max=Decimal(58000))
    ) == [mid_indore]
    assert await book.ids(viewer, replace(every, grade="MCU-5")) == [dear_unjha]
    assert await book.ids(viewer, replace(every, state="Gujarat", city="Unjha")) == [dear_unjha]
    dry = QualityRange("moisture_pct", Decimal(0), Decimal("8.5"))
    assert await book.ids(viewer, replace(every, quality=(dry,))) == [cheap_rajkot]
    assert await book.ids(viewer, replace(every, near=(22.30, 70.80, 300_000))) == [
        cheap_rajkot,
        dear_unjha,
    ]
    assert await book.ids(viewer, replace(every, near=(22.30, 70.80, 50_000))) == [cheap_rajkot]
    assert await book.ids(viewer, replace(every, commodity="wheat")) == []


async def test_pages_follow_each_other_by_their_cursor(book: Book) -> None:
    seller = await book.approved(book.partner())
    made = [await book.offer(seller, price=str(50000 + n), place=RAJKOT) for n in range(5)]
    criteria, seen, after = OfferFilter(), [], None
    while True:
        page, after = await offers.list_offers(
            book.deps, book.operator, AVAILABILITY, criteria, PageRequest(2, after)
        )
        seen += [view.id for view in page]
        if after is None:
            break
    assert seen == made


async def test_offers_off_the_book_show_to_their_partner_and_the_operator_only(book: Book) -> None:
    seller, other = await book.approved(book.partner()), book.partner()
    draft = await book.offer(seller, price="50000", place=RAJKOT, publish=False)
    drafts = OfferFilter(statuses=(OfferStatus.DRAFT,))
    assert await book.ids(seller, drafts) == [draft]
    assert await book.ids(book.operator, drafts) == [draft]
    assert await book.ids(other, drafts) == []
    assert await book.ids(other, OfferFilter()) == []  # on the book only, by default


async def test_the_radius_and_price_filters_use_their_indexes(
    book: Book, database: TestDatabase
) -> None:
    await _many_offers(database, book.tenant, count=5000)
    # Alone, each is the most selective condition, so the planner takes its index.
    radius = replace(OfferFilter(), near=(22.30, 70.80, 50_000))
    price = replace(
        OfferFilter(commodity="cotton"), price_min=Decimal(50000), price_max=Decimal(50100)
    )
    assert "offers_place" in await _plan(database, book.tenant, radius)
    assert "offers_book" in await _plan(database, book.tenant, price)


async def _many_offers(database: TestDatabase, tenant: UUID, count: int) -> None:
    rows = """
        INSERT INTO offers (id, tenant_id, kind, partner_id, commodity, grade, quality, base_unit,
            quantity, reserved, minimum_lot, price, currency, price_unit, latitude, longitude,
            state, city, label, delivery_from, delivery_to, valid_until, status, version,
            created_at, updated_at)
        SELECT gen_random_uuid(), $1, 'availability', gen_random_uuid(),
            (ARRAY['cotton', 'wheat', 'chana', 'soybean'])[1 + n % 4], 'FAQ', '{}', 'kg',
            1000, 0, 100, 40000 + n % 30000, 'INR', 'quintal',
            8 + (n % 2000) / 100.0, 68 + (n % 2700) / 100.0, 'S', 'C', '',
            '2030-01-01', '2030-01-15', now() + interval '7 days',
            (ARRAY['published', 'draft', 'withdrawn'])[1 + n % 3], 1, now(), now()
        FROM generate_series(1, $2) AS n
    """
    await as_tenant(database.app_url, tenant, lambda c: c.execute(rows, tenant, count))
    owner = await asyncpg.connect(database.owner_url)
    try:
        await owner.execute("ANALYZE offers")
    finally:
        await owner.close()


async def _plan(database: TestDatabase, tenant: UUID, criteria: OfferFilter) -> str:
    query = select(offers_table.c.id).where(*_offer_conditions(AVAILABILITY, criteria))
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    plan = await as_tenant(database.app_url, tenant, lambda c: c.fetch(f"EXPLAIN {sql}"))
    return "\n".join(row[0] for row in plan)
