"""What partners' systems are told through webhooks: an explicit, versioned public payload per
event type, built from the internal event for each partner it concerns, never the internal event
forwarded as it is.

`audience(event, event_id)` says who receives what: the partner an onboarding event is about;
the buyer and the seller of a proposal, each its own side (its own offer, never the other
party's id or offer); both parties of a trade, which names the counterparty once confirmed.
Any other event concerns no partner. A delivery's `webhook_id` is derived from the internal
event's id and the partner, so it is stable: sent again, it is the same delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel, ConfigDict

from mandi_contracts.matching import (
    MatchProposed,
    TradeCancelled,
    TradeConfirmed,
    TradeSettled,
)
from mandi_contracts.partners import (
    PartnerApproved,
    PartnerReinstated,
    PartnerRejected,
    PartnerSuspended,
)
from mandi_messaging.registry import Event

__all__ = [
    "PUBLIC_TYPES",
    "Delivery",
    "PartnerStatusPayload",
    "ProposalPayload",
    "PublicPayload",
    "TradeClosedPayload",
    "TradePayload",
    "audience",
]


class PublicPayload(BaseModel):
    """A public payload: its fields are all a partner is told."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PartnerStatusPayload(PublicPayload):
    """`partner.status_changed` v1: the partner's own onboarding status."""

    partner_id: UUID
    status: str  # approved, rejected, suspended, reinstated


class ProposalPayload(PublicPayload):
    """`match.proposed` v1: a proposal from the receiver's side; the other party stays masked."""

    proposal_id: UUID
    side: str  # buyer or seller: the receiver's
    offer_id: UUID  # the receiver's own requirement (buyer) or availability (seller)
    commodity: str
    grade: str
    quantity: Decimal
    unit: str
    price: Decimal
    currency: str
    score: Decimal


class TradePayload(PublicPayload):
    """`trade.confirmed` v1: a trade the receiver is party to, naming the counterparty."""

    trade_id: UUID
    side: str
    counterparty_id: UUID
    proposal_id: UUID
    commodity: str
    grade: str
    quantity: Decimal
    unit: str
    price: Decimal
    currency: str
    value: Decimal
    delivery_from: date
    delivery_to: date
    delivery_city: str
    delivery_state: str


class TradeClosedPayload(PublicPayload):
    """`trade.cancelled` v1 and `trade.settled` v1: a trade of the receiver's came to its end."""

    trade_id: UUID
    side: str
    status: str  # cancelled or settled
    value: Decimal
    currency: str
    reason: str  # why it was cancelled; empty when settled


# Each public type and version, and the schema of its payload.
PUBLIC_TYPES: dict[tuple[str, int], type[PublicPayload]] = {
    ("partner.status_changed", 1): PartnerStatusPayload,
    ("match.proposed", 1): ProposalPayload,
    ("trade.confirmed", 1): TradePayload,
    ("trade.cancelled", 1): TradeClosedPayload,
    ("trade.settled", 1): TradeClosedPayload,
}


@dataclass(frozen=True)
class Delivery:
    """One public event for one partner: its stable id, its type and version, its payload."""

    partner_id: UUID
    webhook_id: str
    type: str
    version: int
    payload: PublicPayload


_StatusEvent = PartnerApproved | PartnerRejected | PartnerSuspended | PartnerReinstated
_STATUSES: dict[type[Event], str] = {
    PartnerApproved: "approved",
    PartnerRejected: "rejected",
    PartnerSuspended: "suspended",
    PartnerReinstated: "reinstated",
}


def audience(event: Event, event_id: str) -> list[Delivery]:
    """The public deliveries an internal event makes, one per partner it concerns."""
    if isinstance(event, _StatusEvent):
        return _partner_status(event, event_id)
    if isinstance(event, MatchProposed):
        return _proposal(event, event_id)
    if isinstance(event, TradeConfirmed):
        return _trade(event, event_id)
    if isinstance(event, TradeCancelled | TradeSettled):
        return _trade_closed(event, event_id)
    return []


def _delivery(event_id: str, partner_id: UUID, kind: str, payload: PublicPayload) -> Delivery:
    webhook_id = f"msg_{uuid5(NAMESPACE_URL, f'mandi:{event_id}:{partner_id}').hex}"
    return Delivery(partner_id, webhook_id, kind, 1, payload)


def _partner_status(event: _StatusEvent, event_id: str) -> list[Delivery]:
    payload = PartnerStatusPayload(partner_id=event.partner_id, status=_STATUSES[type(event)])
    return [_delivery(event_id, event.partner_id, "partner.status_changed", payload)]


def _proposal(event: MatchProposed, event_id: str) -> list[Delivery]:
    shared = {
        "proposal_id": event.proposal_id,
        "commodity": event.commodity,
        "grade": event.grade,
        "quantity": event.quantity,
        "unit": event.base_unit,
        "price": event.price,
        "currency": event.currency,
        "score": event.score,
    }
    sides = (
        (event.buyer_id, "buyer", event.requirement_id),
        (event.seller_id, "seller", event.availability_id),
    )
    return [
        _delivery(
            event_id,
            partner,
            "match.proposed",
            ProposalPayload(**shared, side=side, offer_id=offer),
        )
        for partner, side, offer in sides
    ]


def _trade(event: TradeConfirmed, event_id: str) -> list[Delivery]:
    shared = event.model_dump(
        include={
            "trade_id",
            "proposal_id",
            "commodity",
            "grade",
            "quantity",
            "unit",
            "price",
            "currency",
            "value",
            "delivery_from",
            "delivery_to",
            "delivery_city",
            "delivery_state",
        }
    )
    sides = (
        (event.buyer_id, "buyer", event.seller_id),
        (event.seller_id, "seller", event.buyer_id),
    )
    return [
        _delivery(
            event_id,
            partner,
            "trade.confirmed",
            TradePayload(**shared, side=side, counterparty_id=counterparty),
        )
        for partner, side, counterparty in sides
    ]


def _trade_closed(event: TradeCancelled | TradeSettled, event_id: str) -> list[Delivery]:
    cancelled = isinstance(event, TradeCancelled)
    kind, status = ("trade.cancelled", "cancelled") if cancelled else ("trade.settled", "settled")
    reason = event.reason if isinstance(event, TradeCancelled) else ""
    return [
        _delivery(
            event_id,
            partner,
            kind,
            TradeClosedPayload(
                trade_id=event.trade_id,
                side=side,
                status=status,
                value=event.value,
                currency=event.currency,
                reason=reason,
            ),
        )
        for partner, side in ((event.buyer_id, "buyer"), (event.seller_id, "seller"))
    ]
