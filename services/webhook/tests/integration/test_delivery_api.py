"""The deliveries API in process, on the real PostgreSQL: an endpoint's deliveries and their
attempt log, replay and recovery; every bad request a problem+json, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from mandi_contracts import PartnerApproved
from mandi_security import GATEWAY_SECRET_HEADER, Principal, gateway_headers
from mandi_testing import asgi_client
from mandi_webhook.config import Settings
from mandi_webhook.entrypoints.http.app import create_app
from mandi_webhook.service_layer.fan_out import fan_out
from mandi_webhooks import Resolver

pytestmark = pytest.mark.integration

URL = "https://hooks.public.example/mandi"
PROBLEM = "application/problem+json"


@pytest.fixture
async def service_client(
    settings: Settings, dns: Resolver
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """A client of the service's app (no dispatcher: deliveries stay pending) and its deps."""
    app = create_app(settings, background=False)
    async with app.router.lifespan_context(app), asgi_client(app) as started:
        service = app.state.service
        service.wiring = replace(service.wiring, deps=replace(service.deps, resolve=dns))
        yield started, service.deps


def _headers(settings: Settings, principal: Principal) -> dict[str, str]:
    assert settings.gateway_secret is not None
    secret = settings.gateway_secret.get_secret_value()
    return {**gateway_headers(principal), GATEWAY_SECRET_HEADER: secret}


async def _endpoint_with_a_delivery(
    client: httpx.AsyncClient, deps: Any, settings: Settings, desk: Any
) -> tuple[str, dict[str, str], Any]:
    partner = uuid4()
    headers = _headers(settings, desk.partner(partner))
    made = await client.post(
        "/endpoints", json={"url": URL, "partner_id": str(partner)}, headers=headers
    )
    assert made.status_code == 201, made.text
    event = PartnerApproved(tenant_id=desk.tenant, partner_id=partner, version=2, approved_by="x")
    now = datetime.now(UTC)
    async with deps.uow(desk.tenant) as uow:
        await fan_out(uow, event, str(uuid4()), now, now)
        await uow.commit()
    return made.json()["id"], headers, partner


async def test_a_partner_lists_its_deliveries_and_reads_one_with_its_attempt_log(
    service_client: Any, settings: Settings, desk: Any
) -> None:
    client, deps = service_client
    endpoint, headers, partner = await _endpoint_with_a_delivery(client, deps, settings, desk)

    listed = await client.get(f"/endpoints/{endpoint}/deliveries", headers=headers)
    [delivery] = listed.json()
    read = await client.get(f"/endpoints/{endpoint}/deliveries/{delivery['id']}", headers=headers)
    dead = await client.get(f"/endpoints/{endpoint}/deliveries?status=dead", headers=headers)

    assert listed.status_code == 200
    assert delivery["status"] == "pending"
    assert delivery["webhook_id"].startswith("msg_")
    assert delivery["payload"]["data"] == {"partner_id": str(partner), "status": "approved"}
    assert read.json()["attempt_log"] == []
    assert dead.json() == []


async def test_bad_requests_are_problems_with_the_right_status(
    service_client: Any, settings: Settings, desk: Any
) -> None:
    client, deps = service_client
    endpoint, headers, _partner = await _endpoint_with_a_delivery(client, deps, settings, desk)
    [delivery] = (await client.get(f"/endpoints/{endpoint}/deliveries", headers=headers)).json()
    stranger = _headers(settings, desk.partner())
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()

    answers = {
        "on its way": await client.post(
            f"/endpoints/{endpoint}/deliveries/{delivery['id']}/replay", headers=headers
        ),
        "another partner's": await client.get(
            f"/endpoints/{endpoint}/deliveries", headers=stranger
        ),
        "no such delivery": await client.get(
            f"/endpoints/{endpoint}/deliveries/{uuid4()}", headers=headers
        ),
        "a status that is none": await client.get(
            f"/endpoints/{endpoint}/deliveries?status=lost", headers=headers
        ),
        "a future since": await client.post(
            f"/endpoints/{endpoint}/recover", json={"since": future}, headers=headers
        ),
        "a naive since": await client.post(
            f"/endpoints/{endpoint}/recover", json={"since": "2026-01-01T00:00:00"}, headers=headers
        ),
        "no caller": await client.get(f"/endpoints/{endpoint}/deliveries"),
    }

    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "on its way": 409,
        "another partner's": 404,
        "no such delivery": 404,
        "a status that is none": 422,
        "a future since": 422,
        "a naive since": 422,
        "no caller": 401,
    }
    assert all(answer.headers["content-type"] == PROBLEM for answer in answers.values())


async def test_recovering_with_nothing_dead_recovers_nothing(
    service_client: Any, settings: Settings, desk: Any
) -> None:
    client, deps = service_client
    endpoint, headers, _partner = await _endpoint_with_a_delivery(client, deps, settings, desk)
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    answer = await client.post(
        f"/endpoints/{endpoint}/recover",
        json={"since": since},
        headers={**headers, "Idempotency-Key": "recover-1"},
    )
    again = await client.post(
        f"/endpoints/{endpoint}/recover",
        json={"since": since},
        headers={**headers, "Idempotency-Key": "recover-1"},
    )

    assert (answer.status_code, answer.json()) == (202, {"recovered": 0})
    assert again.headers["Idempotent-Replayed"] == "true"
