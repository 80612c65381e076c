"""Gateway clients acting for a partner: its ERP with an API key, its staff signed in; and an
approved partner to act for."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

import httpx
from partner_bodies import new_partner_body

from mandi_testing.platform import RunningPlatform


def approved_partner(staff: httpx.Client) -> str:
    """A new partner, registered, verified by the fake verifier and approved by operator staff;
    its id."""
    partner = staff.post("/api/v1/partners", json=new_partner_body()).json()
    assert staff.post(f"/api/v1/partners/{partner['id']}/submit").status_code == 200
    deadline = time.monotonic() + 20
    while staff.get(f"/api/v1/partners/{partner['id']}").json()["verification"] != "passed":
        assert time.monotonic() < deadline, "the verifier never answered"
        time.sleep(0.2)
    approved = staff.post(f"/api/v1/partners/{partner['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    return str(partner["id"])


def api_key_client(
    platform: RunningPlatform, staff: httpx.Client, partner_id: str, scopes: Sequence[str]
) -> httpx.Client:
    """A client holding a new API key of the partner, issued by operator staff."""
    issued = staff.post(
        "/api/v1/auth/api-keys",
        json={"name": "erp", "scopes": list(scopes), "partner_id": partner_id},
    )
    assert issued.status_code == 201, issued.text
    headers = {"x-api-key": issued.json()["key"]}
    return httpx.Client(base_url=platform.gateway.url, timeout=10, headers=headers)


def partner_user_client(
    platform: RunningPlatform, staff: httpx.Client, tenant: str, partner_id: str
) -> httpx.Client:
    """A client signed in (a JWT) as a new user of the partner's staff."""
    email, password = f"staff-{uuid.uuid4().hex[:8]}@partner.example", uuid.uuid4().hex
    user = {"email": email, "password": password, "type": "external", "partner_id": partner_id}
    added = staff.post("/api/v1/auth/users", json={**user, "roles": ["partner_admin"]})
    assert added.status_code == 201, added.text
    client = httpx.Client(base_url=platform.gateway.url, timeout=10)
    signed_in = client.post(
        "/api/v1/auth/login", json={"tenant": tenant, "email": email, "password": password}
    )
    assert signed_in.status_code == 200, signed_in.text
    client.headers["authorization"] = f"Bearer {signed_in.json()['access_token']}"
    return client
