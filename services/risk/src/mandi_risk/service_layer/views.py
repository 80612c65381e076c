"""What the API shows: plain JSON-able models, so an idempotent answer is stored and replayed
exactly. Money is an exact decimal, written as a string, with its currency."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from mandi_risk.domain.assessment import Assessment
from mandi_risk.domain.credit import CreditLimit, Exposure
from mandi_risk.domain.profile import PartnerProfile
from mandi_risk.service_layer.unit_of_work import (
    Activation,
    OpenSide,
    OpenTrades,
    RegisteredModel,
)

__all__ = [
    "ActiveModelView",
    "AssessmentView",
    "CreditLimitView",
    "FactorView",
    "ModelView",
    "OpenSideView",
    "OpenTotalView",
    "OpenTradesView",
    "OpenWithView",
    "PartnerRiskView",
    "assessment_view",
    "limit_view",
    "model_view",
    "partner_risk_view",
]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CreditLimitView(_View):
    """One version of a partner's credit limit."""

    partner_id: UUID
    amount: Decimal
    currency: str
    reason: str
    set_by: str
    set_at: datetime
    version: int


def limit_view(limit: CreditLimit) -> CreditLimitView:
    """The limit as the API shows it."""
    return CreditLimitView(
        partner_id=limit.partner_id,
        amount=limit.limit.amount,
        currency=limit.limit.currency,
        reason=limit.reason,
        set_by=limit.set_by,
        set_at=limit.set_at,
        version=limit.version,
    )


class OpenTotalView(_View):
    """A partner's open trades on one side in one currency."""

    currency: str
    trades: int
    value: Decimal
    counterparties: int


class OpenWithView(_View):
    """A partner's open trades on one side with one counterparty, in one currency."""

    counterparty_id: UUID
    trades: int
    value: Decimal
    currency: str


class OpenSideView(_View):
    """A partner's open trades as buyer, or as seller: totals per currency, and the few
    counterparties with the most of them (every one is counted in the totals)."""

    totals: list[OpenTotalView] = []
    counterparties: list[OpenWithView] = []


class OpenTradesView(_View):
    """A partner's open trades: confirmed, neither cancelled nor settled."""

    as_buyer: OpenSideView = OpenSideView()
    as_seller: OpenSideView = OpenSideView()


class PartnerRiskView(_View):
    """What risk holds of a partner: standing, rating, payments, limit, exposure and open
    trades."""

    partner_id: UUID
    standing: str
    rating: str | None
    payments_on_time: int
    payments_late: int
    average_days_late: float
    limit: CreditLimitView | None
    exposure: Decimal
    headroom: Decimal
    limit_history: list[CreditLimitView]
    # An answer stored for an idempotent replay before trades were known has none.
    open_trades: OpenTradesView = OpenTradesView()


def partner_risk_view(
    profile: PartnerProfile,
    limit: CreditLimit | None,
    exposure: Exposure | None,
    history: list[CreditLimit],
    open_trades: OpenTrades,
) -> PartnerRiskView:
    """The partner as the API shows it."""
    open_exposure = exposure.open if exposure else Decimal(0)
    headroom = limit.limit.amount - open_exposure if limit else Decimal(0)
    return PartnerRiskView(
        partner_id=profile.partner_id,
        standing=profile.standing.value,
        rating=profile.rating.value if profile.rating else None,
        payments_on_time=profile.payments.on_time,
        payments_late=profile.payments.late,
        average_days_late=profile.payments.average_days_late,
        limit=limit_view(limit) if limit else None,
        exposure=open_exposure,
        headroom=headroom,
        limit_history=[limit_view(version) for version in history],
        open_trades=OpenTradesView(
            as_buyer=_open_side_view(open_trades.as_buyer),
            as_seller=_open_side_view(open_trades.as_seller),
        ),
    )


def _open_side_view(side: OpenSide) -> OpenSideView:
    return OpenSideView(
        totals=[
            OpenTotalView(
                currency=total.currency,
                trades=total.trades,
                value=total.value,
                counterparties=total.counterparties,
            )
            for total in side.totals
        ],
        counterparties=[
            OpenWithView(
                counterparty_id=each.counterparty_id,
                trades=each.trades,
                value=each.value,
                currency=each.currency,
            )
            for each in side.counterparties
        ],
    )


class FactorView(_View):
    """One factor of an assessment: its value and the points it gave."""

    name: str
    value: float | None
    points: float


class AssessmentView(_View):
    """An assessment: the proposal, score, decision, breakdown, rationale, model and inputs."""

    id: UUID
    buyer_id: UUID
    seller_id: UUID
    commodity: str
    value: Decimal
    currency: str
    score: int
    decision: str
    conditions: list[str]
    rationale: str
    model_name: str
    model_version: int
    base: float
    factors: list[FactorView]
    bureau_score: int | None
    bureau_live: bool
    assessed_by: str
    assessed_at: datetime


def assessment_view(assessment: Assessment) -> AssessmentView:
    """The assessment as the API shows it."""
    proposal, scored = assessment.proposal, assessment.scored
    values = assessment.features.as_dict()
    return AssessmentView(
        id=assessment.id,
        buyer_id=proposal.buyer_id,
        seller_id=proposal.seller_id,
        commodity=proposal.commodity,
        value=proposal.value.amount,
        currency=proposal.value.currency,
        score=scored.score,
        decision=assessment.verdict.decision.value,
        conditions=assessment.verdict.conditions,
        rationale=assessment.verdict.rationale,
        model_name=scored.model.name,
        model_version=scored.model.version,
        base=round(scored.base, 4) + 0.0,
        factors=[
            # + 0.0: a factor that gave nothing shows 0.0, never -0.0.
            FactorView(name=name, value=values[name], points=round(points, 4) + 0.0)
            for name, points in scored.points.items()
        ],
        bureau_score=assessment.bureau.score,
        bureau_live=assessment.bureau.live,
        assessed_by=assessment.assessed_by,
        assessed_at=assessment.assessed_at,
    )


class ActiveModelView(_View):
    """The model that decides now (`scorecard` v1 while no trained one is promoted)."""

    name: str
    version: int


class ModelView(_View):
    """A registered model version, and whether it decides now."""

    name: str
    version: int
    artifact_digest: str
    training_digest: str
    metrics: dict[str, float]
    registered_by: str
    registered_at: datetime
    active: bool
    activated_by: str | None = None
    activated_at: datetime | None = None


def model_view(registered: RegisteredModel, active: Activation | None) -> ModelView:
    """The version as the API shows it; `active` is the registry's current activation."""
    is_active = active is not None and active.model == registered.model
    return ModelView(
        name=registered.model.name,
        version=registered.model.version,
        artifact_digest=registered.artifact_digest,
        training_digest=registered.training_digest,
        metrics=registered.metrics,
        registered_by=registered.registered_by,
        registered_at=registered.registered_at,
        active=is_active,
        activated_by=active.activated_by if is_active and active else None,
        activated_at=active.activated_at if is_active and active else None,
    )
