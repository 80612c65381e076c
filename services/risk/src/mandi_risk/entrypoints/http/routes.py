"""The risk API: thin routes, each parses, calls one use case and shapes the answer.

Behind the gateway these are `/api/v1/risk/…`. A limit's answer carries its ETag; a change
names it in If-Match. A replayed idempotent answer says so in `Idempotent-Replayed`.
"""

from __future__ import annotations

from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from mandi_db import Answer
from mandi_risk.domain.scoring import ModelRef
from mandi_risk.entrypoints.http.deps import DepsDep
from mandi_risk.entrypoints.http.schemas import (
    AssessmentIn,
    CreditLimitIn,
    ModelVersionIn,
    PaymentIn,
    RatingIn,
)
from mandi_risk.service_layer import assessments, models, partners
from mandi_risk.service_layer.views import (
    ActiveModelView,
    AssessmentView,
    CreditLimitView,
    ModelView,
    PartnerRiskView,
)
from mandi_runtime.pages import CURSOR_PATTERN, decode_cursor, encode_cursor
from mandi_runtime.requests import IdempotencyDep, IfMatchDep, PrincipalDep, etag

__all__ = ["router"]

router = APIRouter()
V = TypeVar("V", AssessmentView, CreditLimitView, PartnerRiskView, ActiveModelView)
_ASSESSMENTS, _PARTNERS, _MODELS = "assessments", "partners", "models"


@router.post(
    "/assessments",
    response_model=AssessmentView,
    status_code=status.HTTP_201_CREATED,
    tags=[_ASSESSMENTS],
)
async def assess(
    body: AssessmentIn,
    principal: PrincipalDep,
    deps: DepsDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> AssessmentView:
    """Assesses a proposed trade: score, decision, breakdown per factor and rationale."""
    answer = await assessments.assess(deps, principal, body.to_proposal(), idempotency)
    response.headers["Location"] = f"/api/v1/risk/assessments/{answer.value.id}"
    return _replayed(answer, response)


@router.get("/assessments", response_model=list[AssessmentView], tags=[_ASSESSMENTS])
async def list_assessments(
    *,
    principal: PrincipalDep,
    deps: DepsDep,
    response: Response,
    buyer_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> list[AssessmentView]:
    """Assessments, newest first, of one buyer if named; `X-Next-Cursor` names the next page."""
    after = decode_cursor(cursor) if cursor else None
    views, following = await assessments.assessments(
        deps, principal, buyer_id=buyer_id, limit=limit, after=after
    )
    next_cursor = encode_cursor(following)
    if next_cursor:
        response.headers["X-Next-Cursor"] = next_cursor
    return views


@router.get("/assessments/{assessment_id}", response_model=AssessmentView, tags=[_ASSESSMENTS])
async def get_assessment(
    assessment_id: UUID, principal: PrincipalDep, deps: DepsDep
) -> AssessmentView:
    """One assessment as it was made: who asked, the model, the inputs it saw."""
    return await assessments.assessment(deps, principal, assessment_id)


@router.get("/partners/{partner_id}", response_model=PartnerRiskView, tags=[_PARTNERS])
async def get_partner(
    partner_id: UUID, principal: PrincipalDep, deps: DepsDep, response: Response
) -> PartnerRiskView:
    """What risk holds of a partner: standing, rating, payments, limit with its history,
    exposure and headroom, and its open trades as buyer and as seller."""
    view = await partners.partner_risk(deps, principal, partner_id)
    if view.limit is not None:
        response.headers["ETag"] = etag(view.limit.version)
    return view


@router.put("/partners/{partner_id}/limit", response_model=CreditLimitView, tags=[_PARTNERS])
async def set_limit(
    *,
    partner_id: UUID,
    body: CreditLimitIn,
    principal: PrincipalDep,
    deps: DepsDep,
    idempotency: IdempotencyDep,
    if_match: IfMatchDep,
    response: Response,
) -> CreditLimitView:
    """Sets a partner's credit limit (risk officers); a change names its version in If-Match."""
    answer = await partners.set_limit(
        deps,
        principal,
        partner_id,
        body.to_money(),
        body.reason,
        if_match=if_match,
        key=idempotency,
    )
    response.headers["ETag"] = etag(answer.value.version)
    return _replayed(answer, response)


@router.put("/partners/{partner_id}/rating", response_model=PartnerRiskView, tags=[_PARTNERS])
async def set_rating(
    partner_id: UUID, body: RatingIn, principal: PrincipalDep, deps: DepsDep
) -> PartnerRiskView:
    """Records a risk officer's rating of a partner."""
    return await partners.set_rating(deps, principal, partner_id, body.rating)


@router.post("/partners/{partner_id}/payments", response_model=PartnerRiskView, tags=[_PARTNERS])
async def record_payment(
    *,
    partner_id: UUID,
    body: PaymentIn,
    principal: PrincipalDep,
    deps: DepsDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> PartnerRiskView:
    """Records one payment a partner made, and how late."""
    answer = await partners.record_payment(deps, principal, partner_id, body.days_late, idempotency)
    return _replayed(answer, response)


@router.get("/models", response_model=list[ModelView], tags=[_MODELS])
async def list_models(principal: PrincipalDep, deps: DepsDep) -> list[ModelView]:
    """Every registered model version, newest first, the one that decides marked."""
    return await models.models(deps, principal)


@router.post("/models/active", response_model=ModelView, tags=[_MODELS])
async def promote_model(body: ModelVersionIn, principal: PrincipalDep, deps: DepsDep) -> ModelView:
    """Promotes a registered version: it decides every assessment from now on."""
    return await models.promote(deps, principal, ModelRef(body.name, body.version))


@router.post("/models/active/rollback", response_model=ActiveModelView, tags=[_MODELS])
async def roll_back_model(
    principal: PrincipalDep, deps: DepsDep, idempotency: IdempotencyDep, response: Response
) -> ActiveModelView:
    """Takes the active version off: the one promoted before it decides again (or the
    scorecard)."""
    return _replayed(await models.roll_back(deps, principal, idempotency), response)


def _replayed(answer: Answer[V], response: Response) -> V:
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return answer.value
