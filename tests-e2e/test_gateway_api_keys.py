"""API keys through the real gateway: scopes, revocation within a second, expiry, limits."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

PARTNER = "5b0e1c2a-7d1e-4c55-9a3e-0d6f3c1b9e21"


def _issue(gateway, admin, **body):
    answer = gateway.post(
        "/api/v1/auth/api-keys",
        headers=admin.bearer,
        json={"name": "erp", "scopes": ["auth:read"], "partner_id": PARTNER} | body,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def _me(gateway, key):
    return gateway.get("/api/v1/auth/me", headers={"x-api-key": key})


def test_a_key_acts_as_its_partner_with_its_scopes(gateway, new_admin):
    admin = new_admin()
    issued = _issue(gateway, admin)
    assert issued["key"].startswith(issued["prefix"])
    answer = _me(gateway, issued["key"])
    assert answer.status_code == 200
    assert answer.json()["partner_id"] == PARTNER
    assert answer.json()["type"] == "external"
    assert answer.json()["scopes"] == ["auth:read"]


def test_a_key_lacking_the_scope_is_403(gateway, new_admin):
    key = _issue(gateway, new_admin())["key"]
    answer = gateway.post("/api/v1/auth/users", headers={"x-api-key": key}, json={})
    assert answer.status_code == 403
    assert answer.json()["code"] == "insufficient_scope"
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_wrong_or_mangled_key_is_401(gateway, new_admin):
    key = _issue(gateway, new_admin())["key"]
    for wrong in (key[:-1] + ("A" if key[-1] != "A" else "B"), "mandi_live_short", key + "x"):
        answer = _me(gateway, wrong)
        assert answer.status_code == 401
        assert answer.json()["code"] == "invalid_api_key"


def test_a_revoked_key_is_refused_within_one_second(gateway, new_admin):
    admin = new_admin()
    issued = _issue(gateway, admin)
    assert _me(gateway, issued["key"]).status_code == 200
    revoked = gateway.post(f"/api/v1/auth/api-keys/{issued['id']}/revoke", headers=admin.bearer)
    assert revoked.status_code == 200
    started = time.monotonic()
    while _me(gateway, issued["key"]).status_code == 200:
        assert time.monotonic() - started < 1.0, "the revoked key still works after 1 s"
        time.sleep(0.02)
    answer = _me(gateway, issued["key"])
    assert answer.status_code == 401
    assert answer.json()["code"] == "revoked_api_key"


def test_an_expired_key_is_refused(gateway, new_admin):
    admin = new_admin()
    expires_at = datetime.now(UTC) + timedelta(seconds=2)
    issued = _issue(gateway, admin, expires_at=expires_at.isoformat())
    assert _me(gateway, issued["key"]).status_code == 200
    time.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 0.1)
    answer = _me(gateway, issued["key"])
    assert answer.status_code == 401
    assert answer.json()["code"] == "expired_api_key"


def test_a_rotated_key_and_its_successor_both_work_for_the_overlap(gateway, new_admin):
    admin = new_admin()
    old = _issue(gateway, admin)
    rotated = gateway.post(f"/api/v1/auth/api-keys/{old['id']}/rotate", headers=admin.bearer)
    assert rotated.status_code == 201
    successor = rotated.json()
    assert successor["key"] != old["key"]
    assert datetime.fromisoformat(successor["previous_key_valid_until"]) > datetime.now(UTC)
    assert _me(gateway, old["key"]).status_code == 200
    assert _me(gateway, successor["key"]).status_code == 200


def test_over_the_rate_limit_is_429_with_retry_after(gateway, new_admin):
    key = _issue(gateway, new_admin(), plan="tiny")["key"]  # 1/s, burst 2
    answers = [_me(gateway, key) for _ in range(4)]
    assert [answer.status_code for answer in answers[:2]] == [200, 200]
    refused = answers[-1]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-limit"] == "2"
    assert refused.headers["ratelimit-remaining"] == "0"
    time.sleep(int(refused.headers["retry-after"]))
    assert _me(gateway, key).status_code == 200


def test_past_the_daily_quota_is_429_until_tomorrow(gateway, new_admin):
    key = _issue(gateway, new_admin(), plan="quota")["key"]  # 3 a day
    statuses = [_me(gateway, key).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = _me(gateway, key)
    assert refused.json()["code"] == "quota_exceeded"
    assert 1 <= int(refused.headers["retry-after"]) <= 86_400


def test_listing_shows_when_a_key_was_last_used_and_never_its_secret(gateway, new_admin):
    admin, partner = new_admin(), str(uuid.uuid4())
    issued = _issue(gateway, admin, partner_id=partner)
    assert _me(gateway, issued["key"]).status_code == 200
    listed = gateway.get(f"/api/v1/auth/api-keys?partner_id={partner}", headers=admin.bearer).json()
    assert [key["id"] for key in listed] == [issued["id"]]
    assert listed[0]["last_used_at"] is not None
    assert "key" not in listed[0]
    assert issued["key"] not in str(listed)


def test_a_key_own_limit_overrides_its_plan(gateway, new_admin):
    issued = _issue(gateway, new_admin(), limit={"per_second": 1, "burst": 1})
    assert issued["limit"] == {"per_second": 1.0, "burst": 1, "per_day": None}
    statuses = [_me(gateway, issued["key"]).status_code for _ in range(2)]
    assert statuses == [200, 429]
