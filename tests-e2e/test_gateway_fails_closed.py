"""The gateway authorizes what it routes, and nothing reaches a service that should not.

A scope is asked for the service the route targets, on the normalised path nginx routed on: a
path written oddly (`//`, `%61`, `..`) is the same request and needs the same scope. Only the
gateway may ask auth who a caller is, and an API key sent as a bearer token stops at nginx.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx

from mandi_testing.processes import running_gateway

PARTNER = "5b0e1c2a-7d1e-4c55-9a3e-0d6f3c1b9e21"


def _key(gateway, admin, scopes):
    answer = gateway.post(
        "/api/v1/auth/api-keys",
        headers=admin.bearer,
        json={"name": "erp", "scopes": scopes, "partner_id": PARTNER},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["key"]


def _raw_get(base_url: str, path: str, headers: dict[str, str]) -> tuple[int, dict]:
    """GET with the path exactly as written (httpx would normalise `..` and `//` away)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read() or b"{}")
    finally:
        connection.close()


def test_every_spelling_of_a_path_needs_the_scope_of_the_service_it_reaches(
    platform, gateway, new_admin
):
    key = _key(gateway, new_admin(), ["availability:read"])
    headers = {"x-api-key": key}
    for path in (
        "/api/v1/auth/me",
        "//api/v1/auth/me",
        "/api/v1/%61uth/me",
        "/api/v1/auth//me",
        f"/api/v1/availability/../partners/{PARTNER}",
        f"/api/v1/availability/%2e%2e/partners/{PARTNER}",
    ):
        status, problem = _raw_get(platform.gateway.url, path, headers)
        assert status == 403, (path, status, problem)
        assert problem["code"] == "insufficient_scope", path


def test_a_key_with_the_scope_reaches_the_service_however_the_path_is_spelt(gateway, new_admin):
    key = _key(gateway, new_admin(), ["auth:read"])
    for path in ("/api/v1/auth/me", "//api/v1/auth/me", "/api/v1/%61uth/me"):
        status, me = _raw_get(str(gateway.base_url), path, {"x-api-key": key})
        assert (status, me.get("partner_id")) == (200, PARTNER), path


def test_a_post_to_search_needs_only_the_read_scope(gateway, new_admin):
    key = _key(gateway, new_admin(), ["partners:read"])
    query = {"tax_id": {"kind": "pan", "country": "IN", "value": "AAPFU0939F"}}
    searched = gateway.post("/api/v1/partners/search", headers={"x-api-key": key}, json=query)
    assert searched.status_code == 200, searched.text
    assert isinstance(searched.json(), list)
    written = gateway.post("/api/v1/partners", headers={"x-api-key": key}, json={})
    assert (written.status_code, written.json()["code"]) == (403, "insufficient_scope")


def test_only_the_gateway_may_ask_auth_who_a_caller_is(platform, gateway, new_admin):
    key = _key(gateway, new_admin(), ["auth:read"])
    asked = {
        "x-api-key": key,
        "x-original-method": "GET",
        "x-mandi-service": "auth",
        "x-mandi-path": "/api/v1/auth/me",
    }
    authorize = f"{platform.auth.url}/internal/authorize"
    without_secret = httpx.get(authorize, headers=asked)
    assert without_secret.status_code == 403
    assert without_secret.headers["x-mandi-reason"] == "not_gateway"
    assert "x-tenant-id" not in without_secret.headers
    wrong_secret = httpx.get(authorize, headers={**asked, "x-mandi-gateway": "guessed"})
    assert wrong_secret.status_code == 403
    as_gateway = httpx.get(authorize, headers={**asked, "x-mandi-gateway": platform.gateway_secret})
    assert as_gateway.status_code == 200
    assert as_gateway.headers["x-partner-id"] == PARTNER


def test_auth_refuses_a_gateway_question_that_names_no_route(platform, gateway, new_admin):
    key = _key(gateway, new_admin(), ["*"])
    asked = {"x-api-key": key, "x-mandi-gateway": platform.gateway_secret}
    authorize = f"{platform.auth.url}/internal/authorize"
    for route in (
        {},
        {"x-mandi-service": "auth"},
        {"x-mandi-service": "auth", "x-mandi-path": "/api/v1/partners/x"},
    ):
        answer = httpx.get(authorize, headers={**asked, **route, "x-original-method": "GET"})
        assert (answer.status_code, answer.headers["x-mandi-reason"]) == (403, "unroutable")


class _HeaderEcho(BaseHTTPRequestHandler):
    """Answers every GET with the request's headers, as a service would receive them."""

    def do_GET(self) -> None:
        body = json.dumps({name.lower(): value for name, value in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        """Quiet: the test reads the answers."""


@contextmanager
def _header_echo() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HeaderEcho)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_an_api_key_sent_as_a_bearer_token_does_not_reach_the_service(
    platform, gateway, new_admin, tmp_path
):
    admin = new_admin()
    key = _key(gateway, admin, ["partners:read"])
    secret_file = tmp_path / "gateway.secret"
    secret_file.write_text(platform.gateway_secret)
    secret_file.chmod(0o600)
    with (
        _header_echo() as echo_port,
        running_gateway(
            {"auth": platform.auth.port, "partners": echo_port}, secret_file, tmp_path / "gw"
        ) as echoing,
    ):
        as_bearer = httpx.get(
            f"{echoing.url}/api/v1/partners/x", headers={"authorization": f"Bearer {key}"}
        )
        assert as_bearer.status_code == 200, as_bearer.text
        assert "authorization" not in as_bearer.json()
        assert as_bearer.json()["x-partner-id"] == PARTNER
        as_header = httpx.get(f"{echoing.url}/api/v1/partners/x", headers={"x-api-key": key})
        assert "x-api-key" not in as_header.json()
        token = httpx.get(f"{echoing.url}/api/v1/partners/x", headers=admin.bearer)
        assert token.json()["authorization"] == admin.bearer["authorization"]
