"""What the API shows of proposals, trades and sagas.

A party sees a proposal from its own side: its own partner and offer, never the other party's
(both ids are left out, and so are the decision's raw inputs, which name them) until a trade is
confirmed. A trade names both parties. Operator staff see everything of their tenant's.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from mandi_matching.domain.offers import Side
from mandi_matching.domain.proposals import Proposal
from mandi_matching.domain.trades import Trade
from mandi_saga import HistoryEntry, Saga, SagaDefinition

__all__ = [
    "FactorView",
    "HistoryEntryView",
    "ProposalView",
    "SagaStepView",
    "SagaView",
    "TradeView",
    "history_view",
    "proposal_view",
    "saga_view",
    "trade_view",
]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class FactorView(_View):
    """One factor of a score: points out of its most, and why."""

    factor: str
    points: Decimal
    maximum: Decimal
    rationale: str


class ProposalView(_View):
    """A proposal as the caller may see it; the other party's ids are null to a party."""

    id: UUID
    status: str
    side: Side | None  # the caller's side; null for operator staff
    requirement_id: UUID | None
    availability_id: UUID | None
    buyer_id: UUID | None
    seller_id: UUID | None
    commodity: str
    grade: str
    quantity: Decimal
    base_unit: str
    price: Decimal
    currency: str
    price_unit: str
    value: Decimal
    score: Decimal
    scorer: str
    scorer_version: int
    breakdown: list[FactorView]
    rationale: str
    inputs: dict[str, Any] | None  # the decision's inputs, for operator staff only
    saga_id: UUID | None
    reason: str
    created_at: datetime
    updated_at: datetime


class TradeView(_View):
    """A trade, with both parties named."""

    id: UUID
    status: str
    saga_id: UUID
    proposal_id: UUID
    requirement_id: UUID
    availability_id: UUID
    buyer_id: UUID
    seller_id: UUID
    commodity: str
    grade: str
    quantity: Decimal
    unit: str
    price: Decimal
    currency: str
    price_unit: str
    value: Decimal
    delivery_from: str
    delivery_to: str
    delivery_city: str
    delivery_state: str
    cancel_saga_id: UUID | None
    cancel_reason: str
    created_at: datetime
    updated_at: datetime
    version: int


class SagaStepView(_View):
    """One step of a saga and where it stands."""

    name: str
    status: str


class SagaView(_View):
    """A saga's state: its status, the step it is at, each step's status, its deadline."""

    id: UUID
    type: str
    status: str
    step: str
    steps: list[SagaStepView]
    trade_id: UUID
    deadline: datetime | None
    attempts: int
    created_at: datetime
    updated_at: datetime


class HistoryEntryView(_View):
    """Something that happened to a saga: a command sent, a reply, a timeout, an operator."""

    at: datetime
    kind: str
    step: str | None
    detail: dict[str, Any]


def proposal_view(proposal: Proposal, side: Side | None) -> ProposalView:
    """The proposal from `side` (None: the operator's, everything)."""
    buyer_sees, seller_sees = side in {None, Side.BUYER}, side in {None, Side.SELLER}
    return ProposalView(
        id=proposal.id,
        status=proposal.status.value,
        side=side,
        requirement_id=proposal.requirement_id if buyer_sees else None,
        availability_id=proposal.availability_id if seller_sees else None,
        buyer_id=proposal.buyer_id if buyer_sees else None,
        seller_id=proposal.seller_id if seller_sees else None,
        commodity=proposal.commodity,
        grade=proposal.grade,
        quantity=proposal.quantity,
        base_unit=proposal.base_unit,
        price=proposal.price,
        currency=proposal.currency,
        price_unit=proposal.price_unit,
        value=proposal.value,
        score=proposal.score,
        scorer=proposal.scorer_name,
        scorer_version=proposal.scorer_version,
        breakdown=[
            FactorView(
                factor=factor.name,
                points=factor.points,
                maximum=factor.maximum,
                rationale=factor.rationale,
            )
            for factor in proposal.breakdown
        ],
        rationale=proposal.rationale,
        inputs=dict(proposal.inputs) if side is None else None,
        saga_id=proposal.saga_id,
        reason=proposal.reason,
        created_at=proposal.created_at,
        updated_at=proposal.updated_at,
    )


def trade_view(trade: Trade) -> TradeView:
    """A trade as its parties and the operator see it."""
    return TradeView(
        id=trade.id,
        status=trade.status.value,
        saga_id=trade.saga_id,
        proposal_id=trade.proposal_id,
        requirement_id=trade.requirement_id,
        availability_id=trade.availability_id,
        buyer_id=trade.buyer_id,
        seller_id=trade.seller_id,
        commodity=trade.commodity,
        grade=trade.grade,
        quantity=trade.quantity,
        unit=trade.unit,
        price=trade.price,
        currency=trade.currency,
        price_unit=trade.price_unit,
        value=trade.value,
        delivery_from=trade.delivery_from.isoformat(),
        delivery_to=trade.delivery_to.isoformat(),
        delivery_city=trade.delivery_city,
        delivery_state=trade.delivery_state,
        cancel_saga_id=trade.cancel_saga_id,
        cancel_reason=trade.cancel_reason,
        created_at=trade.created_at,
        updated_at=trade.updated_at,
        version=trade.version,
    )


def saga_view(saga: Saga, definition: SagaDefinition) -> SagaView:
    """A saga's state, its steps named."""
    return SagaView(
        id=saga.id,
        type=saga.type,
        status=saga.status.value,
        step=definition.steps[saga.step].name,
        steps=[
            SagaStepView(name=step.name, status=status.value)
            for step, status in zip(definition.steps, saga.steps, strict=True)
        ],
        trade_id=UUID(saga.data["trade_id"]),
        deadline=saga.deadline,
        attempts=saga.attempts,
        created_at=saga.created_at,
        updated_at=saga.updated_at,
    )


def history_view(entry: HistoryEntry) -> HistoryEntryView:
    """One entry of a saga's history."""
    return HistoryEntryView(
        at=entry.at, kind=entry.kind, step=entry.step, detail=dict(entry.detail)
    )
