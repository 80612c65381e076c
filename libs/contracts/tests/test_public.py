"""The public webhook payloads: each event goes to the partners it concerns, each its own side,
and no partner is told another's ids before a trade names them."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from mandi_contracts import (
    AssessmentMade,
    MatchProposed,
    PartnerApproved,
    PartnerSuspended,
    TradeCancelled,
    TradeConfirmed,
    TradeSettled,
)
from mandi_contracts.public import PUBLIC_TYPES, Delivery, audience

TENANT, BUYER, SELLER = uuid4(), uuid4(), uuid4()
REQUIREMENT, AVAILABILITY, PROPOSAL, TRADE = uuid4(), uuid4(), uuid4(), uuid4()


def _proposed() -> MatchProposed:
    return MatchProposed(
        tenant_id=TENANT,
        proposal_id=PROPOSAL,
        requirement_id=REQUIREMENT,
        availability_id=AVAILABILITY,
        buyer_id=BUYER,
        seller_id=SELLER,
        commodity="wheat",
        grade="Lokwan",
        quantity=Decimal(10000),
        base_unit="kg",
        price=Decimal(6200),
        currency="INR",
        score=Decimal("84.50"),
        scorer="heuristic",
        scorer_version=1,
    )


def _confirmed() -> TradeConfirmed:
    return TradeConfirmed(
        tenant_id=TENANT,
        trade_id=TRADE,
        buyer_id=BUYER,
        seller_id=SELLER,
        saga_id=uuid4(),
        proposal_id=PROPOSAL,
        requirement_id=REQUIREMENT,
        availability_id=AVAILABILITY,
        commodity="wheat",
        grade="Lokwan",
        quantity=Decimal(10000),
        unit="kg",
        price=Decimal(6200),
        currency="INR",
        value=Decimal(620000),
        delivery_from=date(2030, 1, 1),
        delivery_to=date(2030, 1, 15),
        delivery_city="Mumbai",
        delivery_state="Maharashtra",
    )


def _sent_to(deliveries: list[Delivery], partner: UUID) -> str:
    [mine] = [delivery for delivery in deliveries if delivery.partner_id == partner]
    return mine.payload.model_dump_json()


def test_a_proposal_goes_to_each_party_with_its_own_offer_and_never_the_others() -> None:
    deliveries = audience(_proposed(), "event-1")

    assert {(d.partner_id, d.type, d.version) for d in deliveries} == {
        (BUYER, "match.proposed", 1),
        (SELLER, "match.proposed", 1),
    }
    to_buyer, to_seller = _sent_to(deliveries, BUYER), _sent_to(deliveries, SELLER)
    assert str(REQUIREMENT) in to_buyer
    assert not {str(SELLER), str(AVAILABILITY), str(BUYER)} & _ids_in(to_buyer)
    assert str(AVAILABILITY) in to_seller
    assert not {str(BUYER), str(REQUIREMENT), str(SELLER)} & _ids_in(to_seller)


def test_a_confirmed_trade_names_the_counterparty_to_each_side() -> None:
    deliveries = audience(_confirmed(), "event-2")

    buyer_sees = {d.partner_id: d.payload for d in deliveries}[BUYER]
    seller_sees = {d.partner_id: d.payload for d in deliveries}[SELLER]
    assert (buyer_sees.side, buyer_sees.counterparty_id) == ("buyer", SELLER)
    assert (seller_sees.side, seller_sees.counterparty_id) == ("seller", BUYER)
    assert buyer_sees.value == Decimal(620000)
    assert "saga_id" not in buyer_sees.model_dump()  # internal: not in the public schema


def test_a_trade_that_ends_is_told_to_both_parties_with_its_status() -> None:
    ids = {"tenant_id": TENANT, "trade_id": TRADE, "buyer_id": BUYER, "seller_id": SELLER}
    cancelled = TradeCancelled(
        **ids, saga_id=uuid4(), value=Decimal(1), currency="INR", reason="the mill closed"
    )
    settled = TradeSettled(**ids, value=Decimal(1), currency="INR")

    [cancel, _] = audience(cancelled, "event-3")
    [settle, _] = audience(settled, "event-4")
    assert (cancel.type, cancel.payload.status, cancel.payload.reason) == (
        "trade.cancelled",
        "cancelled",
        "the mill closed",
    )
    assert (settle.type, settle.payload.status, settle.payload.reason) == (
        "trade.settled",
        "settled",
        "",
    )


def test_an_onboarding_status_goes_to_its_partner_alone() -> None:
    approved = PartnerApproved(tenant_id=TENANT, partner_id=SELLER, version=2, approved_by="ops")
    suspended = PartnerSuspended(tenant_id=TENANT, partner_id=SELLER, version=3, suspended_by="x")

    assert [(d.partner_id, d.payload.status) for d in audience(approved, "e5")] == [
        (SELLER, "approved")
    ]
    assert [d.payload.status for d in audience(suspended, "e6")] == ["suspended"]
    assert "ops" not in audience(approved, "e5")[0].payload.model_dump_json()


def test_an_internal_event_no_partner_is_concerned_by_is_sent_to_nobody() -> None:
    assessment = AssessmentMade(
        tenant_id=TENANT,
        assessment_id=uuid4(),
        buyer_id=BUYER,
        seller_id=SELLER,
        commodity="wheat",
        value=Decimal(1),
        currency="INR",
        score=80,
        decision="APPROVE",
        model_name="scorecard",
        model_version=1,
    )
    assert audience(assessment, "e7") == []


def test_the_webhook_id_is_stable_per_event_and_partner() -> None:
    first, again = audience(_proposed(), "event-1"), audience(_proposed(), "event-1")
    other = audience(_proposed(), "event-9")

    assert [d.webhook_id for d in first] == [d.webhook_id for d in again]
    assert len({d.webhook_id for d in first + other}) == 4
    assert all(d.webhook_id.startswith("msg_") for d in first)


@pytest.mark.parametrize(("kind", "version"), sorted(PUBLIC_TYPES))
def test_every_public_type_refuses_a_field_it_does_not_declare(kind: str, version: int) -> None:
    schema = PUBLIC_TYPES[kind, version]
    assert schema.model_config.get("extra") == "forbid"
    assert schema.model_json_schema()["additionalProperties"] is False


def _ids_in(text: str) -> set[str]:
    """Every UUID the JSON text names."""
    return set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text))
