"""The risk desk through the gateway, as the README walks it: a risk officer (a JWT of the new
`risk_officer` role) sets a buyer's credit limit, rating and payments once risk has heard of the
partners' approval over Kafka; an assessment is scored by the scorecard with the fake bureau's
live score, then by a logistic model trained and promoted with `python -m mandi_risk train`, then
by the scorecard again after a rollback. A partner's principal sees none of it, and bad input is
refused with problem+json.

Each test has a tenant of its own, so its model versions are its own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from partner_clients import api_key_client, approved_partner, partner_user_client

from mandi_testing.platform import RunningPlatform

PROBLEM = "application/problem+json"
FACTORS = {"credit_headroom", "rating", "on_time_ratio", "days_late", "concentration", "bureau"}
DECISIONS = {"APPROVE", "APPROVE_WITH_CONDITIONS", "REJECT"}
BUYER_BUREAU_SCORE = 742


@dataclass(frozen=True)
class Desk:
    """A tenant of its own: its id and slug, its founding admin and a risk officer, signed in."""

    tenant_id: str
    slug: str
    admin: httpx.Client
    officer: httpx.Client


def _signed_in(platform: RunningPlatform, tenant: str, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=platform.gateway.url, timeout=10)
    body = {"tenant": tenant, "email": email, "password": password}
    answer = client.post("/api/v1/auth/login", json=body)
    assert answer.status_code == 200, answer.text
    client.headers["authorization"] = f"Bearer {answer.json()['access_token']}"
    return client


@pytest.fixture
def desk(platform: RunningPlatform) -> Iterator[Desk]:
    """A new tenant, its admin, and a user with the risk_officer role the admin adds."""
    slug, password = f"risk-{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
    platform.create_tenant(slug, f"founder@{slug}.example", password)
    admin = _signed_in(platform, slug, f"founder@{slug}.example", password)
    officer_email = f"officer@{slug}.example"
    added = admin.post(
        "/api/v1/auth/users",
        json={
            "email": officer_email,
            "password": password,
            "type": "internal",
            "roles": ["risk_officer"],
        },
    )
    assert added.status_code == 201, added.text
    officer = _signed_in(platform, slug, officer_email, password)
    tenant_id = officer.get("/api/v1/auth/me").json()["tenant_id"]
    with closing(admin), closing(officer):
        yield Desk(tenant_id, slug, admin, officer)


def _known_to_risk(officer: httpx.Client, partner_id: str) -> dict[str, Any]:
    """Risk's view of the partner, once its approval reached risk over Kafka."""
    deadline = time.monotonic() + 20
    while True:
        answer = officer.get(f"/api/v1/risk/partners/{partner_id}")
        assert answer.status_code == 200, answer.text
        if answer.json()["standing"] == "approved":
            return dict(answer.json())
        assert time.monotonic() < deadline, f"risk never heard of the approval: {answer.text}"
        time.sleep(0.2)


def _limit(officer: httpx.Client, partner_id: str, amount: str, **headers: str) -> httpx.Response:
    body = {"amount": amount, "currency": "INR", "reason": "annual review"}
    return officer.put(f"/api/v1/risk/partners/{partner_id}/limit", json=body, headers=headers)


def _proposal(buyer: str, seller: str, **changes: Any) -> dict[str, Any]:
    body = {
        "buyer_id": buyer,
        "seller_id": seller,
        "commodity": "cotton",
        "value": "2240000.00",
        "currency": "INR",
    }
    return {**body, **changes}


def _assessed(client: httpx.Client, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {"idempotency-key": key or f"assess-{uuid.uuid4().hex}"}
    return client.post("/api/v1/risk/assessments", json=body, headers=headers)


def _assessed_by(client: httpx.Client, buyer: str, seller: str) -> dict[str, Any]:
    answer = _assessed(client, _proposal(buyer, seller))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.fixture
def trading_pair(platform: RunningPlatform, desk: Desk) -> tuple[str, str]:
    """A buyer and a seller, approved in partners and known to risk as approved; the buyer has a
    limit of 50 lakh, rating A, two payments on time, and a bureau score of 742."""
    buyer, seller = approved_partner(desk.admin), approved_partner(desk.admin)
    for partner in (buyer, seller):
        _known_to_risk(desk.officer, partner)
    assert _limit(desk.officer, buyer, "5000000.00").status_code == 200
    rated = desk.officer.put(f"/api/v1/risk/partners/{buyer}/rating", json={"rating": "A"})
    assert rated.status_code == 200, rated.text
    for _ in range(2):
        paid = desk.officer.post(f"/api/v1/risk/partners/{buyer}/payments", json={"days_late": 0})
        assert paid.status_code == 200, paid.text
    assert platform.bureau is not None
    platform.bureau.set_score(buyer, BUYER_BUREAU_SCORE)
    return buyer, seller


def test_a_risk_officer_sets_a_limit_and_an_assessment_explains_itself(
    desk: Desk, trading_pair: tuple[str, str]
) -> None:
    buyer, seller = trading_pair
    seen = desk.officer.get(f"/api/v1/risk/partners/{buyer}")
    assert seen.headers["etag"] == '"1"'
    profile = seen.json()
    assert (profile["rating"], profile["payments_on_time"]) == ("A", 2)
    assert (profile["limit"]["amount"], profile["headroom"]) == ("5000000.00", "5000000.00")

    key = f"assess-{uuid.uuid4().hex}"
    made = _assessed(desk.officer, _proposal(buyer, seller), key)
    assert made.status_code == 201, made.text
    assessment = made.json()
    assert made.headers["location"] == f"/api/v1/risk/assessments/{assessment['id']}"
    assert assessment["decision"] in DECISIONS
    assert 0 <= assessment["score"] <= 100
    assert {factor["name"] for factor in assessment["factors"]} == FACTORS
    assert all({"value", "points"} <= factor.keys() for factor in assessment["factors"])
    assert (assessment["model_name"], assessment["model_version"]) == ("scorecard", 1)
    assert "By scorecard v1" in assessment["rationale"]
    assert f"bureau score {BUYER_BUREAU_SCORE}, live" in assessment["rationale"]
    assert (assessment["bureau_score"], assessment["bureau_live"]) == (BUYER_BUREAU_SCORE, True)

    replayed = _assessed(desk.officer, _proposal(buyer, seller), key)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == assessment
    stored = desk.officer.get(f"/api/v1/risk/assessments/{assessment['id']}")
    assert stored.status_code == 200, stored.text
    assert stored.json() == assessment


def test_a_limit_changes_only_from_the_version_read(
    desk: Desk, trading_pair: tuple[str, str]
) -> None:
    buyer, _ = trading_pair
    unnamed = _limit(desk.officer, buyer, "6000000.00")
    assert unnamed.status_code == 428
    assert unnamed.headers["content-type"] == PROBLEM
    changed = _limit(desk.officer, buyer, "6000000.00", **{"if-match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert (changed.headers["etag"], changed.json()["version"]) == ('"2"', 2)
    stale = _limit(desk.officer, buyer, "7000000.00", **{"if-match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    history = desk.officer.get(f"/api/v1/risk/partners/{buyer}").json()["limit_history"]
    assert [version["amount"] for version in history] == ["6000000.00", "5000000.00"]


def test_a_partner_sees_nothing_of_risk_and_bad_proposals_are_problems(
    platform: RunningPlatform, desk: Desk, trading_pair: tuple[str, str]
) -> None:
    buyer, seller = trading_pair
    # A partner's staff hold no risk scope: the gateway refuses them.
    with closing(partner_user_client(platform, desk.admin, desk.slug, buyer)) as buyer_staff:
        refused = buyer_staff.get(f"/api/v1/risk/partners/{buyer}")
        assert refused.status_code == 403
        assert refused.headers["content-type"] == PROBLEM
    # A partner's key given risk:read passes the gateway, and risk itself refuses it.
    with closing(api_key_client(platform, desk.admin, buyer, ["risk:read"])) as erp:
        refused = erp.get(f"/api/v1/risk/partners/{buyer}")
        assert refused.status_code == 403
        assert refused.headers["content-type"] == PROBLEM
        assert "operator's" in refused.json()["detail"]

    for bad in ({"value": "-5.00"}, {"currency": "XYZ"}, {"value": "2240000.001"}):
        answer = _assessed(desk.officer, _proposal(buyer, seller, **bad))
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.headers["content-type"] == PROBLEM


def test_rules_reject_a_trade_outright_whatever_the_score(
    desk: Desk, trading_pair: tuple[str, str]
) -> None:
    buyer, seller = trading_pair
    for proposal, why in (
        (_proposal(buyer, seller, value="5000000.01"), "does not fit the buyer's credit limit"),
        (_proposal(seller, buyer), "the buyer has no credit limit"),
        (_proposal(buyer, str(uuid.uuid4())), "the seller may not trade (it is pending)"),
    ):
        answer = _assessed(desk.officer, proposal)
        assert answer.status_code == 201, answer.text
        assert answer.json()["decision"] == "REJECT"
        assert why in answer.json()["rationale"]


def _active(officer: httpx.Client) -> list[tuple[str, int]]:
    models = officer.get("/api/v1/risk/models")
    assert models.status_code == 200, models.text
    return [(model["name"], model["version"]) for model in models.json() if model["active"]]


def test_a_trained_model_decides_once_promoted_until_it_is_rolled_back(
    platform: RunningPlatform, desk: Desk, trading_pair: tuple[str, str]
) -> None:
    buyer, seller = trading_pair
    trained = platform.risk_command("train", "--tenant", desk.tenant_id, "--promote")
    assert "logistic v1 decides from now on" in trained

    by_model = _assessed_by(desk.officer, buyer, seller)
    assert (by_model["model_name"], by_model["model_version"]) == ("logistic", 1)
    assert "By logistic v1" in by_model["rationale"]
    assert {factor["name"] for factor in by_model["factors"]} == FACTORS
    assert _active(desk.officer) == [("logistic", 1)]

    rolled_back = desk.officer.post("/api/v1/risk/models/active/rollback")
    assert rolled_back.status_code == 200, rolled_back.text
    assert rolled_back.json() == {"name": "scorecard", "version": 1}
    assert _active(desk.officer) == []
    assert "By scorecard v1" in _assessed_by(desk.officer, buyer, seller)["rationale"]


def _operator(platform: RunningPlatform, desk: Desk) -> httpx.Client:
    email, password = f"operator-{uuid.uuid4().hex[:8]}@{desk.slug}.example", uuid.uuid4().hex
    body = {"email": email, "password": password, "type": "internal", "roles": ["operator"]}
    assert desk.admin.post("/api/v1/auth/users", json=body).status_code == 201
    return _signed_in(platform, desk.slug, email, password)


def test_operator_staff_read_risk_but_set_no_limits(
    platform: RunningPlatform, desk: Desk, trading_pair: tuple[str, str]
) -> None:
    buyer, _ = trading_pair
    with closing(_operator(platform, desk)) as operator:
        assert operator.get(f"/api/v1/risk/partners/{buyer}").status_code == 200
        refused = _limit(operator, buyer, "9000000.00", **{"if-match": '"1"'})
        assert refused.status_code == 403
        assert refused.headers["content-type"] == PROBLEM


def test_operator_staff_ask_for_assessments(
    platform: RunningPlatform, desk: Desk, trading_pair: tuple[str, str]
) -> None:
    buyer, seller = trading_pair
    with closing(_operator(platform, desk)) as operator:
        assert _assessed(operator, _proposal(buyer, seller)).status_code == 201
