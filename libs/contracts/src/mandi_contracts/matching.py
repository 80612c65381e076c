"""Events of the matching service, on `mandi.matching.events`: proposals, the trade sagas'
progress, and trades.

Quantities are in the commodity's base unit; amounts travel as exact decimal strings with their
ISO 4217 currency. A proposal's score is out of 100, the sum of its factors' points.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from mandi_contracts.registry import EVENTS
from mandi_messaging.registry import Event

__all__ = [
    "MATCHING_EVENTS",
    "MatchProposed",
    "ProposalAccepted",
    "ProposalDeclined",
    "SagaCompensating",
    "SagaCompleted",
    "SagaFailed",
    "SagaNeedsOperator",
    "SagaStarted",
    "SagaStepCompleted",
    "TradeCancelled",
    "TradeConfirmed",
    "TradeSettled",
]


class _ProposalEvent(Event):
    tenant_id: UUID
    proposal_id: UUID
    requirement_id: UUID
    availability_id: UUID
    buyer_id: UUID
    seller_id: UUID


@EVENTS.event("mandi.match.proposed", 1)
class MatchProposed(_ProposalEvent):
    """An availability was proposed for a requirement, with the score that ranked it."""

    commodity: str
    grade: str
    quantity: Decimal
    base_unit: str
    price: Decimal
    currency: str
    score: Decimal
    scorer: str
    scorer_version: int


@EVENTS.event("mandi.proposal.accepted", 1)
class ProposalAccepted(_ProposalEvent):
    """A party accepted the proposal; the trade saga `saga_id` makes it a trade, or fails."""

    saga_id: UUID
    side: str  # buyer or seller


@EVENTS.event("mandi.proposal.declined", 1)
class ProposalDeclined(_ProposalEvent):
    """A party declined the proposal; it is not proposed again."""

    side: str
    reason: str


class _SagaEvent(Event):
    tenant_id: UUID
    saga_id: UUID
    saga_type: str  # trade or trade_cancellation
    trade_id: UUID  # the trade it makes, or cancels


@EVENTS.event("mandi.saga.started", 1)
class SagaStarted(_SagaEvent):
    """A saga began; its first command is on its way."""


@EVENTS.event("mandi.saga.step_completed", 1)
class SagaStepCompleted(_SagaEvent):
    """A participant did what a step of the saga asked."""

    step: str


@EVENTS.event("mandi.saga.compensating", 1)
class SagaCompensating(_SagaEvent):
    """A step was refused or timed out; what the saga holds is being given back."""

    step: str
    reason: str


@EVENTS.event("mandi.saga.completed", 1)
class SagaCompleted(_SagaEvent):
    """Every step of the saga succeeded."""


@EVENTS.event("mandi.saga.failed", 1)
class SagaFailed(_SagaEvent):
    """The saga ended without its outcome, everything it held given back."""

    reason: str


@EVENTS.event("mandi.saga.needs_operator", 1)
class SagaNeedsOperator(_SagaEvent):
    """A compensation went unanswered too often; an operator must retry or resolve it."""

    step: str


class _TradeEvent(Event):
    tenant_id: UUID
    trade_id: UUID
    buyer_id: UUID
    seller_id: UUID


@EVENTS.event("mandi.trade.confirmed", 1)
class TradeConfirmed(_TradeEvent):
    """Quantity and credit are reserved: the trade stands."""

    saga_id: UUID
    proposal_id: UUID
    requirement_id: UUID
    availability_id: UUID
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


@EVENTS.event("mandi.trade.cancelled", 1)
class TradeCancelled(_TradeEvent):
    """The trade was cancelled; its quantity and the buyer's credit are given back."""

    saga_id: UUID  # the cancellation's
    value: Decimal
    currency: str
    reason: str


@EVENTS.event("mandi.trade.settled", 1)
class TradeSettled(_TradeEvent):
    """The trade was paid and delivered; the buyer's credit it used is given back."""

    value: Decimal
    currency: str


MATCHING_EVENTS: tuple[type[Event], ...] = (
    MatchProposed,
    ProposalAccepted,
    ProposalDeclined,
    SagaStarted,
    SagaStepCompleted,
    SagaCompensating,
    SagaCompleted,
    SagaFailed,
    SagaNeedsOperator,
    TradeConfirmed,
    TradeCancelled,
    TradeSettled,
)
