"""The webhook service built on the real PostgreSQL, on a database of the module's, with a
DNS of the test's own (see `resolve`) and a clock the test moves."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from mandi_runtime import RunningService, migrate, running
from mandi_security import Principal, PrincipalType
from mandi_testing import Infrastructure, TestDatabase
from mandi_testing.fakes import FakeClock
from mandi_testing.platform import settings_values
from mandi_webhook.config import Settings
from mandi_webhook.entrypoints.service import DEFINITION
from mandi_webhook.service_layer.dependencies import WebhookDependencies
from mandi_webhooks import Resolver

PUBLIC_ADDRESS = "93.184.215.14"
_PRIVATE_ADDRESS = "10.20.30.40"


async def resolve(host: str) -> Sequence[str]:
    """The test's DNS: `*.public.example` is a public address, `*.private.example` a private one
    (a partner's name for a host inside Mandi's reach), `*.mixed.example` one of each; any
    other name does not resolve."""
    if host.endswith(".public.example"):
        return [PUBLIC_ADDRESS]
    if host.endswith(".private.example"):
        return [_PRIVATE_ADDRESS]
    if host.endswith(".mixed.example"):
        return [PUBLIC_ADDRESS, "192.168.1.9"]
    raise OSError(f"{host} does not resolve")


@pytest.fixture(scope="module")
def settings(infrastructure: Infrastructure, database: TestDatabase) -> Settings:
    """Settings pointing at this module's database, migrated; local endpoints not allowed."""
    built = Settings(**settings_values("webhook", infrastructure, database))
    migrate(built, DEFINITION.migrations)
    return built


@pytest.fixture
async def service(
    settings: Settings,
) -> AsyncIterator[RunningService[Settings, WebhookDependencies]]:
    """The service's resources and use cases, without its background loops."""
    async with running(DEFINITION, settings, background=False) as started:
        yield started


@pytest.fixture
def clock() -> FakeClock:
    """Time that moves only when the test moves it."""
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def dns() -> Resolver:
    """The test's DNS (see `resolve`)."""
    return resolve


@pytest.fixture
def deps(
    service: RunningService[Settings, WebhookDependencies], clock: FakeClock
) -> WebhookDependencies:
    """The service's use cases' dependencies, on the test's DNS and clock."""
    return replace(service.deps, resolve=resolve, clock=clock)


class Desk:
    """One tenant: its operator staff, and principals of its partners."""

    def __init__(self, tenant: UUID | None = None) -> None:
        self.tenant = tenant or uuid4()
        self.operator = Principal(
            self.tenant, "ops", PrincipalType.INTERNAL, None, frozenset({"*"})
        )

    def partner(
        self, partner_id: UUID | None = None, scopes: frozenset[str] = frozenset({"webhook:*"})
    ) -> Principal:
        """An API key of the partner's (a new partner unless named)."""
        partner = partner_id or uuid4()
        return Principal(self.tenant, f"key-{partner}", PrincipalType.EXTERNAL, partner, scopes)


@pytest.fixture
def desk() -> Desk:
    """A fresh tenant."""
    return Desk()


RawRows = Callable[[UUID, str], Awaitable[list[str]]]


@pytest.fixture
def raw_rows(database: TestDatabase) -> RawRows:
    """`await raw_rows(tenant, "endpoint_secrets")`: each of the tenant's rows of a table as the
    table's owner reads it, as text (bytea in hex, as PostgreSQL writes it)."""

    async def read(tenant: UUID, table: str) -> list[str]:
        connection = await asyncpg.connect(database.owner_url)
        try:
            async with connection.transaction():
                # Row-level security binds the owner too: it reads as the tenant.
                await connection.execute(
                    "SELECT set_config('app.tenant_id', $1, true)", str(tenant)
                )
                rows = await connection.fetch(f"SELECT row_to_json(t)::text AS raw FROM {table} t")
        finally:
            await connection.close()
        return [row["raw"] for row in rows]

    return read


OutboxEvents = Callable[[UUID], Awaitable[list[tuple[str, str, dict[str, Any]]]]]


@pytest.fixture
def outbox_events(database: TestDatabase) -> OutboxEvents:
    """`await outbox_events(tenant)`: the tenant's outbox rows, oldest first, as (type, key,
    payload)."""

    async def read(tenant: UUID) -> list[tuple[str, str, dict[str, Any]]]:
        connection = await asyncpg.connect(database.owner_url)
        try:
            rows = await connection.fetch(
                "SELECT event_type, message_key, payload FROM outbox"
                " WHERE tenant_id = $1 ORDER BY id",
                str(tenant),
            )
        finally:
            await connection.close()
        return [(row["event_type"], row["message_key"], json.loads(row["payload"])) for row in rows]

    return read
