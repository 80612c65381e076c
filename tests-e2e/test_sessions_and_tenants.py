"""Sessions, sign-in refusals and tenant isolation, through the real gateway."""

from __future__ import annotations

import uuid

import httpx
import pytest

from mandi_testing.processes import ServiceFailed

PARTNER = "0d3b1f9e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"


def _refresh(gateway, token):
    return gateway.post("/api/v1/auth/token/refresh", json={"refresh_token": token})


def test_a_reused_refresh_token_ends_its_whole_family(gateway, new_admin):
    admin = new_admin()
    renewed = _refresh(gateway, admin.refresh_token)
    assert renewed.status_code == 200
    second = renewed.json()
    reused = _refresh(gateway, admin.refresh_token)
    assert reused.status_code == 401
    assert reused.headers["content-type"] == "application/problem+json"
    # The thief's and the owner's newest tokens alike are now dead.
    assert _refresh(gateway, second["refresh_token"]).status_code == 401
    me = gateway.get(
        "/api/v1/auth/me", headers={"authorization": f"Bearer {second['access_token']}"}
    )
    assert me.status_code == 401
    assert me.json()["code"] == "revoked"


def test_sign_in_refusals_do_not_tell_whether_the_account_exists(login, new_admin):
    admin = new_admin()
    wrong_password = login(admin.tenant, admin.email, "not-the-password")
    no_such_user = login(admin.tenant, "nobody@nowhere.example", "not-the-password")
    no_such_tenant = login("no-such-tenant", admin.email, "not-the-password")
    answers = [wrong_password, no_such_user, no_such_tenant]
    assert {answer.status_code for answer in answers} == {401}
    assert len({(answer.json()["type"], answer.json()["detail"]) for answer in answers}) == 1


def test_repeated_failures_back_off_the_account_without_revealing_it(login, new_admin):
    admin = new_admin()
    answers = [login(admin.tenant, admin.email, "wrong-password") for _ in range(8)]
    throttled = [answer for answer in answers if answer.status_code == 429]
    assert throttled, [answer.status_code for answer in answers]
    assert int(throttled[0].headers["retry-after"]) >= 1
    # An unknown account backs off the same way, so 429 reveals nothing either.
    ghosts = [login(admin.tenant, "ghost@nowhere.example", "wrong-password") for _ in range(8)]
    assert any(answer.status_code == 429 for answer in ghosts)


def test_a_user_of_one_tenant_cannot_act_on_another(gateway, new_admin):
    alice, bob = new_admin("a"), new_admin("b")
    assert alice.tenant_id != bob.tenant_id
    bobs_key = gateway.post(
        "/api/v1/auth/api-keys",
        headers=bob.bearer,
        json={"name": "bob", "scopes": ["auth:read"], "partner_id": PARTNER},
    ).json()
    revoke = gateway.post(f"/api/v1/auth/api-keys/{bobs_key['id']}/revoke", headers=alice.bearer)
    assert revoke.status_code == 404
    rotate = gateway.post(f"/api/v1/auth/api-keys/{bobs_key['id']}/rotate", headers=alice.bearer)
    assert rotate.status_code == 404
    alices_view = gateway.get("/api/v1/auth/api-keys", headers=alice.bearer).json()
    assert bobs_key["id"] not in {key["id"] for key in alices_view}
    # Claiming Bob's tenant in a header changes nothing.
    spoofed = gateway.get(
        "/api/v1/auth/api-keys", headers={**alice.bearer, "x-tenant-id": bob.tenant_id}
    ).json()
    assert bobs_key["id"] not in {key["id"] for key in spoofed}
    assert gateway.get("/api/v1/auth/me", headers={"x-api-key": bobs_key["key"]}).status_code == 200


def test_a_signed_out_token_is_refused_by_auth_called_directly(platform, gateway, new_admin):
    # A direct call skips the gateway, not the session check: auth checks revocation itself.
    admin = new_admin()
    direct = f"{platform.auth.url}/me"
    assert httpx.get(direct, headers=admin.bearer).status_code == 200
    signed_out = gateway.post("/api/v1/auth/logout", json={"refresh_token": admin.refresh_token})
    assert signed_out.status_code == 204
    refused = httpx.get(direct, headers=admin.bearer)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


def _fresh_tenant(platform, gateway):
    slug, password = f"s-{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
    email = f"founder@{slug}.example"
    platform.create_tenant(slug, email, password)
    body = {"tenant": slug, "email": email, "password": password}
    tokens = gateway.post("/api/v1/auth/login", json=body).json()
    return slug, body, tokens


def test_suspending_a_tenant_ends_its_sessions_and_refuses_its_keys(platform, gateway):
    slug, credentials, tokens = _fresh_tenant(platform, gateway)
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    key = gateway.post(
        "/api/v1/auth/api-keys",
        headers=bearer,
        json={"name": "erp", "scopes": ["auth:read"], "partner_id": PARTNER},
    ).json()["key"]
    assert gateway.get("/api/v1/auth/me", headers={"x-api-key": key}).status_code == 200

    said = platform.auth_command("suspend-tenant", "--slug", slug, "--by", "ops:e2e")
    assert "1 sessions ended" in said

    by_token = gateway.get("/api/v1/auth/me", headers=bearer)
    assert by_token.status_code == 401
    assert by_token.json()["code"] in {"revoked", "tenant_suspended"}
    by_key = gateway.get("/api/v1/auth/me", headers={"x-api-key": key})
    assert (by_key.status_code, by_key.json()["code"]) == (401, "tenant_suspended")
    assert _refresh(gateway, tokens["refresh_token"]).status_code == 401
    assert gateway.post("/api/v1/auth/login", json=credentials).status_code == 401
    assert httpx.get(f"{platform.auth.url}/me", headers=bearer).status_code == 401

    platform.auth_command("reactivate-tenant", "--slug", slug)
    assert gateway.get("/api/v1/auth/me", headers={"x-api-key": key}).status_code == 200
    assert gateway.get("/api/v1/auth/me", headers=bearer).status_code == 401  # ended for good
    assert gateway.post("/api/v1/auth/login", json=credentials).status_code == 200


def test_suspending_an_unknown_tenant_says_so_in_one_line(platform):
    with pytest.raises(ServiceFailed, match="No tenant named"):
        platform.auth_command("suspend-tenant", "--slug", "no-such-tenant")
