import json
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from starlette.requests import Request

from mandi_errors.http import PROBLEM_JSON, install_problem_handlers
from mandi_testing.http import asgi_client
from mandi_webhooks import WebhookSecret, webhook_headers
from mandi_webhooks.http import ReceivedWebhook, WebhookReceiver

NOW = 1_780_000_000
OLD = WebhookSecret.generate()
NEW = WebhookSecret.generate()
PAYLOAD = {"type": "proposal.created", "data": {"proposal_id": "prp_7", "quantity": 12}}
BODY = json.dumps(PAYLOAD).encode()


async def secrets_of_endpoint(request: Request) -> Sequence[WebhookSecret]:
    """Each endpoint path has its own secrets, as a partner with several receivers would."""
    return {"trades": [NEW], "proposals": [OLD]}.get(request.path_params["endpoint"], [])


def build_app() -> FastAPI:
    """A partner's receiver: one route knowing only the new secret, one finding its own."""
    app = FastAPI()
    install_problem_handlers(app)
    only_new = Annotated[ReceivedWebhook, Depends(WebhookReceiver([NEW], clock=lambda: NOW))]
    by_path = Annotated[
        ReceivedWebhook, Depends(WebhookReceiver(secrets_of_endpoint, clock=lambda: NOW))
    ]

    @app.post("/webhooks")
    async def receive(delivery: only_new) -> dict[str, Any]:
        return {"id": delivery.message_id, "at": delivery.timestamp, "payload": delivery.payload}

    @app.post("/endpoints/{endpoint}/webhooks")
    async def receive_for(endpoint: str, delivery: by_path) -> dict[str, Any]:
        return {"endpoint": endpoint, "id": delivery.message_id, "payload": delivery.payload}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(build_app()) as http:
        yield http


def signed(
    body: bytes = BODY, secrets: Sequence[WebhookSecret] = (NEW,), at: int = NOW
) -> dict[str, str]:
    return {**webhook_headers("msg_42", at, body, secrets), "content-type": "application/json"}


def problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:mandi:problem:{slug}"
    assert body["status"] == status
    return body


async def test_a_good_delivery_reaches_the_handler_with_its_payload_and_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/webhooks", content=BODY, headers=signed())

    assert response.status_code == 200
    assert response.json() == {"id": "msg_42", "at": NOW, "payload": PAYLOAD}


async def test_during_a_rotation_a_receiver_that_knows_one_secret_accepts(
    client: httpx.AsyncClient,
) -> None:
    headers = signed(secrets=[OLD, NEW])

    only_new = await client.post("/webhooks", content=BODY, headers=headers)
    only_old = await client.post("/endpoints/proposals/webhooks", content=BODY, headers=headers)

    assert only_new.json()["payload"] == PAYLOAD
    assert only_old.json() == {"endpoint": "proposals", "id": "msg_42", "payload": PAYLOAD}


async def test_a_bad_signature_is_a_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhooks", content=BODY, headers=signed(secrets=[OLD]))

    body = problem(response, 401, "webhook-signature-invalid")
    assert body["instance"] == "/webhooks"
    assert "msg_42" not in response.text


async def test_a_tampered_body_is_a_401_problem(client: httpx.AsyncClient) -> None:
    tampered = BODY.replace(b"12", b"13")

    response = await client.post("/webhooks", content=tampered, headers=signed())

    problem(response, 401, "webhook-signature-invalid")


async def test_an_endpoint_the_provider_does_not_know_accepts_nothing(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/endpoints/unknown/webhooks", content=BODY, headers=signed())

    problem(response, 401, "webhook-signature-invalid")


@pytest.mark.parametrize("at", [NOW - 301, NOW + 301])
async def test_a_stale_or_future_delivery_is_a_401_problem(
    client: httpx.AsyncClient, at: int
) -> None:
    response = await client.post("/webhooks", content=BODY, headers=signed(at=at))

    problem(response, 401, "webhook-timestamp-outside-tolerance")


async def test_a_missing_signature_is_a_401_problem(client: httpx.AsyncClient) -> None:
    headers = {k: v for k, v in signed().items() if k != "webhook-signature"}

    response = await client.post("/webhooks", content=BODY, headers=headers)

    problem(response, 401, "webhook-signature-invalid")


@pytest.mark.parametrize(
    ("dropped", "replaced", "detail"),
    [
        ("webhook-id", {}, "The webhook-id header is missing."),
        ("webhook-timestamp", {}, "The webhook-timestamp header is not Unix seconds."),
        (
            "",
            {"webhook-timestamp": "yesterday"},
            "The webhook-timestamp header is not Unix seconds.",
        ),
    ],
)
async def test_malformed_headers_are_a_400_problem(
    client: httpx.AsyncClient, dropped: str, replaced: dict[str, str], detail: str
) -> None:
    headers = {k: v for k, v in signed().items() if k != dropped} | replaced

    response = await client.post("/webhooks", content=BODY, headers=headers)

    assert problem(response, 400, "webhook-malformed")["detail"] == detail


@pytest.mark.parametrize("body", [b"not json", b'{"unclosed": ', b"\xff\xfe{}"])
async def test_a_signed_body_that_is_not_json_is_a_400_problem(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post("/webhooks", content=body, headers=signed(body=body))

    assert (
        problem(response, 400, "webhook-malformed")["detail"] == "The webhook's body is not JSON."
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"webhook-id": "m", "webhook-timestamp": "1e9", "webhook-signature": "v1,x"},
        {"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": "v1"},
        {"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": ",,, v1,==="},
        {"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": "v1,\u00e9"},
        {"webhook-id": " ", "webhook-timestamp": " ", "webhook-signature": " "},
        {"webhook-id": "m", "webhook-timestamp": "0" * 5000, "webhook-signature": "v1,AA=="},
    ],
)
async def test_no_header_garbage_makes_the_receiver_fail(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    encoded = {name.encode(): value.encode("latin-1") for name, value in headers.items()}

    response = await client.post("/webhooks", content=BODY, headers=encoded)

    assert response.status_code in {400, 401}
    assert response.headers["content-type"] == PROBLEM_JSON
