"""Webhooks through the gateway, as a partner's system sees them: the partner registers an
endpoint with its API key, trades, and its endpoint (a real HTTP receiver on 127.0.0.1)
receives the trade's events, each verified with the `standardwebhooks` PyPI library and the
secret the registration showed. A delivery that failed is delivered after the webhook process
restarts in the middle of its retry schedule, with the same `webhook-id`.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import standardwebhooks
import trading
from partner_clients import api_key_client

from mandi_testing.platform import RunningPlatform
from mandi_testing.receivers import Answer, receiver_in_thread, wait_until_received

# The module's desk (a tenant of its own) and each test's market, as fixtures here.
desk = trading.desk
market = trading.market

_SCOPES = ["webhook:read", "webhook:write"]


def _registered(key: httpx.Client, partner_id: str, url: str, *types: str) -> dict[str, Any]:
    body = {"url": url, "partner_id": partner_id, "event_types": list(types)}
    return dict(trading.ok(key.post("/api/v1/webhook/endpoints", json=body), 201))


def test_a_partner_registers_with_its_api_key_and_receives_its_trade_signed(
    market: trading.Market,
) -> None:
    buyer = market.buyer()
    key = api_key_client(market.desk.platform, market.desk.staff, buyer.id, _SCOPES)
    with key, receiver_in_thread() as receiver:
        endpoint = _registered(key, buyer.id, receiver.url, "trade.confirmed")
        trade, _lot = trading.traded(market, buyer)
        [request] = wait_until_received(receiver, 1)
        time.sleep(0.5)  # nothing else comes: the filter lets trade.confirmed through alone
        delivered = trading.until(
            "the delivery recorded as succeeded",
            lambda: trading.ok(key.get(f"/api/v1/webhook/endpoints/{endpoint['id']}/deliveries")),
            lambda found: bool(found) and found[0]["status"] == "succeeded",
        )
        assert len(receiver.received) == 1

    message = standardwebhooks.Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert message["type"] == "trade.confirmed"
    assert message["data"]["trade_id"] == trade["id"]
    assert message["data"]["side"] == "buyer"
    assert message["data"]["counterparty_id"] == trade["seller_id"]
    assert delivered[0]["webhook_id"] == request.headers["webhook-id"]


def test_a_partner_cannot_see_or_register_for_another_partner(market: trading.Market) -> None:
    mine, theirs = market.party(), market.party()
    key = api_key_client(market.desk.platform, market.desk.staff, mine.id, _SCOPES)
    other = api_key_client(market.desk.platform, market.desk.staff, theirs.id, _SCOPES)
    with key, other:
        endpoint = _registered(key, mine.id, "http://127.0.0.1:9/hooks")
        body = {"url": "http://127.0.0.1:9/hooks", "partner_id": mine.id}
        foreign = other.post("/api/v1/webhook/endpoints", json=body)
        seen = other.get(f"/api/v1/webhook/endpoints/{endpoint['id']}/deliveries")
        private = key.post(
            "/api/v1/webhook/endpoints", json={**body, "url": "http://10.0.0.7/hooks"}
        )

    assert foreign.status_code == 403
    assert seen.status_code == 404
    assert private.status_code == 422
    assert private.headers["content-type"] == "application/problem+json"


def test_a_delivery_survives_a_restart_of_the_webhook_process_mid_schedule(
    market: trading.Market, platform: RunningPlatform
) -> None:
    buyer = market.buyer()

    def unavailable_at_first(number: int) -> Answer:
        return Answer(status=503) if number == 0 else Answer()

    key = api_key_client(market.desk.platform, market.desk.staff, buyer.id, _SCOPES)
    with key, receiver_in_thread(unavailable_at_first) as receiver:
        endpoint = _registered(key, buyer.id, receiver.url, "match.proposed")
        market.lot(market.party())
        market.requirement(buyer)
        [failed] = wait_until_received(receiver, 1)
        time.sleep(0.3)  # the failure is recorded; the retry is a second away
        with platform.stopped("webhook"):
            time.sleep(2)  # the retry falls due while no webhook process runs
            assert len(receiver.received) == 1
        _failed, retried = wait_until_received(receiver, 2)

    assert retried.headers["webhook-id"] == failed.headers["webhook-id"]
    assert retried.body == failed.body
    message = standardwebhooks.Webhook(endpoint["secret"]).verify(retried.body, retried.headers)
    assert message["type"] == "match.proposed"
    assert json.loads(retried.body)["data"]["side"] == "buyer"
