"""What nginx answers itself: problem+json for every error, request ids, closed internal paths."""

from __future__ import annotations

import json
import time

import httpx

from mandi_testing.platform import running_gateway_for


def _assert_problem(answer, status):
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == status
    assert answer.json()["type"].startswith("urn:mandi:problem:")


def test_an_unknown_route_is_a_404_problem(gateway):
    _assert_problem(gateway.get("/nowhere"), 404)
    _assert_problem(gateway.get("/api/v1/no-such-service/things"), 404)


def test_internal_endpoints_are_not_reachable_through_the_gateway(gateway):
    for path in ("internal/authorize", "metrics", "readyz"):
        _assert_problem(gateway.get(f"/api/v1/auth/{path}"), 404)


def test_an_oversized_body_is_a_413_problem(gateway):
    body = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    answer = gateway.post(
        "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
    )
    _assert_problem(answer, 413)


def test_a_request_id_is_kept_or_made_and_reaches_the_service(gateway, new_admin):
    admin = new_admin()
    given = gateway.get("/api/v1/auth/me", headers={**admin.bearer, "x-request-id": "req-e2e-0001"})
    assert given.headers["x-request-id"] == "req-e2e-0001"
    assert given.headers["x-correlation-id"] == "req-e2e-0001"  # set by the service from it
    made = gateway.get("/api/v1/auth/me", headers={**admin.bearer, "x-request-id": "no good id"})
    assert made.headers["x-request-id"] != "no good id"
    assert len(made.headers["x-request-id"]) == 32


def test_the_access_log_is_json_with_the_principal(platform, gateway, new_admin):
    admin = new_admin()
    gateway.get("/api/v1/auth/me", headers={**admin.bearer, "x-request-id": "req-e2e-log-01"})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = platform.gateway.access_log.read_text(errors="replace").splitlines()
        entries = [json.loads(line) for line in lines]
        logged = [entry for entry in entries if entry["request_id"] == "req-e2e-log-01"]
        if logged:
            break
        time.sleep(0.2)
    assert logged, "the request never reached the access log"
    assert logged[0]["tenant_id"] == admin.tenant_id
    assert logged[0]["status"] == 200


def test_the_per_address_limit_is_a_429_problem(platform, tmp_path):
    with running_gateway_for(platform, tmp_path, per_ip_rate=1, per_ip_burst=3) as strict:
        jwks = f"{strict.url}/api/v1/auth/.well-known/jwks.json"
        statuses = [httpx.get(jwks).status_code for _ in range(8)]
        assert statuses[:4] == [200] * 4
        assert 429 in statuses
        refused = httpx.get(jwks)
        _assert_problem(refused, 429)
        assert refused.headers["retry-after"] == "1"


def test_an_unreachable_service_is_a_503_problem(platform, tmp_path):
    with running_gateway_for(platform, tmp_path, auth_port=1) as broken:
        _assert_problem(httpx.get(f"{broken.url}/api/v1/auth/me"), 503)
