"""The webhook API in process, on the real PostgreSQL and the test's DNS: answers, a secret
shown once, and every bad request a problem+json with the right status, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from mandi_security import GATEWAY_SECRET_HEADER, Principal, gateway_headers
from mandi_testing import asgi_client
from mandi_webhook.config import Settings
from mandi_webhook.entrypoints.http.app import create_app
from mandi_webhooks import Resolver

pytestmark = pytest.mark.integration

URL = "https://hooks.public.example/mandi?token=abc"
PROBLEM = "application/problem+json"


@pytest.fixture
async def client(settings: Settings, dns: Resolver) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the service's app, its resources started, resolving hosts with the test's
    DNS."""
    app = create_app(settings, background=False)
    async with app.router.lifespan_context(app), asgi_client(app) as started:
        service = app.state.service
        service.wiring = replace(service.wiring, deps=replace(service.deps, resolve=dns))
        yield started


@pytest.fixture
def as_principal(settings: Settings) -> Any:
    """`as_principal(principal)`: the headers the gateway sends for a principal it
    authenticated."""
    assert settings.gateway_secret is not None
    secret = settings.gateway_secret.get_secret_value()

    def headers(principal: Principal, **more: str) -> dict[str, str]:
        return {**gateway_headers(principal), GATEWAY_SECRET_HEADER: secret, **more}

    return headers


def _own(headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """A registration's body naming the caller's own partner (a partner's staff)."""
    return {"partner_id": headers.get("x-partner-id"), **body}


async def _register(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> Any:
    """Registers as the caller; a partner's staff name their own partner."""
    made = await client.post(
        "/endpoints", json=_own(headers, **{"url": URL, **body}), headers=headers
    )
    assert made.status_code == 201, made.text
    return made


async def test_a_partner_registers_and_sees_its_secret_in_that_answer_alone(
    client: httpx.AsyncClient, as_principal: Any, desk: Any
) -> None:
    headers = as_principal(desk.partner())

    made = await _register(client, headers, event_types=["trade.confirmed"], description="ERP")
    location = made.headers["Location"]
    read = await client.get(location.removeprefix("/api/v1/webhook"), headers=headers)
    listed = await client.get("/endpoints", headers=headers)

    assert location == f"/api/v1/webhook/endpoints/{made.json()['id']}"
    assert made.json()["secret"].startswith("whsec_")
    assert (made.headers["ETag"], read.headers["ETag"]) == ('"1"', '"1"')
    assert read.status_code == 200
    secret = made.json()["secret"]
    assert secret not in read.text
    assert secret not in listed.text
    assert {key: made.json()[key] for key in read.json()} == read.json()
    assert [each["id"] for each in listed.json()] == [made.json()["id"]]


async def test_a_retried_registration_answers_as_the_first_did(
    client: httpx.AsyncClient, as_principal: Any, desk: Any
) -> None:
    headers = as_principal(desk.partner(), **{"Idempotency-Key": "register-7"})

    first = await _register(client, headers)
    again = await _register(client, headers)
    other = await client.post(
        "/endpoints", json=_own(headers, url=URL, description="another"), headers=headers
    )

    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (other.status_code, other.headers["content-type"]) == (409, PROBLEM)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://10.1.2.3/hooks", "(private)"),
        ("https://169.254.169.254/latest", "(cloud metadata)"),
        ("https://erp.private.example/hooks", "resolves to an address webhooks may not reach"),
        ("http://hooks.public.example/hooks", "is https"),
        ("ftp://hooks.public.example/hooks", "http or https"),
        ("https://user:pw@hooks.public.example/", "no user name or password"),
        ("https://hooks.public.example/#fragment", "no fragment"),
        ("not a url", "whitespace"),
    ],
)
async def test_a_refused_url_is_a_422_problem_saying_why(
    client: httpx.AsyncClient, as_principal: Any, desk: Any, url: str, why: str
) -> None:
    headers = as_principal(desk.partner())
    answer = await client.post("/endpoints", json=_own(headers, url=url), headers=headers)

    assert (answer.status_code, answer.headers["content-type"]) == (422, PROBLEM)
    assert why in answer.json()["detail"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"event_types": ["trade.teleported"]}, "Unknown event types: trade.teleported"),
        ({"event_types": ["Trade Confirmed"]}, "event_types"),
        ({"event_types": ["trade.confirmed"] * 6}, "event_types"),
        ({"description": "x" * 501}, "description"),
        ({"description": "bell\u0007"}, "description"),
        ({"url": "https://hooks.public.example/" + "a" * 2000}, "url"),
        ({"url": ""}, "url"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"rate_limit": 10_001}, "rate_limit"),
        ({"rate_limit": True}, "rate_limit"),
        ({"rate_limit": "5"}, "rate_limit"),
        ({"secret": "whsec_mine"}, "secret"),
        ({"partner_id": "not-a-uuid"}, "partner_id"),
    ],
)
async def test_invalid_or_oversized_fields_are_a_422_problem(
    client: httpx.AsyncClient, as_principal: Any, desk: Any, body: dict[str, Any], where: str
) -> None:
    headers = as_principal(desk.partner())
    answer = await client.post(
        "/endpoints", json=_own(headers, **{"url": URL, **body}), headers=headers
    )

    assert (answer.status_code, answer.headers["content-type"]) == (422, PROBLEM)
    assert where in answer.text


async def test_a_body_that_is_not_json_is_a_problem_not_a_500(
    client: httpx.AsyncClient, as_principal: Any, desk: Any
) -> None:
    headers = as_principal(desk.partner(), **{"content-type": "application/json"})

    answer = await client.post("/endpoints", content=b"{not json", headers=headers)

    assert (answer.status_code, answer.headers["content-type"]) == (422, PROBLEM)


async def test_another_partner_s_endpoint_is_a_404_problem_for_every_action(
    client: httpx.AsyncClient, as_principal: Any, desk: Any
) -> None:
    theirs = (await _register(client, as_principal(desk.partner()))).json()["id"]
    mine = as_principal(desk.partner(), **{"If-Match": '"1"'})

    answers = [
        await client.get(f"/endpoints/{theirs}", headers=mine),
        await client.patch(f"/endpoints/{theirs}", json={"description": "x"}, headers=mine),
        await client.post(f"/endpoints/{theirs}/disable", headers=mine),
        await client.post(f"/endpoints/{theirs}/secret/rotate", headers=mine),
        await client.get(f"/endpoints/{uuid4()}", headers=mine),
    ]

    assert {(each.status_code, each.headers["content-type"]) for each in answers} == {
        (404, PROBLEM)
    }


async def test_without_the_webhook_scope_a_partner_s_staff_get_a_403_problem(
    client: httpx.AsyncClient, as_principal: Any, desk: Any
) -> None:
    clerk = as_principal(desk.partner(scopes=frozenset({"partners:read"})))
    reader = as_principal(desk.partner(scopes=frozenset({"webhook:read"})))

    answers = [
        await client.post("/endpoints", json=_own(clerk, url=URL), headers=clerk),
        await client.get("/endpoints", headers=clerk),
        await client.post("/endpoints", json=_own(reader, url=URL), headers=reader),
    ]

    assert {(each.status_code, each.headers["content-type"]) for each in answers} == {
        (403, PROBLEM)
    }
    assert (await client.get("/endpoints", headers=reader)).status_code == 200


async def test_operator_staff_name_the_partner_and_see_the_tenant_s_endpoints(
    client: httpx.AsyncClient, as_principal: Any, desk: Any
) -> None:
    operator = as_principal(desk.operator)
    partner = uuid4()

    unnamed = await client.post("/endpoints", json={"url": URL}, headers=operator)  # no partner
    made = await _register(client, operator, partner_id=str(partner))
    await _register(client, as_principal(desk.partner()))
    everyone = await client.get("/endpoints", headers=operator)
    one = await client.get("/endpoints", params={"partner_id": str(partner)}, headers=operator)

    assert (unnamed.status_code, unnamed.headers["content-type"]) == (422, PROBLEM)
    assert made.json()["partner_id"] == str(partner)
    assert len(everyone.json()) == 2
    assert [each["id"] for each in one.json()] == [made.json()["id"]]


async def test_pages_of_endpoints_follow_the_next_cursor(
    client: httpx.AsyncClient, as_principal: Any, desk: Any
) -> None:
    headers = as_principal(desk.partner())
    made = [(await _register(client, headers)).json()["id"] for _ in range(3)]

    first = await client.get("/endpoints", params={"limit": 2}, headers=headers)
    cursor = first.headers["X-Next-Cursor"]
    second = await client.get("/endpoints", params={"limit": 2, "cursor": cursor}, headers=headers)
    bad = await client.get("/endpoints", params={"cursor": "nope"}, headers=headers)

    assert [each["id"] for each in first.json() + second.json()] == made
    assert "X-Next-Cursor" not in second.headers
    assert (bad.status_code, bad.headers["content-type"]) == (422, PROBLEM)


async def test_a_change_names_the_version_it_changes(
    client: httpx.AsyncClient, as_principal: Any, desk: Any
) -> None:
    headers = as_principal(desk.partner())
    path = f"/endpoints/{(await _register(client, headers)).json()['id']}"
    change = {"event_types": ["trade.settled"], "rate_limit": 5}

    unnamed = await client.patch(path, json=change, headers=headers)
    stale = await client.patch(path, json=change, headers={**headers, "If-Match": '"9"'})
    empty = await client.patch(path, json={}, headers={**headers, "If-Match": '"1"'})
    refused = await client.patch(
        path, json={"url": "https://10.9.9.9/"}, headers={**headers, "If-Match": '"1"'}
    )
    changed = await client.patch(path, json=change, headers={**headers, "If-Match": '"1"'})

    assert [each.status_code for each in (unnamed, stale, refused)] == [428, 412, 422]
    assert {each.headers["content-type"] for each in (unnamed, stale, refused)} == {PROBLEM}
    # A change that sets nothing changes nothing: the endpoint as it is, its version unchanged.
    assert (empty.status_code, empty.headers["ETag"]) == (200, '"1"')
    assert (changed.status_code, changed.headers["ETag"]) == (200, '"2"')
    assert (changed.json()["event_types"], changed.json()["rate_limit"]) == (["trade.settled"], 5)


async def test_disabling_and_rotating_answer_the_endpoint_and_the_new_secret_once(
    client: httpx.AsyncClient, as_principal: Any, desk: Any
) -> None:
    headers = as_principal(desk.partner())
    made = (await _register(client, headers)).json()
    path = f"/endpoints/{made['id']}"

    rotated = await client.post(
        f"{path}/secret/rotate", json={"overlap_seconds": 60}, headers=headers
    )
    disabled = await client.post(f"{path}/disable", json={"reason": "maintenance"}, headers=headers)
    read = await client.get(path, headers=headers)

    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in (made["secret"], read.text)
    assert [UUID(each["id"]) for each in rotated.json()["secrets"]] == [
        UUID(made["secret_id"]),
        UUID(rotated.json()["secret_id"]),
    ]
    assert (disabled.json()["enabled"], disabled.json()["disabled_reason"]) == (
        False,
        "maintenance",
    )
    assert (read.json()["version"], read.headers["ETag"]) == (3, '"3"')


@pytest.mark.parametrize(
    "body",
    [{"overlap_seconds": -1}, {"overlap_seconds": 604_801}, {"overlap_seconds": "1h"}, {"x": 1}],
)
async def test_a_rotation_with_an_overlap_out_of_bounds_is_a_422_problem(
    client: httpx.AsyncClient, as_principal: Any, desk: Any, body: dict[str, Any]
) -> None:
    headers = as_principal(desk.partner())
    made = (await _register(client, headers)).json()

    answer = await client.post(f"/endpoints/{made['id']}/secret/rotate", json=body, headers=headers)

    assert (answer.status_code, answer.headers["content-type"]) == (422, PROBLEM)
