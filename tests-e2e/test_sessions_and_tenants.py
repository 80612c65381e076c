"""Sessions, sign-in refusals and tenant isolation, through the real gateway."""

from __future__ import annotations

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
