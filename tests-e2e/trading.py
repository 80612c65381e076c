"""The trade desk's helpers, shared by the tests that trade through the gateway: a tenant's
desk, its parties and market, proposals, sagas and trades read back from the services' APIs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
from offer_bodies import cotton_body, offer_terms
from partner_clients import approved_partner, partner_user_client

from mandi_testing.platform import RunningPlatform

T = TypeVar("T")
LOT_KG = Decimal(17000)  # 100 bales of 170 kg: each test's lot
LIMIT = "5000000.00"  # fits one lot's value (2677165.35 INR), not two
_SETTLED = {"completed", "failed", "needs_operator"}


def until(what: str, read: Callable[[], T], done: Callable[[T], bool], timeout: float = 20) -> T:
    """Reads until `done` holds of what was read; fails naming `what` and the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"no {what} within {timeout} s; last read: {value}"
        time.sleep(0.2)


def ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, f"{answer.request.url}: {answer.text}"
    return answer.json()


def signed_in(platform: RunningPlatform, tenant: str, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=platform.gateway.url, timeout=10)
    body = {"tenant": tenant, "email": email, "password": password}
    token = ok(client.post("/api/v1/auth/login", json=body))["access_token"]
    client.headers["authorization"] = f"Bearer {token}"
    return client


@dataclass(frozen=True)
class Desk:
    """The module's tenant: operator staff (its founding admin) and a risk officer."""

    platform: RunningPlatform
    slug: str
    staff: httpx.Client
    officer: httpx.Client


@pytest.fixture(scope="module")
def desk(platform: RunningPlatform) -> Iterator[Desk]:
    """A new tenant, its admin, and a risk officer the admin adds."""
    slug, password = f"trade-{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
    platform.create_tenant(slug, f"founder@{slug}.example", password)
    with ExitStack() as clients:
        staff = clients.enter_context(
            closing(signed_in(platform, slug, f"founder@{slug}.example", password))
        )
        officer = {
            "email": f"officer@{slug}.example",
            "password": password,
            "type": "internal",
            "roles": ["risk_officer"],
        }
        ok(staff.post("/api/v1/auth/users", json=officer), 201)
        officer_client = clients.enter_context(
            closing(signed_in(platform, slug, officer["email"], password))
        )
        yield Desk(platform, slug, staff, officer_client)


@dataclass(frozen=True)
class Party:
    """A partner approved by operator staff, and a client of its own staff (`partner_admin`)."""

    id: str
    client: httpx.Client


class Market:
    """One test's commodity on the desk: its sellers' lots and buyers' requirements."""

    def __init__(self, desk: Desk, clients: ExitStack) -> None:
        self.desk, self._clients = desk, clients
        self.commodity = f"cotton_{uuid.uuid4().hex[:8]}"
        ok(
            desk.staff.post(
                "/api/v1/availability/catalog/commodities", json=cotton_body(self.commodity)
            ),
            201,
        )

    def party(self) -> Party:
        """A new approved partner and its staff's client."""
        partner_id = approved_partner(self.desk.staff)
        client = partner_user_client(
            self.desk.platform, self.desk.staff, self.desk.slug, partner_id
        )
        return Party(partner_id, self._clients.enter_context(closing(client)))

    def buyer(self, limit: str | None = LIMIT) -> Party:
        """A new approved partner with this credit limit in risk (None: no limit at all)."""
        buyer = self.party()
        if limit is not None:
            known_to_risk(self.desk.officer, buyer.id)
            body = {"amount": limit, "currency": "INR", "reason": "opening limit"}
            ok(self.desk.officer.put(f"/api/v1/risk/partners/{buyer.id}/limit", json=body))
        return buyer

    def lot(self, seller: Party, bales: str = "100") -> str:
        """A published availability of the seller's; its id."""
        return self._on_book(seller, "availabilities", bales)

    def requirement(self, buyer: Party, bales: str = "100") -> str:
        """A published requirement of the buyer's; its id."""
        return self._on_book(buyer, "requirements", bales)

    def free(self, lot: str) -> Decimal:
        """What availability has free of the lot, in kg."""
        lot_now = ok(self.desk.staff.get(f"/api/v1/availability/availabilities/{lot}"))
        return Decimal(lot_now["free"])

    def exposure(self, buyer: Party) -> Decimal:
        """The buyer's open exposure in risk, in INR."""
        return Decimal(ok(self.desk.officer.get(f"/api/v1/risk/partners/{buyer.id}"))["exposure"])

    def _on_book(self, party: Party, kind: str, bales: str) -> str:
        terms = {**offer_terms(self.commodity), "quantity": bales}
        offer = ok(party.client.post(f"/api/v1/availability/{kind}", json=terms), 201)
        path = f"/api/v1/availability/{kind}/{offer['id']}/publish"
        # Retried while the partner's approval is still on its way to availability over Kafka.
        published = until(
            f"publication of {kind} {offer['id']}",
            lambda: party.client.post(path),
            lambda answer: answer.status_code != 409,
        )
        assert ok(published)["status"] == "published"
        return str(offer["id"])


@pytest.fixture
def market(desk: Desk) -> Iterator[Market]:
    """A commodity of the test's own on the module's desk."""
    with ExitStack() as clients:
        yield Market(desk, clients)


def known_to_risk(officer: httpx.Client, partner_id: str) -> None:
    """Waits for risk to hear of the partner's approval over Kafka."""
    until(
        f"approval of {partner_id} in risk",
        lambda: ok(officer.get(f"/api/v1/risk/partners/{partner_id}"))["standing"],
        lambda standing: standing == "approved",
    )


def proposal(party: Party, requirement: str | None = None) -> dict[str, Any]:
    """The party's one open proposal (of the requirement, if named), once matching made it."""
    params = {"status": "open", **({"requirement_id": requirement} if requirement else {})}
    found = until(
        f"proposal to {party.id}",
        lambda: ok(party.client.get("/api/v1/matching/proposals", params=params)),
        bool,
    )
    assert len(found) == 1, found
    return dict(found[0])


def proposal_by_id(party: Party, proposal_id: str) -> dict[str, Any]:
    return dict(ok(party.client.get(f"/api/v1/matching/proposals/{proposal_id}")))


def accept(party: Party, proposal: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {"idempotency-key": key or f"accept-{uuid.uuid4().hex}"}
    return party.client.post(f"/api/v1/matching/proposals/{proposal['id']}/accept", headers=headers)


def saga(party: Party, saga_id: str) -> dict[str, Any]:
    return dict(ok(party.client.get(f"/api/v1/matching/sagas/{saga_id}")))


def settled(party: Party, saga_id: str, timeout: float = 20) -> dict[str, Any]:
    """The saga once it has completed or failed."""
    return until(
        f"end of saga {saga_id}",
        lambda: saga(party, saga_id),
        lambda saga: saga["status"] in _SETTLED,
        timeout,
    )


def history(party: Party, saga_id: str) -> list[tuple[str, str | None]]:
    """What happened to the saga, oldest first: (kind, step)."""
    entries = ok(party.client.get(f"/api/v1/matching/sagas/{saga_id}/history"))
    return [(entry["kind"], entry["step"]) for entry in entries]


def steps(saga: dict[str, Any]) -> dict[str, str]:
    return {step["name"]: step["status"] for step in saga["steps"]}


def trades(party: Party) -> list[dict[str, Any]]:
    return list(ok(party.client.get("/api/v1/matching/trades")))


def traded(market: Market, buyer: Party, bales: str = "40") -> tuple[dict[str, Any], str]:
    """A confirmed trade of `bales` of a new seller's lot to the buyer, and the lot's id."""
    lot = market.lot(market.party())
    requirement = market.requirement(buyer, bales)
    accepted = ok(accept(buyer, proposal(buyer, requirement)), 202)
    saga = settled(buyer, accepted["id"])
    assert saga["status"] == "completed", saga
    return dict(ok(buyer.client.get(f"/api/v1/matching/trades/{saga['trade_id']}"))), lot
