"""A service in about 150 lines of wiring: HTTP, the outbox and a consumer, on the runtime.

tests-e2e/minimal_service is a whole service (notes) with the template's files. It stands up
here on the real PostgreSQL and Kafka: a note written over HTTP is published through the outbox,
comes back through the service's own typed consumer, which counts its words, and shows in the
next read. Its wiring, everything but the domain, use cases, tables and repository (the
service's own business), is counted.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from minimal_service.config import Settings
from minimal_service.service import DEFINITION

from mandi_runtime import app_of, migrate
from mandi_security import Principal, PrincipalType, gateway_headers
from mandi_testing import Infrastructure, TestDatabase, asgi_client
from mandi_testing.processes import service_environment

HERE = Path(__file__).parent / "minimal_service"
# The business of the service: what any service writes, whatever its runtime.
BUSINESS = {"notes.py", "tables.py", "__init__.py"}
WIRING_BUDGET = 150


def _wiring_lines(path: Path) -> int:
    """Lines that do something: not blank, not a comment (docstrings are not in the template)."""
    return sum(
        1
        for line in path.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    )


def _business_ddl(path: Path) -> int:
    """A migration's CREATE TABLE (its columns): the service's own, not wiring."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "op.create_table(" in line)
    end = next(i for i in range(start, len(lines)) if lines[i].strip() == ")")
    return end - start + 1


def test_the_wiring_of_a_service_with_http_outbox_and_a_consumer_fits_the_budget() -> None:
    counted = {
        path.relative_to(HERE).as_posix(): _wiring_lines(path)
        for path in sorted(HERE.rglob("*.py"))
        if path.name not in BUSINESS
    }
    migration = HERE / "migrations" / "versions" / "0001_initial.py"
    counted["migrations/versions/0001_initial.py"] -= _business_ddl(migration)
    assert {"config.py", "bootstrap.py", "routes.py", "consumers.py", "service.py"} <= set(counted)
    assert sum(counted.values()) <= WIRING_BUDGET, counted


@pytest.fixture(scope="module")
def settings(infrastructure: Infrastructure, database: TestDatabase) -> Settings:
    environment = service_environment("notes", infrastructure, database, port=0)
    values = {name.removeprefix("MANDI_NOTES_").lower(): v for name, v in environment.items()}
    built = Settings(**values, gateway_secret=secrets.token_urlsafe(24))
    migrate(built, DEFINITION.migrations)
    return built


@pytest.fixture
async def notes(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The service's app with its whole life: relay and consumers running."""
    app = app_of(DEFINITION, settings)
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        yield client


def _as_gateway(settings: Settings, tenant: uuid.UUID) -> dict[str, str]:
    scopes = frozenset({"notes:read", "notes:write"})
    principal = Principal(tenant, f"user-{tenant.hex[:6]}", PrincipalType.INTERNAL, None, scopes)
    return {**gateway_headers(principal), "x-mandi-gateway": settings.secret("gateway_secret")}


async def _eventually(read: Any, seconds: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        answer = await read()
        assert answer.status_code == 200, answer.text
        if answer.json()["words"] is not None:
            return dict(answer.json())
        assert time.monotonic() < deadline, "the consumer never counted the note's words"
        await asyncio.sleep(0.2)


async def test_a_note_goes_out_through_the_outbox_and_comes_back_through_the_consumer(
    notes: httpx.AsyncClient, settings: Settings
) -> None:
    headers = _as_gateway(settings, uuid.uuid4())
    written = await notes.post("/notes", json={"text": "ten bags of basmati"}, headers=headers)
    assert written.status_code == 201, written.text
    note_id = written.json()["id"]

    shown = await _eventually(lambda: notes.get(f"/notes/{note_id}", headers=headers))

    assert shown == {"id": note_id, "text": "ten bags of basmati", "words": 4}
    other_tenant = await notes.get(f"/notes/{note_id}", headers=_as_gateway(settings, uuid.uuid4()))
    assert other_tenant.status_code == 404
    assert (await notes.post("/notes", json={"text": "x"})).status_code == 401
    assert (await notes.get("/asyncapi.json")).json()["info"]["title"] == "mandi-notes"
