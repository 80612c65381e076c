"""The trade desk through the gateway, as the README walks it: a seller's lot and a buyer's
requirement on the book are proposed to each other by matching; the buyer's staff accept, and
the trade saga runs over Kafka through availability and risk, each a process of its own: the
quantity is reserved, the buyer's credit is reserved, the reservation is confirmed, and the trade
is confirmed. What each participant holds is read back from its own API.

When risk refuses, or the lot is gone, or risk is down past the step's deadline (the platform
stops its process, then starts it again), the saga gives back what it held; a reply arriving
after the deadline is given back too. Cancelling a trade gives back quantity and credit.

The module has a tenant of its own; each test trades a commodity of its own, so its offers meet
no other test's.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
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


def _until(what: str, read: Callable[[], T], done: Callable[[T], bool], timeout: float = 20) -> T:
    """Reads until `done` holds of what was read; fails naming `what` and the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"no {what} within {timeout} s; last read: {value}"
        time.sleep(0.2)


def _ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, f"{answer.request.url}: {answer.text}"
    return answer.json()


def _signed_in(platform: RunningPlatform, tenant: str, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=platform.gateway.url, timeout=10)
    body = {"tenant": tenant, "email": email, "password": password}
    token = _ok(client.post("/api/v1/auth/login", json=body))["access_token"]
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
            closing(_signed_in(platform, slug, f"founder@{slug}.example", password))
        )
        officer = {
            "email": f"officer@{slug}.example",
            "password": password,
            "type": "internal",
            "roles": ["risk_officer"],
        }
        _ok(staff.post("/api/v1/auth/users", json=officer), 201)
        officer_client = clients.enter_context(
            closing(_signed_in(platform, slug, officer["email"], password))
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
        _ok(
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
            _known_to_risk(self.desk.officer, buyer.id)
            body = {"amount": limit, "currency": "INR", "reason": "opening limit"}
            _ok(self.desk.officer.put(f"/api/v1/risk/partners/{buyer.id}/limit", json=body))
        return buyer

    def lot(self, seller: Party, bales: str = "100") -> str:
        """A published availability of the seller's; its id."""
        return self._on_book(seller, "availabilities", bales)

    def requirement(self, buyer: Party, bales: str = "100") -> str:
        """A published requirement of the buyer's; its id."""
        return self._on_book(buyer, "requirements", bales)

    def free(self, lot: str) -> Decimal:
        """What availability has free of the lot, in kg."""
        lot_now = _ok(self.desk.staff.get(f"/api/v1/availability/availabilities/{lot}"))
        return Decimal(lot_now["free"])

    def exposure(self, buyer: Party) -> Decimal:
        """The buyer's open exposure in risk, in INR."""
        return Decimal(_ok(self.desk.officer.get(f"/api/v1/risk/partners/{buyer.id}"))["exposure"])

    def _on_book(self, party: Party, kind: str, bales: str) -> str:
        terms = {**offer_terms(self.commodity), "quantity": bales}
        offer = _ok(party.client.post(f"/api/v1/availability/{kind}", json=terms), 201)
        path = f"/api/v1/availability/{kind}/{offer['id']}/publish"
        # Retried while the partner's approval is still on its way to availability over Kafka.
        published = _until(
            f"publication of {kind} {offer['id']}",
            lambda: party.client.post(path),
            lambda answer: answer.status_code != 409,
        )
        assert _ok(published)["status"] == "published"
        return str(offer["id"])


@pytest.fixture
def market(desk: Desk) -> Iterator[Market]:
    """A commodity of the test's own on the module's desk."""
    with ExitStack() as clients:
        yield Market(desk, clients)


def _known_to_risk(officer: httpx.Client, partner_id: str) -> None:
    """Waits for risk to hear of the partner's approval over Kafka."""
    _until(
        f"approval of {partner_id} in risk",
        lambda: _ok(officer.get(f"/api/v1/risk/partners/{partner_id}"))["standing"],
        lambda standing: standing == "approved",
    )


def _proposal(party: Party, requirement: str | None = None) -> dict[str, Any]:
    """The party's one open proposal (of the requirement, if named), once matching made it."""
    params = {"status": "open", **({"requirement_id": requirement} if requirement else {})}
    found = _until(
        f"proposal to {party.id}",
        lambda: _ok(party.client.get("/api/v1/matching/proposals", params=params)),
        bool,
    )
    assert len(found) == 1, found
    return dict(found[0])


def _proposal_by_id(party: Party, proposal_id: str) -> dict[str, Any]:
    return dict(_ok(party.client.get(f"/api/v1/matching/proposals/{proposal_id}")))


def _accept(party: Party, proposal: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {"idempotency-key": key or f"accept-{uuid.uuid4().hex}"}
    return party.client.post(f"/api/v1/matching/proposals/{proposal['id']}/accept", headers=headers)


def _saga(party: Party, saga_id: str) -> dict[str, Any]:
    return dict(_ok(party.client.get(f"/api/v1/matching/sagas/{saga_id}")))


def _settled(party: Party, saga_id: str, timeout: float = 20) -> dict[str, Any]:
    """The saga once it has completed or failed."""
    return _until(
        f"end of saga {saga_id}",
        lambda: _saga(party, saga_id),
        lambda saga: saga["status"] in _SETTLED,
        timeout,
    )


def _history(party: Party, saga_id: str) -> list[tuple[str, str | None]]:
    """What happened to the saga, oldest first: (kind, step)."""
    entries = _ok(party.client.get(f"/api/v1/matching/sagas/{saga_id}/history"))
    return [(entry["kind"], entry["step"]) for entry in entries]


def _steps(saga: dict[str, Any]) -> dict[str, str]:
    return {step["name"]: step["status"] for step in saga["steps"]}


def _trades(party: Party) -> list[dict[str, Any]]:
    return list(_ok(party.client.get("/api/v1/matching/trades")))


def _traded(market: Market, buyer: Party, bales: str = "40") -> tuple[dict[str, Any], str]:
    """A confirmed trade of `bales` of a new seller's lot to the buyer, and the lot's id."""
    lot = market.lot(market.party())
    requirement = market.requirement(buyer, bales)
    accepted = _ok(_accept(buyer, _proposal(buyer, requirement)), 202)
    saga = _settled(buyer, accepted["id"])
    assert saga["status"] == "completed", saga
    return dict(_ok(buyer.client.get(f"/api/v1/matching/trades/{saga['trade_id']}"))), lot


def test_an_accepted_proposal_becomes_a_trade_holding_quantity_and_credit(
    market: Market,
) -> None:
    seller, buyer = market.party(), market.buyer()
    lot = market.lot(seller)
    requirement = market.requirement(buyer, bales="40")
    free, exposure = market.free(lot), market.exposure(buyer)
    assert (free, exposure) == (LOT_KG, 0)

    proposal = _proposal(buyer, requirement)
    assert (proposal["side"], proposal["buyer_id"]) == ("buyer", buyer.id)
    assert proposal["quantity"] == "6800"  # the 40 bales asked, in kg
    assert proposal["breakdown"]
    assert proposal["rationale"].startswith("Scored")
    accepted = _accept(buyer, proposal)
    saga = _ok(accepted, 202)
    assert accepted.headers["location"] == f"/api/v1/matching/sagas/{saga['id']}"
    assert saga["type"] == "trade"

    settled = _settled(buyer, saga["id"])
    assert settled["status"] == "completed", settled
    assert set(_steps(settled).values()) == {"done"}
    trade = _ok(buyer.client.get(f"/api/v1/matching/trades/{settled['trade_id']}"))
    assert trade["status"] == "confirmed"
    assert (trade["buyer_id"], trade["seller_id"]) == (buyer.id, seller.id)
    assert trade["availability_id"] == lot
    assert (trade["quantity"], trade["value"]) == (proposal["quantity"], proposal["value"])
    assert _proposal_by_id(buyer, proposal["id"])["status"] == "traded"
    assert market.free(lot) == free - Decimal(trade["quantity"])
    assert market.exposure(buyer) == exposure + Decimal(trade["value"])


def test_accepting_twice_with_one_key_starts_one_saga_and_makes_one_trade(
    market: Market,
) -> None:
    buyer = market.buyer()
    lot = market.lot(market.party())
    proposal = _proposal(buyer, market.requirement(buyer, bales="40"))
    key = f"accept-{uuid.uuid4().hex}"

    first, second = _accept(buyer, proposal, key), _accept(buyer, proposal, key)
    assert (first.status_code, second.status_code) == (202, 202), second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert _settled(buyer, first.json()["id"])["status"] == "completed"

    [trade] = _trades(buyer)
    assert trade["saga_id"] == first.json()["id"]
    assert market.free(lot) == LOT_KG - Decimal(trade["quantity"])  # reserved once, not twice
    assert market.exposure(buyer) == Decimal(trade["value"])


@pytest.mark.parametrize(
    ("limit", "refusal"),
    [
        (None, "The buyer has no credit limit."),
        ("1000000.00", "The trade's 2677165.35 INR exceeds the buyer's headroom of 1000000.00"),
    ],
    ids=["no-limit", "limit-too-small"],
)
def test_risk_refusing_the_credit_gives_the_quantity_back_and_fails_the_proposal(
    market: Market, limit: str | None, refusal: str
) -> None:
    buyer = market.buyer(limit)
    lot = market.lot(market.party())
    proposal = _proposal(buyer, market.requirement(buyer))

    saga = _settled(buyer, _ok(_accept(buyer, proposal), 202)["id"])

    assert saga["status"] == "failed", saga
    history = _history(buyer, saga["id"])
    assert ("refused", "reserve-exposure") in history
    assert ("compensated", "reserve-quantity") in history
    assert market.free(lot) == LOT_KG
    assert _trades(buyer) == []
    failed = _proposal_by_id(buyer, proposal["id"])
    assert failed["status"] == "failed"
    assert failed["reason"].startswith(f"reserve-exposure refused: {refusal}")


def test_a_lot_another_trade_took_first_fails_the_saga_with_nothing_reserved(
    market: Market,
) -> None:
    buyers = [market.buyer(), market.buyer()]
    lot = market.lot(market.party())
    proposals = [_proposal(buyer, market.requirement(buyer)) for buyer in buyers]
    exposures = [market.exposure(buyer) for buyer in buyers]

    # Both accept at once: the lot's 100 bales are reserved to whichever saga availability
    # serves first, and the other finds nothing free.
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(_accept, buyers, proposals))
    sagas = [
        _settled(buyer, _ok(answer, 202)["id"])
        for buyer, answer in zip(buyers, answers, strict=True)
    ]

    statuses = sorted(saga["status"] for saga in sagas)
    assert statuses == ["completed", "failed"], sagas
    won = next(index for index, saga in enumerate(sagas) if saga["status"] == "completed")
    winner, loser, lost = buyers[won], buyers[1 - won], 1 - won
    [trade] = _trades(winner)
    assert market.free(lot) == 0  # all of it the winner's
    assert market.exposure(winner) == exposures[won] + Decimal(trade["value"])
    assert _steps(sagas[lost]) == {
        "reserve-quantity": "refused",
        "reserve-exposure": "waiting",
        "confirm": "waiting",
    }
    history = _history(loser, sagas[lost]["id"])
    assert not [kind for kind, _ in history if kind.startswith("compensation")], history
    assert _trades(loser) == []
    assert market.exposure(loser) == exposures[lost]
    assert _proposal_by_id(loser, proposals[lost]["id"])["status"] == "failed"


def test_with_risk_down_the_deadline_gives_the_quantity_back_and_a_late_reply_changes_nothing(
    platform: RunningPlatform, market: Market
) -> None:
    buyer = market.buyer()
    lot = market.lot(market.party())
    proposal = _proposal(buyer, market.requirement(buyer, bales="40"))
    exposure = market.exposure(buyer)

    with platform.stopped("risk"):
        saga = _settled(buyer, _ok(_accept(buyer, proposal), 202)["id"])
        assert saga["status"] == "failed", saga
        assert _steps(saga)["reserve-exposure"] == "abandoned"
        history = _history(buyer, saga["id"])
        assert ("timed_out", "reserve-exposure") in history
        assert ("compensated", "reserve-quantity") in history
        assert market.free(lot) == LOT_KG
        failed = _proposal_by_id(buyer, proposal["id"])
        assert (failed["status"], failed["reason"]) == ("failed", "reserve-exposure timed out")

    # Risk is back and applies the command it missed: its late reservation is given back.
    late = _until(
        "late reservation of credit given back",
        lambda: _history(buyer, saga["id"]),
        lambda history: ("compensated", "reserve-exposure") in history,
        timeout=30,
    )
    reserved_late = late.index(("late_success", "reserve-exposure"))
    assert reserved_late < late.index(("compensated", "reserve-exposure"))
    assert _saga(buyer, saga["id"])["status"] == "failed"
    assert market.exposure(buyer) == exposure
    assert market.free(lot) == LOT_KG
    assert _trades(buyer) == []


def test_cancelling_a_trade_gives_back_its_quantity_and_credit(market: Market) -> None:
    buyer = market.buyer()
    trade, lot = _traded(market, buyer)
    assert market.free(lot) == LOT_KG - Decimal(trade["quantity"])
    assert market.exposure(buyer) == Decimal(trade["value"])

    cancel = buyer.client.post(
        f"/api/v1/matching/trades/{trade['id']}/cancel",
        json={"reason": "the mill closed"},
        headers={"idempotency-key": f"cancel-{uuid.uuid4().hex}"},
    )
    saga = _ok(cancel, 202)
    assert cancel.headers["location"] == f"/api/v1/matching/sagas/{saga['id']}"
    assert saga["type"] == "trade_cancellation"
    assert _settled(buyer, saga["id"])["status"] == "completed"

    cancelled = _ok(buyer.client.get(f"/api/v1/matching/trades/{trade['id']}"))
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "the mill closed")
    assert market.free(lot) == LOT_KG
    assert market.exposure(buyer) == 0


def test_each_party_sees_its_own_side_and_no_other_buyers_proposal(market: Market) -> None:
    seller, first, second = market.party(), market.party(), market.party()
    lot = market.lot(seller)
    requirements = [market.requirement(first), market.requirement(second)]
    mine, theirs = _proposal(first), _proposal(second)

    assert (mine["side"], mine["buyer_id"]) == ("buyer", first.id)
    assert mine["requirement_id"] == requirements[0]
    assert (mine["availability_id"], mine["seller_id"], mine["inputs"]) == (None, None, None)
    assert theirs["requirement_id"] == requirements[1]
    assert first.client.get(f"/api/v1/matching/proposals/{theirs['id']}").status_code == 404

    offered = _until(
        "both proposals to the seller",
        lambda: _ok(seller.client.get("/api/v1/matching/proposals", params={"status": "open"})),
        lambda found: len(found) == 2,
    )
    assert {proposal["id"] for proposal in offered} == {mine["id"], theirs["id"]}
    for proposal in offered:
        assert (proposal["side"], proposal["seller_id"]) == ("seller", seller.id)
        assert proposal["availability_id"] == lot
        assert (proposal["requirement_id"], proposal["buyer_id"]) == (None, None)
