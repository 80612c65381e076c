"""Looking partners up by tax id through the app, on the real PostgreSQL: the tax id travels in a
POST body, a URL carrying one is refused, and no span the request makes holds it."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mandi_observability import configure_tracing
from mandi_partners.config import Settings
from mandi_partners.domain.tax_ids import gstin_check_character
from mandi_partners.entrypoints.http.app import create_app
from mandi_security import Principal
from mandi_security.gateway_headers import GATEWAY_SECRET_HEADER, gateway_headers
from mandi_security.principal import PrincipalType

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def _recorded_spans() -> InMemorySpanExporter:
    # One tracer provider per process (OpenTelemetry's rule): the exporter joins whichever is set.
    exporter = InMemorySpanExporter()
    configure_tracing("partners-tests").add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(_recorded_spans: InMemorySpanExporter) -> InMemorySpanExporter:
    """The spans finished during this test."""
    _recorded_spans.clear()
    return _recorded_spans


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the partners app, started as its server would start it (no background jobs)."""
    app = create_app(settings, background=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://partners.test") as it:
            yield it


def _as(settings: Settings, principal: Principal) -> dict[str, str]:
    secret = settings.secret("gateway_secret")
    return {**gateway_headers(principal), GATEWAY_SECRET_HEADER: secret}


def _staff(tenant: UUID, scopes: frozenset[str] = frozenset({"*"})) -> Principal:
    return Principal(tenant, "staff-1", PrincipalType.INTERNAL, None, scopes)


def _new_pan() -> str:
    letters = "".join(secrets.choice("ABDEGHKMNPRSTUWXYZ") for _ in range(5))
    return f"{letters[:3]}C{letters[3]}{1000 + secrets.randbelow(8999)}{letters[4]}"


def _registration(pan: str) -> dict[str, Any]:
    gstin = f"27{pan}1Z"
    return {
        "legal_name": f"Acme {uuid4().hex[:6]} Ltd",
        "country": "IN",
        "types": ["seller"],
        "tax_ids": [
            {"kind": "pan", "country": "IN", "value": pan},
            {"kind": "gstin", "country": "IN", "value": gstin + gstin_check_character(gstin)},
        ],
    }


async def _register(client: httpx.AsyncClient, headers: dict[str, str], pan: str) -> str:
    answer = await client.post("/", json=_registration(pan), headers=headers)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _search(pan: str, **filters: object) -> dict[str, object]:
    return {"tax_id": {"kind": "pan", "country": "IN", "value": pan}, **filters}


async def test_a_tax_id_is_found_by_a_search_and_in_no_span(
    client: httpx.AsyncClient, settings: Settings, spans: InMemorySpanExporter
) -> None:
    staff = _as(settings, _staff(uuid4()))
    pan = _new_pan()
    partner_id = await _register(client, staff, pan)
    await _register(client, staff, _new_pan())  # another partner, not found

    found = await client.post("/search", json=_search(pan), headers=staff)
    refused = await client.get("/", params={"tax_id_kind": "pan", "tax_id": pan}, headers=staff)

    assert found.status_code == 200, found.text
    assert [partner["id"] for partner in found.json()] == [partner_id]
    assert refused.status_code == 400
    assert refused.headers["content-type"] == PROBLEM
    assert "POST /api/v1/partners/search" in refused.json()["detail"]
    assert pan not in refused.text
    recorded = json.dumps([span.to_json() for span in spans.get_finished_spans()])
    assert "POST /search" in recorded  # the spans are there, and hold no tax id
    assert pan not in recorded
    assert pan.lower() not in recorded


@pytest.mark.parametrize("query", [{"tax_id": "AAACB1234C"}, {"tax_id_kind": "pan"}])
async def test_a_list_asked_with_a_tax_id_in_its_query_is_refused_not_answered_whole(
    client: httpx.AsyncClient, settings: Settings, query: dict[str, str]
) -> None:
    staff = _as(settings, _staff(uuid4()))
    await _register(client, staff, _new_pan())
    answer = await client.get("/", params={"country": "IN", **query}, headers=staff)
    assert answer.status_code == 400
    assert answer.json()["type"] == "urn:mandi:problem:bad-request"


async def test_a_search_is_a_read_and_pages_like_the_list(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    tenant = uuid4()
    pan = _new_pan()
    await _register(client, _as(settings, _staff(tenant)), pan)
    reader = _as(settings, _staff(tenant, frozenset({"partners:read"})))
    writer_only = _as(settings, _staff(tenant, frozenset({"partners:write"})))

    found = await client.post("/search", json=_search(pan, limit=1), headers=reader)
    narrowed = await client.post("/search", json=_search(pan, status="approved"), headers=reader)
    unread = await client.post("/search", json=_search(pan), headers=writer_only)

    assert (found.status_code, len(found.json())) == (200, 1)
    assert "x-next-cursor" not in found.headers  # one holder: there is no next page
    assert narrowed.json() == []
    assert unread.status_code == 403


async def test_partner_staff_find_only_their_own_partner(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    tenant = uuid4()
    staff = _as(settings, _staff(tenant))
    own_pan, other_pan = _new_pan(), _new_pan()
    own = await _register(client, staff, own_pan)
    await _register(client, staff, other_pan)
    partner_staff = _as(
        settings,
        Principal(tenant, "ops-1", PrincipalType.EXTERNAL, UUID(own), frozenset({"partners:read"})),
    )
    mine = await client.post("/search", json=_search(own_pan), headers=partner_staff)
    theirs = await client.post("/search", json=_search(other_pan), headers=partner_staff)
    assert [partner["id"] for partner in mine.json()] == [own]
    assert theirs.json() == []


async def test_a_malformed_tax_id_in_a_search_is_refused_without_echoing_it(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    staff = _as(settings, _staff(uuid4()))
    answer = await client.post("/search", json=_search("AAPFU0939"), headers=staff)
    assert answer.status_code == 422
    assert "AAPFU0939" not in answer.text
