"""On the real PostgreSQL: principal headers without the gateway's secret open nothing.

A request that reaches the service directly with a forged `X-Tenant-Id` is refused, its context
never holds that tenant, and no statement ever runs as it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import event

from mandi_observability import current_context
from mandi_partners.config import Settings
from mandi_partners.entrypoints.http.app import create_app

pytestmark = pytest.mark.integration

FORGED_TENANT = str(uuid4())


@pytest.fixture
async def partners_app(settings: Settings) -> AsyncIterator[Any]:
    app = create_app(settings, background=False)
    async with app.router.lifespan_context(app):
        yield app


def _statements_run(app: Any) -> list[str]:
    """Every statement the service's engine runs from now on, with its parameters."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append(f"{statement} {json.dumps(parameters, default=str)}")

    event.listen(app.state.service.engine.sync_engine, "before_cursor_execute", record)
    return seen


async def test_forged_principal_headers_set_no_tenant_and_run_nothing(partners_app) -> None:
    statements = _statements_run(partners_app)
    tenants_seen: list[str | None] = []

    @partners_app.middleware("http")
    async def note_the_context(request, call_next):  # what every log line of the request sees
        response = await call_next(request)
        tenants_seen.append(current_context().tenant_id)
        return response

    forged = {
        "x-tenant-id": FORGED_TENANT,
        "x-principal-id": "intruder",
        "x-principal-type": "internal",
        "x-scopes": "*",
        "x-mandi-gateway": "guessed",
    }
    transport = httpx.ASGITransport(partners_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://partners.test") as client:
        listed = await client.get("/", headers=forged)
        registered = await client.post("/", headers=forged, json={"legal_name": "X"})

    assert listed.status_code == 401
    assert registered.status_code == 401
    assert listed.headers["content-type"] == "application/problem+json"
    assert tenants_seen == [None, None]
    assert not [statement for statement in statements if FORGED_TENANT in statement]
