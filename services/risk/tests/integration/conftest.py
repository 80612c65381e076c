"""The risk service built on the real PostgreSQL, on a database of the module's, asking the fake
credit bureau (a real HTTP server in its own process)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from mandi_risk.config import Settings
from mandi_risk.domain.profile import Rating, Standing
from mandi_risk.entrypoints.consumers import consumers
from mandi_risk.entrypoints.service import DEFINITION
from mandi_risk.service_layer import partners
from mandi_rules import InsiderLinks, Money
from mandi_runtime import RunningService, migrate, running
from mandi_security import Principal, PrincipalType
from mandi_testing import Infrastructure, TestDatabase, fresh_database
from mandi_testing.fake_bureau import FakeBureau, running_fake_bureau
from mandi_testing.messaging import Delivering, delivering_to
from mandi_testing.platform import settings_values

BUREAU_TOKEN = "risk-tests-bureau-token"


@pytest.fixture(scope="module")
def database(postgres_admin_url: str, request: pytest.FixtureRequest) -> Iterator[TestDatabase]:
    """This module's database."""
    with fresh_database(postgres_admin_url, request.module.__name__) as created:
        yield created


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeBureau]:
    """One fake credit bureau for the module."""
    with running_fake_bureau(BUREAU_TOKEN, tmp_path_factory.mktemp("bureau")) as running_bureau:
        yield running_bureau


@pytest.fixture(autouse=True)
def bureau_answers_again(bureau: FakeBureau) -> Iterator[None]:
    """Each test leaves the fake answering normally for the next."""
    yield
    bureau.set_mode("ok")


@pytest.fixture(scope="module")
def settings(
    infrastructure: Infrastructure, database: TestDatabase, bureau: FakeBureau
) -> Settings:
    """Settings pointing at this module's database and the fake bureau, migrated; the bureau's
    breaker opens after two failed calls and stays open for a second."""
    environment = {
        "MANDI_RISK_BUREAU_URL": bureau.url,
        "MANDI_RISK_BUREAU_TOKEN": BUREAU_TOKEN,
        "MANDI_RISK_BUREAU_TIMEOUT_SECONDS": "0.3",
        "MANDI_RISK_BUREAU_ATTEMPTS": "1",
        "MANDI_RISK_BUREAU_FAILURES_TO_OPEN": "2",
        "MANDI_RISK_BUREAU_RESET_SECONDS": "1",
    }
    built = Settings(**settings_values("risk", infrastructure, database, environment))
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


def officer(tenant: UUID) -> Principal:
    """A risk officer of the tenant."""
    scopes = frozenset({"*:read", "risk:write", "risk:assess"})
    return Principal(tenant, "risk.officer", PrincipalType.INTERNAL, None, scopes)


class Desk:
    """A tenant's partners as risk knows them, made through the service's own use cases."""

    def __init__(self, deps: Any, tenant: UUID | None = None) -> None:
        self.deps = deps
        self.tenant = tenant or uuid4()
        self.officer = officer(self.tenant)

    async def partner(
        self,
        *,
        standing: Standing = Standing.APPROVED,
        directors: frozenset[str] = frozenset(),
        rating: Rating | None = Rating.A,
        limit: Decimal | None = None,
    ) -> UUID:
        """A partner with the standing partners' events gave it, a rating and a limit in INR."""
        partner_id = uuid4()
        async with self.deps.uow(self.tenant) as uow:
            links = InsiderLinks(partner_id, None, directors, frozenset())
            await partners.record_links(uow, self.tenant, links, version=1)
            await partners.record_standing(uow, self.tenant, partner_id, standing, version=2)
            await uow.commit()
        if rating is not None:
            await partners.set_rating(self.deps, self.officer, partner_id, rating)
        if limit is not None:
            await partners.set_limit(
                self.deps,
                self.officer,
                partner_id,
                Money("INR", limit),
                "onboarding",
                if_match=None,
            )
        return partner_id


@pytest.fixture
def desk(service: RunningService[Settings, Any]) -> Desk:
    """A fresh tenant's desk on the running service."""
    return Desk(service.deps)


OutboxEvents = Callable[[UUID, str], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def outbox_events(database: TestDatabase) -> OutboxEvents:
    """`await outbox_events(tenant, "mandi.credit.")`: the payloads of the tenant's outbox rows
    whose type starts so, oldest first, each with its `type`."""

    async def read(tenant: UUID, types: str) -> list[dict[str, Any]]:
        connection = await asyncpg.connect(database.owner_url)
        try:
            rows = await connection.fetch(
                "SELECT event_type, payload FROM outbox"
                " WHERE tenant_id = $1 AND event_type LIKE $2 ORDER BY id",
                str(tenant),
                f"{types}%",
            )
        finally:
            await connection.close()
        return [{"type": row["event_type"], **json.loads(row["payload"])} for row in rows]

    return read
