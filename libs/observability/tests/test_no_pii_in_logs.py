"""The acceptance test: a captured log of a request carrying PII and secrets contains none."""

import base64
import json
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from mandi_observability import get_logger, instrument_app


def _b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


JWT = ".".join(
    [
        _b64url({"alg": "RS256", "kid": "2026-11"}),
        _b64url({"sub": "user-31", "tenant": "t-7", "exp": 1893456000}),
        "Qm9ndXNTaWduYXR1cmVCeXRlc0ZvclRlc3RzT25seQ",
    ]
)
API_KEY = "mandi_live_7Hq2kR9xLm4Pz8Wv3Nc6Bt1Yd5Fg0Js2"
PASSWORD = "Tr1cky-Passw0rd!"
EMAIL = "ravi.kumar@example.in"
PHONE = "+91 98765 43210"
PHONE_DIGITS = "9876543210"
PAN = "AAPFR1234K"
GSTIN = "27AAPFR1234K1Z5"
SESSION_COOKIE = "s3ss10n-c00k13-value"
SECRETS = [JWT, *JWT.split("."), API_KEY, PASSWORD, EMAIL, PHONE, PHONE_DIGITS, PAN, GSTIN]
SECRETS.append(SESSION_COOKIE)


def build_careless_app() -> FastAPI:
    """A route that logs everything it receives, every way a developer might, then fails."""
    app = FastAPI()
    log = get_logger("partners.kyc")

    @app.post("/partners/{partner_id}/kyc")
    async def submit_kyc(partner_id: str, request: Request) -> None:
        raw = await request.body()
        payload = json.loads(raw)
        log.info("kyc received", partner_id=partner_id, headers=dict(request.headers), body=payload)
        log.info(f"raw body {raw.decode()} with headers {dict(request.headers)}")  # noqa: G004
        log.info("raw headers", headers=request.scope["headers"])
        logging.getLogger("some.library").warning("body was %r", raw)
        detail = f"KYC rejected for {payload['email']}, {payload['phone']}, PAN {payload['pan']}"
        raise ValueError(f"{detail}, GSTIN {payload['gstin']}, key {API_KEY}, token {JWT}")

    instrument_app(app, "partners")
    return app


@pytest.fixture
def request_body() -> dict[str, str]:
    return {
        "legal_name": "Ravi Traders LLP",
        "password": PASSWORD,
        "email": EMAIL,
        "phone": PHONE,
        "pan": PAN,
        "gstin": GSTIN,
        "contact_note": f"call {PHONE_DIGITS} or write to {EMAIL}",
    }


@pytest.mark.usefixtures("read_logs")
async def test_a_captured_log_of_a_request_carrying_pii_and_secrets_contains_none_of_them(
    capsys: pytest.CaptureFixture[str], request_body: dict[str, str]
) -> None:
    headers = {
        "Authorization": f"Bearer {JWT}",
        "X-Api-Key": API_KEY,
        "Cookie": f"session={SESSION_COOKIE}",
        "X-Request-Id": "req-kyc-1",
    }
    transport = httpx.ASGITransport(build_careless_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://partners.test") as client:
        response = await client.post("/partners/p-9/kyc", json=request_body, headers=headers)
    assert response.status_code == 500

    captured = capsys.readouterr()
    output = captured.out + captured.err
    leaked = [secret for secret in SECRETS if secret in output]
    assert not leaked, f"leaked into the logs: {leaked}"

    lines = [json.loads(line) for line in captured.out.splitlines()]  # every line is JSON
    assert all(line["request_id"] == "req-kyc-1" for line in lines if line["logger"] != "httpx")
    [access_line] = [line for line in lines if line["logger"] == "mandi.access"]
    assert access_line["route"] == "/partners/{partner_id}/kyc"
    assert access_line["status"] == 500
    assert "ValueError: KYC rejected for [REDACTED:email]" in access_line["exception"]
    assert "Ravi Traders LLP" in output  # redaction is targeted: ordinary data still shows
