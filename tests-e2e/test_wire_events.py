"""Every message the run put on Kafka is a CloudEvent with its whole context.

This module runs last (conftest.py orders it so): it reads every message the platform's services
published since the platform started, whoever made it — a request, the operator's
create-tenant command, the background verification sweep — and parses each with the
`cloudevents` SDK's Kafka binding. It also makes one of each kind itself, so it proves them
even when run alone.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any
from uuid import UUID

import httpx
import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event
from partner_bodies import new_partner_body

TRACEPARENT = re.compile(r"^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")
TYPE = re.compile(r"^mandi\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.v[1-9][0-9]*$")


def _events(published_since_start) -> list[Any]:
    return [
        from_binary_event(KafkaMessage(dict(record.headers), record.key, record.value))
        for record in published_since_start()
    ]


def _wait_for(published_since_start, wanted, timeout=20.0):
    """The events since the start, once `wanted(events)` holds (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    while True:
        events = _events(published_since_start)
        if wanted(events) or time.monotonic() > deadline:
            return events
        time.sleep(0.3)


def _of_type(events, type_name, **data):
    return [
        event
        for event in events
        if event.get_type() == type_name
        and all(event.get_data().get(name) == value for name, value in data.items())
    ]


@pytest.fixture(scope="module")
def produced_everywhere(platform) -> dict[str, str]:
    """One event of each way events are made: a command, requests, and the sweep."""
    slug = f"w-{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    platform.create_tenant(slug, f"founder@{slug}.example", password)
    with httpx.Client(base_url=platform.gateway.url, timeout=10) as gateway:
        tokens = gateway.post(
            "/api/v1/auth/login",
            json={"tenant": slug, "email": f"founder@{slug}.example", "password": password},
        ).json()
        staff = {"authorization": f"Bearer {tokens['access_token']}"}
        key = gateway.post(
            "/api/v1/auth/api-keys",
            headers=staff,
            json={"name": "erp", "scopes": ["auth:read"], "partner_id": str(uuid.uuid4())},
        ).json()
        gateway.post(f"/api/v1/auth/api-keys/{key['id']}/rotate", headers=staff)
        gateway.post(f"/api/v1/auth/api-keys/{key['id']}/revoke", headers=staff)
        partner = _parked_then_verified_by_the_sweep(platform, gateway, staff)
        tenant_id = gateway.get("/api/v1/auth/me", headers=staff).json()["tenant_id"]
    return {"slug": slug, "tenant_id": tenant_id, "partner_id": partner}


def _parked_then_verified_by_the_sweep(platform, gateway, staff) -> str:
    assert platform.verifier is not None
    platform.verifier.stop()
    try:
        partner = gateway.post("/api/v1/partners", headers=staff, json=new_partner_body()).json()
        gateway.post(f"/api/v1/partners/{partner['id']}/submit", headers=staff)
        _until(lambda: _verification(gateway, staff, partner["id"]) == "parked")
    finally:
        platform.verifier.start()
    _until(lambda: _verification(gateway, staff, partner["id"]) == "passed")
    return str(partner["id"])


def _verification(gateway: httpx.Client, headers: dict[str, str], partner_id: str) -> str:
    return str(
        gateway.get(f"/api/v1/partners/{partner_id}", headers=headers).json()["verification"]
    )


def _until(condition, timeout=20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.2)


def test_every_message_of_the_run_is_a_cloudevent_with_its_context(
    published_since_start, produced_everywhere
):
    partner = produced_everywhere["partner_id"]
    events = _wait_for(
        published_since_start,
        lambda found: (
            _of_type(found, "mandi.partner.verified.v1", outcome="passed")
            and any(event.get_subject() == partner for event in found)
        ),
    )
    assert events
    for event in events:
        described = f"{event.get_type()} {event.get_id()}"
        assert TYPE.fullmatch(event.get_type()), described
        assert event.get_source() in {"mandi/auth", "mandi/partners"}, described
        tenant = event.get_extension("tenantid")
        assert tenant, f"{described} has no tenant"
        assert UUID(tenant), described
        assert tenant == event.get_data().get("tenant_id", tenant), f"{described}: other tenant"
        assert event.get_extension("correlationid"), f"{described} has no correlation id"
        assert TRACEPARENT.fullmatch(event.get_extension("traceparent") or ""), described
        assert event.get_subject(), described
        assert isinstance(event.get_data(), dict), described
        assert json.dumps(event.get_data())


def test_tenant_creation_by_the_operator_command_carries_the_new_tenant(
    published_since_start, produced_everywhere
):
    slug = produced_everywhere["slug"]
    events = _wait_for(
        published_since_start, lambda found: _of_type(found, "mandi.tenant.created.v1", slug=slug)
    )
    [created] = _of_type(events, "mandi.tenant.created.v1", slug=slug)
    tenant = created.get_data()["tenant_id"]
    assert created.get_extension("tenantid") == tenant
    [admin] = _of_type(events, "mandi.user.created.v1", tenant_id=tenant)
    assert admin.get_extension("tenantid") == tenant
    # One operation: the command's own correlation id and trace, shared by both of its events.
    assert admin.get_extension("correlationid") == created.get_extension("correlationid")
    trace = created.get_extension("traceparent").split("-")[1]
    assert admin.get_extension("traceparent").split("-")[1] == trace


def test_the_sweep_starts_its_own_conversation(published_since_start, produced_everywhere):
    partner = produced_everywhere["partner_id"]
    events = _wait_for(
        published_since_start,
        lambda found: [
            e for e in _of_type(found, "mandi.partner.verified.v1") if e.get_subject() == partner
        ],
    )
    mine = [event for event in events if event.get_subject() == partner]
    [submitted] = [e for e in mine if e.get_type() == "mandi.partner.submitted.v1"]
    [passed] = [e for e in mine if e.get_data().get("outcome") == "passed"]
    assert passed.get_extension("tenantid") == produced_everywhere["tenant_id"]
    # Made by the background sweep, not by the request that submitted the application.
    assert passed.get_extension("correlationid") != submitted.get_extension("correlationid")
    assert (
        passed.get_extension("traceparent").split("-")[1]
        != (submitted.get_extension("traceparent").split("-")[1])
    )
