"""The matching service built on the real PostgreSQL (with PostGIS), on a database of the
module's; a `Book` feeds it other services' events through its own consumers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from mandi_contracts import (
    EVENTS,
    AvailabilityPublished,
    CatalogChanged,
    OfferTermsData,
    PartnerApproved,
    PartnerRegistered,
    RequirementPosted,
)
from mandi_matching.config import Settings
from mandi_matching.entrypoints.consumers import consumers
from mandi_matching.entrypoints.service import DEFINITION
from mandi_messaging import Event, events_topic
from mandi_runtime import RunningService, migrate, running
from mandi_security import Principal, PrincipalType
from mandi_testing import Infrastructure, TestDatabase, fresh_database
from mandi_testing.messaging import (
    DeadLetterRecorder,
    Delivering,
    delivering_to,
    envelope_of,
    publish_envelope,
)
from mandi_testing.platform import settings_values

MUMBAI = (19.0760, 72.8777)
PUNE = (18.5204, 73.8567)
DELHI = (28.6139, 77.2090)


@pytest.fixture(scope="module")
def database(postgres_admin_url: str, request: pytest.FixtureRequest) -> Iterator[TestDatabase]:
    """This module's database, with the extensions the service's settings declare."""
    label = request.module.__name__
    with fresh_database(postgres_admin_url, label, Settings.database_extensions) as created:
        yield created


@pytest.fixture(scope="module")
def settings(infrastructure: Infrastructure, database: TestDatabase) -> Settings:
    """Settings pointing at this module's database, migrated."""
    built = Settings(**settings_values("matching", infrastructure, database, {}))
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


def operator(tenant: UUID) -> Principal:
    """Operator staff of the tenant."""
    scopes = frozenset({"*:read", "matching:write"})
    return Principal(tenant, "ops.asha", PrincipalType.INTERNAL, None, scopes)


def partner_staff(tenant: UUID, partner_id: UUID) -> Principal:
    """A partner's admin, acting for its own partner."""
    scopes = frozenset({"matching:*"})
    return Principal(tenant, f"staff-of-{partner_id}", PrincipalType.EXTERNAL, partner_id, scopes)


def terms(
    *,
    place: tuple[float, float] = MUMBAI,
    quantity: str = "10000",
    minimum_lot: str = "1000",
    price: str = "6200",
    grade: str = "Lokwan",
    quality: dict[str, str] | None = None,
) -> OfferTermsData:
    """Wheat terms in kg, priced per quintal, delivered next month."""
    start = datetime.now(UTC).date() + timedelta(days=7)
    return OfferTermsData(
        commodity="wheat",
        grade=grade,
        quality={k: Decimal(v) for k, v in (quality or {"moisture_pct": "11"}).items()},
        base_unit="kg",
        quantity=Decimal(quantity),
        minimum_lot=Decimal(minimum_lot),
        price=Decimal(price),
        currency="INR",
        price_unit="quintal",
        latitude=place[0],
        longitude=place[1],
        state="Maharashtra",
        city="Mumbai",
        delivery_from=start,
        delivery_to=start + timedelta(days=30),
        valid_until=datetime.now(UTC) + timedelta(days=30),
    )


class Book:
    """A tenant's partners, catalog and offers, told to matching as their services' events."""

    MUMBAI, PUNE, DELHI = MUMBAI, PUNE, DELHI

    def __init__(self, broker: KafkaBroker, dead_letters: DeadLetterRecorder) -> None:
        self.broker, self.dead_letters = broker, dead_letters
        self.tenant = uuid4()

    def operator(self) -> Principal:
        """Operator staff of the tenant."""
        return operator(self.tenant)

    def staff(self, partner_id: UUID) -> Principal:
        """A partner's admin, acting for its own partner."""
        return partner_staff(self.tenant, partner_id)

    async def send(self, event: Event, topic: str, subject: UUID | str) -> None:
        """Delivers one event on `topic`, as the relay publishes it."""
        envelope = envelope_of(event, subject=str(subject), registry=EVENTS, tenant_id=self.tenant)
        await publish_envelope(self.broker, topic, envelope)
        assert not self.dead_letters.records, self.dead_letters.records

    async def catalog(self) -> None:
        """Wheat, with its quality ranges and units."""
        event = CatalogChanged(
            tenant_id=self.tenant,
            commodity="wheat",
            version=1,
            changed_by="ops",
            quality_ranges={"moisture_pct": (Decimal(0), Decimal(14))},
            units={"kg": Decimal(1), "quintal": Decimal(100), "tonne": Decimal(1000)},
        )
        await self.send(event, events_topic("availability"), "wheat")

    async def partner(self, *, group: UUID | None = None, directors: tuple[str, ...] = ()) -> UUID:
        """An approved partner."""
        partner_id = uuid4()
        registered = PartnerRegistered(
            tenant_id=self.tenant,
            partner_id=partner_id,
            group_id=group,
            director_fingerprints=list(directors),
            contact_fingerprints=[],
            version=1,
            partner_types=["buyer", "seller"],
            country="IN",
            tax_ids=[],
            registered_by="ops",
        )
        await self.send(registered, events_topic("partners"), partner_id)
        approved = PartnerApproved(
            tenant_id=self.tenant, partner_id=partner_id, version=2, approved_by="ops"
        )
        await self.send(approved, events_topic("partners"), partner_id)
        return partner_id

    def published(self, seller: UUID, **changes: Any) -> AvailabilityPublished:
        """The event of a new availability of the seller's."""
        return AvailabilityPublished(
            tenant_id=self.tenant,
            availability_id=uuid4(),
            partner_id=seller,
            version=2,
            terms=terms(**changes),
        )

    def posted(self, buyer: UUID, **changes: Any) -> RequirementPosted:
        """The event of a new requirement of the buyer's, its limit above the usual price."""
        changes.setdefault("price", "6500")
        return RequirementPosted(
            tenant_id=self.tenant,
            requirement_id=uuid4(),
            partner_id=buyer,
            version=2,
            terms=terms(**changes),
        )

    async def availability(self, seller: UUID, **changes: Any) -> UUID:
        """A published availability of the seller's, delivered."""
        event = self.published(seller, **changes)
        await self.send(event, events_topic("availability"), event.availability_id)
        return event.availability_id

    async def requirement(self, buyer: UUID, **changes: Any) -> UUID:
        """A posted requirement of the buyer's, delivered."""
        event = self.posted(buyer, **changes)
        await self.send(event, events_topic("availability"), event.requirement_id)
        return event.requirement_id


@pytest.fixture
async def book(delivering: Delivering) -> AsyncIterator[Book]:
    """A fresh tenant's book, delivered through the service's consumer group."""
    dead_letters = DeadLetterRecorder("matching")
    async with delivering(dead_letters) as broker:
        yield Book(broker, dead_letters)


OutboxEvents = Callable[[UUID, str], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def outbox_events(database: TestDatabase) -> OutboxEvents:
    """`await outbox_events(tenant, "mandi.match.")`: the payloads of the tenant's outbox rows
    whose type starts so, oldest first, each with its `type` and `topic`."""

    async def read(tenant: UUID, types: str) -> list[dict[str, Any]]:
        connection = await asyncpg.connect(database.owner_url)
        try:
            rows = await connection.fetch(
                "SELECT event_type, topic, payload FROM outbox"
                " WHERE tenant_id = $1 AND event_type LIKE $2 ORDER BY id",
                str(tenant),
                f"{types}%",
            )
        finally:
            await connection.close()
        return [
            {"type": row["event_type"], "topic": row["topic"], **json.loads(row["payload"])}
            for row in rows
        ]

    return read
