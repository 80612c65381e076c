"""Bearer tokens through the real gateway: what is let through, and every way one is refused."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PROBLEM_JSON = "application/problem+json"
SPOOFED_TENANT = "00000000-0000-0000-0000-00000000b0b0"


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _segment(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


def _assert_refused(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    problem = answer.json()
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"].startswith("urn:mandi:problem:")
    assert problem["correlation_id"] == answer.headers["x-request-id"]


def test_a_valid_token_reaches_the_service_as_its_principal(gateway, new_admin):
    admin = new_admin()
    answer = gateway.get("/api/v1/auth/me", headers=admin.bearer)
    assert answer.status_code == 200
    assert answer.json()["tenant_id"] == admin.tenant_id
    assert answer.json()["roles"] == ["admin"]
    assert int(answer.headers["ratelimit-remaining"]) < int(answer.headers["ratelimit-limit"])


def test_no_credential_is_401(gateway):
    answer = gateway.get("/api/v1/auth/me")
    _assert_refused(answer, 401, "missing_credential")
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_malformed_token_is_401(gateway):
    for token in ("not-a-token", "a.b.c", "Zm9v.YmFy.YmF6"):
        answer = gateway.get("/api/v1/auth/me", headers={"authorization": f"Bearer {token}"})
        _assert_refused(answer, 401, "invalid_token")


def test_an_expired_token_is_401(gateway, new_admin, sign_as_platform):
    claims = _claims(new_admin().access_token)
    now = int(time.time())
    expired = sign_as_platform({**claims, "iat": now - 1200, "exp": now - 600})
    answer = gateway.get("/api/v1/auth/me", headers={"authorization": f"Bearer {expired}"})
    _assert_refused(answer, 401, "expired_token")


def test_a_token_signed_with_another_key_is_401(gateway, new_admin):
    token = new_admin().access_token
    kid = jwt.get_unverified_header(token)["kid"]
    forged = jwt.encode(
        _claims(token), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid}
    )
    answer = gateway.get("/api/v1/auth/me", headers={"authorization": f"Bearer {forged}"})
    _assert_refused(answer, 401, "invalid_token")


def test_an_unsigned_alg_none_token_is_401(gateway, new_admin):
    token = new_admin().access_token
    header = {"alg": "none", "typ": "JWT", "kid": jwt.get_unverified_header(token)["kid"]}
    unsigned = f"{_segment(header)}.{_segment(_claims(token))}."
    answer = gateway.get("/api/v1/auth/me", headers={"authorization": f"Bearer {unsigned}"})
    _assert_refused(answer, 401, "invalid_token")


def test_a_token_of_an_ended_session_is_401(gateway, new_admin):
    admin = new_admin()
    ended = gateway.post("/api/v1/auth/logout", json={"refresh_token": admin.refresh_token})
    assert ended.status_code == 204
    answer = gateway.get("/api/v1/auth/me", headers=admin.bearer)
    _assert_refused(answer, 401, "revoked")


def test_spoofed_principal_headers_are_ignored(gateway, new_admin):
    admin = new_admin()
    spoofed = {
        "x-tenant-id": SPOOFED_TENANT,
        "x-principal-id": "someone-else",
        "x-principal-type": "internal",
        "x-scopes": "*",
        "x-mandi-gateway": "guessed",
    }
    answer = gateway.get("/api/v1/auth/me", headers={**admin.bearer, **spoofed})
    assert answer.status_code == 200
    assert answer.json()["tenant_id"] == admin.tenant_id
    assert answer.json()["principal_id"] != "someone-else"


def test_spoofed_headers_without_a_credential_claim_nothing(gateway):
    answer = gateway.get(
        "/api/v1/auth/me",
        headers={"x-tenant-id": SPOOFED_TENANT, "x-principal-id": "x", "x-scopes": "*"},
    )
    _assert_refused(answer, 401, "missing_credential")


def test_principal_headers_without_the_gateway_secret_are_refused_by_the_service(platform):
    direct = httpx.get(f"{platform.auth.url}/me", headers={"x-tenant-id": SPOOFED_TENANT})
    assert direct.status_code == 401
