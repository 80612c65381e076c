"""The availability service built on the real PostgreSQL (with PostGIS), on a database of the
module's."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from mandi_availability.config import Settings
from mandi_availability.domain.catalog import Commodity
from mandi_availability.domain.offers import DeliveryPlace, OfferKind
from mandi_availability.domain.quantities import Money, UnitTable
from mandi_availability.domain.standing import Standing
from mandi_availability.entrypoints.consumers import consumers
from mandi_availability.entrypoints.service import DEFINITION
from mandi_availability.service_layer import catalog, offers
from mandi_availability.service_layer.offers import OfferDraft
from mandi_availability.service_layer.standing import record_standing
from mandi_errors import Conflict
from mandi_runtime import RunningService, migrate, running
from mandi_security import Principal, PrincipalType
from mandi_testing import Infrastructure, TestDatabase, fresh_database
from mandi_testing.messaging import Delivering, delivering_to
from mandi_testing.platform import settings_values


@pytest.fixture(scope="module")
def database(postgres_admin_url: str, request: pytest.FixtureRequest) -> Iterator[TestDatabase]:
    """This module's database, with the extensions the service's settings declare."""
    label = request.module.__name__
    with fresh_database(postgres_admin_url, label, Settings.database_extensions) as created:
        yield created


@pytest.fixture(scope="module")
def settings(infrastructure: Infrastructure, database: TestDatabase) -> Settings:
    """Settings pointing at this module's database, migrated to the newest revision."""
    built = Settings(**settings_values("availability", infrastructure, database))
    migrate(built, DEFINITION.migrations)
    return built


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[RunningService[Settings, Any]]:
    """The service's resources and use cases, without its background loops."""
    async with running(DEFINITION, settings, background=False) as started:
        yield started


@pytest.fixture
def delivering(service: RunningService[Settings, Any]) -> Delivering:
    """FastStream's in-memory Kafka delivering to the service's consumer group."""
    return delivering_to(service, consumers)


PublishAvailability = Callable[..., Awaitable[UUID]]


@pytest.fixture
def publish_availability() -> PublishAvailability:
    """`await publish_availability(deps, tenant, bales=, lot_bales=, valid_until=)`: see
    `_published_availability`."""
    return _published_availability


async def _published_availability(
    deps: Any,
    tenant: UUID,
    *,
    bales: int = 100,
    lot_bales: int = 10,
    valid_until: datetime | None = None,
    kind: OfferKind = OfferKind.AVAILABILITY,
) -> UUID:
    """Cotton in the tenant's catalog, an approved seller, and its availability of `bales`
    (170 kg each) in lots of `lot_bales`, on the book; the availability's id. With `kind`
    REQUIREMENT, an approved buyer's requirement of the same terms instead."""
    operator = Principal(tenant, "ops", PrincipalType.INTERNAL, None, frozenset({"*"}))
    cotton = Commodity(
        code="cotton",
        name="Cotton",
        units=UnitTable.with_units("kg", {"bale": "170", "candy": "355.6"}),
        price_unit="candy",
        grades=("Shankar-6",),
    )
    with contextlib.suppress(Conflict):  # the tenant has cotton already
        await catalog.define_commodity(deps, operator, cotton)
    seller = uuid4()
    async with deps.uow(tenant) as uow:
        await record_standing(
            uow, tenant_id=tenant, partner_id=seller, standing=Standing.APPROVED, version=1
        )
        await uow.commit()
    draft = OfferDraft(
        commodity="cotton",
        grade="Shankar-6",
        quality={},
        quantity=Decimal(bales),
        unit="bale",
        minimum_lot=Decimal(lot_bales),
        price=Money("INR", Decimal(56000)),
        price_unit=None,
        place=DeliveryPlace(22.3, 70.8, state="Gujarat", city="Rajkot"),
        delivery_from=date(2030, 1, 1),
        delivery_to=date(2030, 1, 15),
        valid_until=valid_until or datetime.now(UTC) + timedelta(days=7),
    )
    made = await offers.create_offer(deps, operator, kind, draft, partner_id=seller)
    await offers.publish_offer(deps, operator, kind, made.value.id)
    return made.value.id
