"""What routes take from a request: the caller, the If-Match version, the Idempotency-Key."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Annotated, Any
from uuid import uuid4

import httpx
import pytest
from fastapi import Depends, FastAPI, Request, Response

from mandi_errors.http import PROBLEM_JSON, install_problem_handlers
from mandi_runtime.requests import (
    IdempotencyDep,
    IfMatchDep,
    PrincipalDep,
    deps_of,
    etag,
    require_if_match,
    service_of,
)
from mandi_security import (
    GATEWAY_SECRET_HEADER,
    Principal,
    PrincipalResolver,
    PrincipalType,
    gateway_headers,
)
from mandi_testing import asgi_client

GATEWAY_SECRET = "shared-with-the-gateway-in-tests"
TENANT = uuid4()
RAVI = Principal(tenant_id=TENANT, principal_id="ravi", type=PrincipalType.INTERNAL)
ASHA = Principal(tenant_id=TENANT, principal_id="asha", type=PrincipalType.INTERNAL)


@dataclass(frozen=True)
class OrderDependencies:
    """What the sample routes' use cases would need."""

    desk: str


DEPS = OrderDependencies(desk="wheat")


def _echo(
    order_id: str, body: dict[str, Any], principal: Principal, version: int | None, key: Any
) -> dict[str, Any]:
    return {
        "order": order_id,
        "body": body,
        "principal": principal.principal_id,
        "version": version,
        "key": None if key is None else [key.principal_id, key.key, key.fingerprint],
    }


def build_app() -> FastAPI:
    """Routes that take what mandi_runtime.requests gives, and echo it back."""
    app = FastAPI()
    install_problem_handlers(app)
    resolver = PrincipalResolver(gateway_secret=GATEWAY_SECRET, verifier=None)
    app.state.service = SimpleNamespace(resolver=resolver, deps=DEPS)

    @app.patch("/orders/{order_id}")
    async def amend_order(
        order_id: str,
        body: dict[str, Any],
        principal: PrincipalDep,
        version: IfMatchDep,
        key: IdempotencyDep,
        response: Response,
    ) -> dict[str, Any]:
        response.headers["ETag"] = etag((version or 0) + 1)
        return _echo(order_id, body, principal, version, key)

    @app.put("/orders/{order_id}")
    async def replace_order(
        order_id: str,
        body: dict[str, Any],
        principal: PrincipalDep,
        version: IfMatchDep,
        key: IdempotencyDep,
    ) -> dict[str, Any]:
        return _echo(order_id, body, principal, version, key)

    @app.get("/desk")
    async def read_desk(
        request: Request, deps: Annotated[OrderDependencies, Depends(deps_of)]
    ) -> dict[str, Any]:
        return {"desk": deps.desk, "same_service": service_of(request) is app.state.service}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """A client of the sample app, in process."""
    async with asgi_client(build_app()) as http:
        yield http


def _as(principal: Principal, **headers: str) -> dict[str, str]:
    return {**gateway_headers(principal), GATEWAY_SECRET_HEADER: GATEWAY_SECRET, **headers}


def _problem(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = response.json()
    assert problem["status"] == response.status_code
    return problem


@pytest.mark.parametrize("if_match", ['"3"', 'W/"3"', etag(3)])
async def test_if_match_names_the_version_as_the_etag_gave_it(
    client: httpx.AsyncClient, if_match: str
) -> None:
    response = await client.patch("/orders/7", json={}, headers=_as(RAVI, **{"If-Match": if_match}))

    assert response.status_code == 200, response.text
    assert response.json()["version"] == 3
    assert response.headers["ETag"] == '"4"'


@pytest.mark.parametrize("if_match", ["3", '"three"', "*", '"1234567890"', '"3", "4"', ""])
async def test_a_malformed_if_match_is_a_client_error_problem(
    client: httpx.AsyncClient, if_match: str
) -> None:
    response = await client.patch("/orders/7", json={}, headers=_as(RAVI, **{"If-Match": if_match}))

    assert _problem(response)["status"] in {400, 422}


async def test_without_if_match_or_idempotency_key_a_route_gets_none(
    client: httpx.AsyncClient,
) -> None:
    response = await client.patch("/orders/7", json={"quantity": 40}, headers=_as(RAVI))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "order": "7",
        "body": {"quantity": 40},
        "principal": "ravi",
        "version": None,
        "key": None,
    }


async def _key(
    client: httpx.AsyncClient,
    principal: Principal,
    body: dict[str, Any],
    *,
    method: str = "PATCH",
    path: str = "/orders/7",
) -> list[str]:
    headers = _as(principal, **{"Idempotency-Key": "order-7-attempt"})
    response = await client.request(method, path, json=body, headers=headers)
    assert response.status_code == 200, response.text
    key: list[str] = response.json()["key"]
    return key


async def test_an_idempotency_key_is_the_callers_and_fingerprints_the_request_as_sent(
    client: httpx.AsyncClient,
) -> None:
    first = await _key(client, RAVI, {"quantity": 40})
    assert first[:2] == ["ravi", "order-7-attempt"]

    assert await _key(client, RAVI, {"quantity": 40}) == first, "the same request, the same key"
    assert (await _key(client, RAVI, {"quantity": 41}))[2] != first[2], "another body"
    assert (await _key(client, RAVI, {"quantity": 40}, path="/orders/8"))[2] != first[2]
    assert (await _key(client, RAVI, {"quantity": 40}, method="PUT"))[2] != first[2]
    assert (await _key(client, RAVI, {"quantity": 40}, path="/orders/7?urgent=1"))[2] != first[2]
    assert (await _key(client, ASHA, {"quantity": 40}))[0] == "asha", "another caller's key"


@pytest.mark.parametrize("key", ["k" * 201, "has space", "naïve"])
async def test_a_malformed_idempotency_key_is_a_client_error_problem(
    client: httpx.AsyncClient, key: str
) -> None:
    headers = _as(RAVI, **{"Idempotency-Key": key})
    response = await client.patch(
        "/orders/7",
        json={},
        headers={name: value.encode() for name, value in headers.items()},
    )

    assert _problem(response)["status"] in {400, 422}


@pytest.mark.parametrize(
    "headers",
    [
        gateway_headers(RAVI),
        {**gateway_headers(RAVI), GATEWAY_SECRET_HEADER: "guessed"},
        {GATEWAY_SECRET_HEADER: GATEWAY_SECRET},
    ],
    ids=["no gateway secret", "a wrong secret", "the secret but no principal"],
)
async def test_a_request_the_gateway_did_not_vouch_for_gets_no_principal(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.patch(
        "/orders/7", json={}, headers={**headers, "Idempotency-Key": "order-7", "If-Match": '"3"'}
    )

    assert _problem(response)["status"] == 401


async def test_routes_reach_the_running_services_dependencies(client: httpx.AsyncClient) -> None:
    response = await client.get("/desk")

    assert response.status_code == 200, response.text
    assert response.json() == {"desk": "wheat", "same_service": True}


def _if_match_parameter(document: dict[str, Any], method: str) -> dict[str, Any]:
    parameters = document["paths"]["/orders/{order_id}"][method]["parameters"]
    return next(p for p in parameters if p["in"] == "header" and p["name"].lower() == "if-match")


def test_if_match_is_marked_required_on_patch_operations_only() -> None:
    document = copy.deepcopy(build_app().openapi())
    assert not _if_match_parameter(document, "patch").get("required", False)

    require_if_match(document)

    assert _if_match_parameter(document, "patch")["required"] is True
    assert not _if_match_parameter(document, "put").get("required", False)
