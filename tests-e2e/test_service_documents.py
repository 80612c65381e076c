"""A service's OpenAPI document through the gateway: served to callers with the service's read
scope, naming the gateway's path as its server; no Swagger UI or ReDoc pages anywhere."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mandi_testing.platform import RunningPlatform

PROBLEM = "application/problem+json"


def _key(gateway: httpx.Client, admin: Any, scopes: list[str]) -> dict[str, str]:
    answer = gateway.post(
        "/api/v1/auth/api-keys",
        headers=admin.bearer,
        json={"name": "docs-reader", "scopes": scopes, "partner_id": str(uuid.uuid4())},
    )
    assert answer.status_code == 201, answer.text
    return {"x-api-key": answer.json()["key"]}


def _problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status
    return problem


@pytest.mark.parametrize("service", ["partners", "auth"])
def test_the_openapi_document_needs_the_services_read_scope(
    platform: RunningPlatform,
    gateway: httpx.Client,
    new_admin: Callable[..., Any],
    service: str,
) -> None:
    admin = new_admin()
    other = "auth" if service == "partners" else "partners"
    path = f"/api/v1/{service}/openapi.json"

    anonymous = httpx.get(f"{platform.gateway.url}{path}", timeout=10)
    lacking = gateway.get(path, headers=_key(gateway, admin, [f"{other}:read"]))
    reader = _key(gateway, admin, [f"{service}:read"])
    served = gateway.get(path, headers=reader)

    assert _problem(anonymous, 401)["code"] == "missing_credential"
    assert _problem(lacking, 403)["code"] == "insufficient_scope"
    assert served.status_code == 200, served.text
    document = served.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    assert document["servers"] == [{"url": f"/api/v1/{service}"}]
    assert document["paths"]
    assert all(path.startswith("/") and "/api/v1" not in path for path in document["paths"])


def test_the_partners_document_describes_the_search_by_tax_id(
    gateway: httpx.Client, new_admin: Callable[..., Any]
) -> None:
    headers = _key(gateway, new_admin(), ["partners:read"])
    document = gateway.get("/api/v1/partners/openapi.json", headers=headers).json()
    assert "post" in document["paths"]["/search"]
    listing = document["paths"]["/"]["get"]
    assert not {"tax_id", "tax_id_kind"} & {
        parameter["name"] for parameter in listing["parameters"]
    }


@pytest.mark.parametrize("page", ["docs", "redoc", "docs/oauth2-redirect"])
@pytest.mark.parametrize("service", ["partners", "auth"])
def test_no_documentation_page_is_served(
    gateway: httpx.Client, new_admin: Callable[..., Any], service: str, page: str
) -> None:
    headers = _key(gateway, new_admin(), [f"{service}:read"])
    answer = gateway.get(f"/api/v1/{service}/{page}", headers=headers)
    assert f"/api/v1/{service}/openapi.json" in _problem(answer, 404)["detail"]
