"""The risk API in process, on the real PostgreSQL and the fake bureau: answers, and every bad
request a problem+json with the right status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest

from mandi_risk.config import Settings
from mandi_risk.entrypoints.http.app import create_app
from mandi_security import GATEWAY_SECRET_HEADER, Principal, PrincipalType, gateway_headers
from mandi_testing import asgi_client

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the service's app, its resources started."""
    app = create_app(settings, background=False)
    async with app.router.lifespan_context(app), asgi_client(app) as started:
        yield started


def as_principal(settings: Settings, principal: Principal) -> dict[str, str]:
    """The headers the gateway sends for a principal it authenticated."""
    assert settings.gateway_secret is not None
    secret = settings.gateway_secret.get_secret_value()
    return {**gateway_headers(principal), GATEWAY_SECRET_HEADER: secret}


def assessment_body(buyer: Any, seller: Any, **changes: Any) -> dict[str, Any]:
    body = {
        "buyer_id": str(buyer),
        "seller_id": str(seller),
        "commodity": "cotton",
        "value": "2240000.00",
        "currency": "INR",
    }
    return {**body, **changes}


async def test_an_assessment_is_made_and_read_back(
    client: httpx.AsyncClient, settings: Settings, desk: Any
) -> None:
    buyer = await desk.partner(limit=Decimal(50_000_000))
    seller = await desk.partner()
    headers = as_principal(settings, desk.officer)

    made = await client.post(
        "/assessments",
        json=assessment_body(buyer, seller),
        headers={**headers, "Idempotency-Key": "assess-1"},
    )
    read = await client.get(made.headers["Location"].removeprefix("/api/v1/risk"), headers=headers)

    assert made.status_code == 201, made.text
    assert read.json() == made.json()
    assert made.json()["decision"] in {"APPROVE", "APPROVE_WITH_CONDITIONS"}
    assert len(made.json()["factors"]) == 6


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"value": "-1"}, "value"),
        ({"value": "0"}, "value"),
        ({"value": "1e5"}, "value"),
        ({"currency": "XYZ"}, "currency"),
        ({"commodity": "Cotton Lint"}, "commodity"),
        ({"buyer_id": "not-a-uuid"}, "buyer_id"),
        ({"margin": "5"}, "margin"),
    ],
)
async def test_a_malformed_assessment_is_a_422_problem(
    client: httpx.AsyncClient, settings: Settings, desk: Any, changes: dict[str, Any], where: str
) -> None:
    answer = await client.post(
        "/assessments",
        json=assessment_body(uuid4(), uuid4(), **changes),
        headers=as_principal(settings, desk.officer),
    )

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert where in answer.text


async def test_more_decimals_than_the_currency_has_is_a_422_problem(
    client: httpx.AsyncClient, settings: Settings, desk: Any
) -> None:
    answer = await client.post(
        "/assessments",
        json=assessment_body(uuid4(), uuid4(), value="100.125"),
        headers=as_principal(settings, desk.officer),
    )

    assert answer.status_code == 422
    assert "more than 2 decimal places" in answer.json()["detail"]


async def test_a_partners_principal_sees_nothing_of_risk(
    client: httpx.AsyncClient, settings: Settings, desk: Any
) -> None:
    partner = uuid4()
    erp = Principal(desk.tenant, "erp", PrincipalType.EXTERNAL, partner, frozenset({"*"}))

    answer = await client.get(f"/partners/{partner}", headers=as_principal(settings, erp))

    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_limit_change_names_the_version_it_changes(
    client: httpx.AsyncClient, settings: Settings, desk: Any
) -> None:
    partner = uuid4()
    headers = as_principal(settings, desk.officer)
    limit = {"amount": "1000000.00", "currency": "INR", "reason": "onboarding"}

    first = await client.put(f"/partners/{partner}/limit", json=limit, headers=headers)
    unnamed = await client.put(f"/partners/{partner}/limit", json=limit, headers=headers)
    stale = await client.put(
        f"/partners/{partner}/limit", json=limit, headers={**headers, "If-Match": '"7"'}
    )
    changed = await client.put(
        f"/partners/{partner}/limit",
        json={**limit, "amount": "2000000.00"},
        headers={**headers, "If-Match": first.headers["ETag"]},
    )

    assert (first.status_code, first.headers["ETag"]) == (200, '"1"')
    assert (unnamed.status_code, stale.status_code) == (428, 412)
    assert (changed.status_code, changed.headers["ETag"]) == (200, '"2"')


async def test_models_answer_with_problems_when_there_is_nothing_to_do(
    client: httpx.AsyncClient, settings: Settings, desk: Any
) -> None:
    headers = as_principal(settings, desk.officer)

    unknown = await client.post(
        "/models/active", json={"name": "logistic", "version": 9}, headers=headers
    )
    nothing = await client.post("/models/active/rollback", headers=headers)

    assert (unknown.status_code, nothing.status_code) == (404, 409)
    assert nothing.headers["content-type"] == "application/problem+json"
