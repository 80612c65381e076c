"""The order book through the gateway, as the README walks it: operator staff define a commodity
and approve two partners; the seller's ERP publishes an availability with an API key and the
buyer's staff post a requirement signed in with a JWT. What lets them publish is the partners
service's approval, which reaches the availability service as an event on Kafka."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from typing import Any

import httpx
from offer_bodies import cotton_body, offer_terms
from partner_bodies import new_partner_body
from partner_clients import api_key_client, approved_partner, partner_user_client

from mandi_testing.kafka import read_topic
from mandi_testing.platform import RunningPlatform

PROBLEM = "application/problem+json"
_SCOPES = ("availability:read", "availability:write")


def _commodity(staff: httpx.Client) -> str:
    code = f"cotton_{uuid.uuid4().hex[:8]}"
    defined = staff.post("/api/v1/availability/catalog/commodities", json=cotton_body(code))
    assert defined.status_code == 201, defined.text
    return code


def _published(client: httpx.Client, path: str) -> httpx.Response:
    """Publishes, retrying while the partner's approval is still on its way over Kafka."""
    deadline = time.monotonic() + 20
    while True:
        answer = client.post(path)
        if answer.status_code != 409 or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def _availability_events(platform: RunningPlatform, offer_id: str) -> list[str]:
    assert platform.partners is not None
    bootstrap = platform.partners.environment["MANDI_PARTNERS_KAFKA_BOOTSTRAP_SERVERS"]
    records = asyncio.run(
        read_topic(bootstrap, "mandi.availability.events", expected=10**6, timeout=3)
    )
    return [
        dict(record.headers)["ce_type"].decode()
        for record in records
        if record.key == offer_id.encode()
    ]


def test_a_seller_publishes_with_an_api_key_and_a_buyer_posts_with_a_jwt(
    platform: RunningPlatform, new_admin: Callable[..., Any], gateway: httpx.Client
) -> None:
    admin = new_admin("a")
    gateway.headers.update(admin.bearer)
    commodity = _commodity(gateway)
    seller, buyer = approved_partner(gateway), approved_partner(gateway)

    with closing(api_key_client(platform, gateway, seller, _SCOPES)) as erp:
        drafted = erp.post(
            "/api/v1/availability/availabilities",
            json=offer_terms(commodity),
            headers={"idempotency-key": f"lot-{uuid.uuid4().hex}"},
        )
        assert drafted.status_code == 201, drafted.text
        availability = drafted.json()
        assert (availability["partner_id"], availability["quantity"]) == (seller, "17000")
        published = _published(
            erp, f"/api/v1/availability/availabilities/{availability['id']}/publish"
        )
        assert published.status_code == 200, published.text
        assert published.json()["status"] == "published"
        assert published.headers["etag"] == '"2"'

    with closing(partner_user_client(platform, gateway, admin.tenant, buyer)) as buyer_staff:
        posted = buyer_staff.post("/api/v1/availability/requirements", json=offer_terms(commodity))
        assert posted.status_code == 201, posted.text
        requirement = posted.json()
        path = f"/api/v1/availability/requirements/{requirement['id']}/publish"
        assert _published(buyer_staff, path).json()["status"] == "published"
        seen = buyer_staff.get(f"/api/v1/availability/availabilities/{availability['id']}")
        assert seen.status_code == 200, seen.text  # on the book: every partner sees it
        refused = buyer_staff.post(
            f"/api/v1/availability/availabilities/{availability['id']}/withdraw"
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"] == PROBLEM

    deadline = time.monotonic() + 20
    while _availability_events(platform, availability["id"]) != ["mandi.availability.published.v1"]:
        assert time.monotonic() < deadline, "the publication never reached Kafka"
        time.sleep(0.5)


def test_a_partner_not_approved_publishes_nothing_and_bad_terms_are_problems(
    platform: RunningPlatform, staff: httpx.Client
) -> None:
    commodity = _commodity(staff)
    pending = staff.post("/api/v1/partners", json=new_partner_body()).json()["id"]
    with closing(api_key_client(platform, staff, pending, _SCOPES)) as erp:
        drafted = erp.post("/api/v1/availability/availabilities", json=offer_terms(commodity))
        assert drafted.status_code == 201, drafted.text
        publish = erp.post(f"/api/v1/availability/availabilities/{drafted.json()['id']}/publish")
        assert publish.status_code == 409
        assert publish.headers["content-type"] == PROBLEM
        for bad in (
            {"quantity": "0"},
            {"unit": "sack"},
            {"quality": {"staple_length_mm": "40"}},
            {"price": "56000.005"},
            {"delivery_to": "2029-12-01"},
        ):
            answer = erp.post(
                "/api/v1/availability/availabilities", json={**offer_terms(commodity), **bad}
            )
            assert answer.status_code == 422, (bad, answer.text)
            assert answer.headers["content-type"] == PROBLEM
