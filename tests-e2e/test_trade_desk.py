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

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import trading

from mandi_testing.platform import RunningPlatform

# The module's desk (a tenant of its own) and each test's market, as fixtures here.
desk = trading.desk
market = trading.market


def test_an_accepted_proposal_becomes_a_trade_holding_quantity_and_credit(
    market: trading.Market,
) -> None:
    seller, buyer = market.party(), market.buyer()
    lot = market.lot(seller)
    requirement = market.requirement(buyer, bales="40")
    free, exposure = market.free(lot), market.exposure(buyer)
    assert (free, exposure) == (trading.LOT_KG, 0)

    proposal = trading.proposal(buyer, requirement)
    assert (proposal["side"], proposal["buyer_id"]) == ("buyer", buyer.id)
    assert proposal["quantity"] == "6800"  # the 40 bales asked, in kg
    assert proposal["breakdown"]
    assert proposal["rationale"].startswith("Scored")
    accepted = trading.accept(buyer, proposal)
    saga = trading.ok(accepted, 202)
    assert accepted.headers["location"] == f"/api/v1/matching/sagas/{saga['id']}"
    assert saga["type"] == "trade"

    settled = trading.settled(buyer, saga["id"])
    assert settled["status"] == "completed", settled
    assert set(trading.steps(settled).values()) == {"done"}
    trade = trading.ok(buyer.client.get(f"/api/v1/matching/trades/{settled['trade_id']}"))
    assert trade["status"] == "confirmed"
    assert (trade["buyer_id"], trade["seller_id"]) == (buyer.id, seller.id)
    assert trade["availability_id"] == lot
    assert (trade["quantity"], trade["value"]) == (proposal["quantity"], proposal["value"])
    assert trading.proposal_by_id(buyer, proposal["id"])["status"] == "traded"
    assert market.free(lot) == free - Decimal(trade["quantity"])
    assert market.exposure(buyer) == exposure + Decimal(trade["value"])


def test_accepting_twice_with_one_key_starts_one_saga_and_makes_one_trade(
    market: trading.Market,
) -> None:
    buyer = market.buyer()
    lot = market.lot(market.party())
    proposal = trading.proposal(buyer, market.requirement(buyer, bales="40"))
    key = f"accept-{uuid.uuid4().hex}"

    first, second = trading.accept(buyer, proposal, key), trading.accept(buyer, proposal, key)
    assert (first.status_code, second.status_code) == (202, 202), second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert trading.settled(buyer, first.json()["id"])["status"] == "completed"

    [trade] = trading.trades(buyer)
    assert trade["saga_id"] == first.json()["id"]
    assert market.free(lot) == trading.LOT_KG - Decimal(
        trade["quantity"]
    )  # reserved once, not twice
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
    market: trading.Market, limit: str | None, refusal: str
) -> None:
    buyer = market.buyer(limit)
    lot = market.lot(market.party())
    proposal = trading.proposal(buyer, market.requirement(buyer))

    saga = trading.settled(buyer, trading.ok(trading.accept(buyer, proposal), 202)["id"])

    assert saga["status"] == "failed", saga
    history = trading.history(buyer, saga["id"])
    assert ("refused", "reserve-exposure") in history
    assert ("compensated", "reserve-quantity") in history
    assert market.free(lot) == trading.LOT_KG
    assert trading.trades(buyer) == []
    failed = trading.proposal_by_id(buyer, proposal["id"])
    assert failed["status"] == "failed"
    assert failed["reason"].startswith(f"reserve-exposure refused: {refusal}")


def test_a_lot_another_trade_took_first_fails_the_saga_with_nothing_reserved(
    market: trading.Market,
) -> None:
    buyers = [market.buyer(), market.buyer()]
    lot = market.lot(market.party())
    proposals = [trading.proposal(buyer, market.requirement(buyer)) for buyer in buyers]
    exposures = [market.exposure(buyer) for buyer in buyers]

    # Both accept at once: the lot's 100 bales are reserved to whichever saga availability
    # serves first, and the other finds nothing free.
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(trading.accept, buyers, proposals))
    sagas = [
        trading.settled(buyer, trading.ok(answer, 202)["id"])
        for buyer, answer in zip(buyers, answers, strict=True)
    ]

    statuses = sorted(saga["status"] for saga in sagas)
    assert statuses == ["completed", "failed"], sagas
    won = next(index for index, saga in enumerate(sagas) if saga["status"] == "completed")
    winner, loser, lost = buyers[won], buyers[1 - won], 1 - won
    [trade] = trading.trades(winner)
    assert market.free(lot) == 0  # all of it the winner's
    assert market.exposure(winner) == exposures[won] + Decimal(trade["value"])
    assert trading.steps(sagas[lost]) == {
        "reserve-quantity": "refused",
        "reserve-exposure": "waiting",
        "confirm": "waiting",
    }
    history = trading.history(loser, sagas[lost]["id"])
    assert not [kind for kind, _ in history if kind.startswith("compensation")], history
    assert trading.trades(loser) == []
    assert market.exposure(loser) == exposures[lost]
    assert trading.proposal_by_id(loser, proposals[lost]["id"])["status"] == "failed"


def test_with_risk_down_the_deadline_gives_the_quantity_back_and_a_late_reply_changes_nothing(
    platform: RunningPlatform, market: trading.Market
) -> None:
    buyer = market.buyer()
    lot = market.lot(market.party())
    proposal = trading.proposal(buyer, market.requirement(buyer, bales="40"))
    exposure = market.exposure(buyer)

    with platform.stopped("risk"):
        saga = trading.settled(buyer, trading.ok(trading.accept(buyer, proposal), 202)["id"])
        assert saga["status"] == "failed", saga
        assert trading.steps(saga)["reserve-exposure"] == "abandoned"
        history = trading.history(buyer, saga["id"])
        assert ("timed_out", "reserve-exposure") in history
        assert ("compensated", "reserve-quantity") in history
        assert market.free(lot) == trading.LOT_KG
        failed = trading.proposal_by_id(buyer, proposal["id"])
        assert (failed["status"], failed["reason"]) == ("failed", "reserve-exposure timed out")

    # Risk is back and applies the command it missed: its late reservation is given back.
    late = trading.until(
        "late reservation of credit given back",
        lambda: trading.history(buyer, saga["id"]),
        lambda history: ("compensated", "reserve-exposure") in history,
        timeout=30,
    )
    reserved_late = late.index(("late_success", "reserve-exposure"))
    assert reserved_late < late.index(("compensated", "reserve-exposure"))
    assert trading.saga(buyer, saga["id"])["status"] == "failed"
    assert market.exposure(buyer) == exposure
    assert market.free(lot) == trading.LOT_KG
    assert trading.trades(buyer) == []


def test_cancelling_a_trade_gives_back_its_quantity_and_credit(market: trading.Market) -> None:
    buyer = market.buyer()
    trade, lot = trading.traded(market, buyer)
    assert market.free(lot) == trading.LOT_KG - Decimal(trade["quantity"])
    assert market.exposure(buyer) == Decimal(trade["value"])

    cancel = buyer.client.post(
        f"/api/v1/matching/trades/{trade['id']}/cancel",
        json={"reason": "the mill closed"},
        headers={"idempotency-key": f"cancel-{uuid.uuid4().hex}"},
    )
    saga = trading.ok(cancel, 202)
    assert cancel.headers["location"] == f"/api/v1/matching/sagas/{saga['id']}"
    assert saga["type"] == "trade_cancellation"
    assert trading.settled(buyer, saga["id"])["status"] == "completed"

    cancelled = trading.ok(buyer.client.get(f"/api/v1/matching/trades/{trade['id']}"))
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "the mill closed")
    assert market.free(lot) == trading.LOT_KG
    assert market.exposure(buyer) == 0


def test_each_party_sees_its_own_side_and_no_other_buyers_proposal(market: trading.Market) -> None:
    seller, first, second = market.party(), market.party(), market.party()
    lot = market.lot(seller)
    requirements = [market.requirement(first), market.requirement(second)]
    mine, theirs = trading.proposal(first), trading.proposal(second)

    assert (mine["side"], mine["buyer_id"]) == ("buyer", first.id)
    assert mine["requirement_id"] == requirements[0]
    assert (mine["availability_id"], mine["seller_id"], mine["inputs"]) == (None, None, None)
    assert theirs["requirement_id"] == requirements[1]
    assert first.client.get(f"/api/v1/matching/proposals/{theirs['id']}").status_code == 404

    offered = trading.until(
        "both proposals to the seller",
        lambda: trading.ok(
            seller.client.get("/api/v1/matching/proposals", params={"status": "open"})
        ),
        lambda found: len(found) == 2,
    )
    assert {proposal["id"] for proposal in offered} == {mine["id"], theirs["id"]}
    for proposal in offered:
        assert (proposal["side"], proposal["seller_id"]) == ("seller", seller.id)
        assert proposal["availability_id"] == lot
        assert (proposal["requirement_id"], proposal["buyer_id"]) == (None, None)
