"""Assessments: score a proposed trade with the active model, decide, explain, and keep it.

The bureau is asked first, outside any transaction (no network call holds a transaction open),
unless it gave the buyer's score recently enough (`bureau_fresh_for`) to use as is. When it
gives no live score (its breaker open, a timeout, an invalid answer), the assessment uses the
last score it gave for the buyer, weighed less for its age, or none at all, and the rationale
says which. Every assessment is stored with who asked, the model and the inputs it
saw, and announced (`mandi.assessment.made`).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from mandi_contracts import AssessmentMade
from mandi_db import Answer, IdempotencyKey, idempotently
from mandi_errors import NotFound
from mandi_risk.domain import access
from mandi_risk.domain.assessment import (
    Assessment,
    BureauReading,
    Proposal,
    Situation,
    decide,
    features_of,
)
from mandi_risk.domain.credit import Exposure
from mandi_risk.domain.profile import PartnerProfile
from mandi_risk.service_layer.dependencies import LiveScore, RiskDependencies
from mandi_risk.service_layer.models import active_scorer
from mandi_risk.service_layer.unit_of_work import ProposalFacts, RiskUnitOfWork
from mandi_risk.service_layer.views import AssessmentView, assessment_view
from mandi_security import Principal

__all__ = ["assess", "assessment", "assessments"]


async def assess(
    deps: RiskDependencies,
    principal: Principal,
    proposal: Proposal,
    key: IdempotencyKey | None = None,
) -> Answer[AssessmentView]:
    """Assesses the proposal and keeps the assessment."""
    access.require(principal, access.ASSESS)
    async with deps.lookups(principal.tenant_id) as lookups:
        facts = await lookups.facts(proposal.buyer_id, proposal.seller_id)
        scorer = await active_scorer(lookups.models)
    remembered = facts.bureau
    fresh = remembered is not None and deps.clock.now() - remembered[1] < deps.bureau_fresh_for
    asked = None if fresh else await deps.bureau.live_score(proposal.buyer_id)

    async def work(uow: RiskUnitOfWork) -> AssessmentView:
        now = deps.clock.now()
        bureau = await _reading(uow, proposal.buyer_id, asked, remembered)
        situation = _situation(proposal, facts, bureau)
        features = features_of(proposal, situation, now)
        scored = scorer.score(features)
        verdict = decide(proposal, situation, features, scored, now)
        made = Assessment(
            uuid4(), proposal, features, scored, verdict, bureau, principal.principal_id, now
        )
        await uow.assessments.add(made)
        await uow.publish(_announcement(uow.tenant_id, made), subject=str(proposal.buyer_id))
        return assessment_view(made)

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=AssessmentView)


async def assessment(
    deps: RiskDependencies, principal: Principal, assessment_id: UUID
) -> AssessmentView:
    """One stored assessment."""
    access.require(principal, access.READ)
    async with deps.uow(principal.tenant_id) as uow:
        found = await uow.assessments.get(assessment_id)
    if found is None:
        raise NotFound("No such assessment.")
    return assessment_view(found)


async def assessments(
    deps: RiskDependencies,
    principal: Principal,
    *,
    buyer_id: UUID | None,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> tuple[list[AssessmentView], tuple[datetime, UUID] | None]:
    """A page of assessments, newest first, and where the next page starts."""
    access.require(principal, access.READ)
    async with deps.read_uow(principal.tenant_id) as uow:
        found = await uow.assessments.page(buyer_id=buyer_id, limit=limit + 1, after=after)
    following = found[limit - 1] if len(found) > limit else None
    views = [assessment_view(made) for made in found[:limit]]
    return views, (following.assessed_at, following.id) if following else None


async def _reading(
    uow: RiskUnitOfWork,
    buyer_id: UUID,
    asked: LiveScore | str | None,
    remembered: tuple[int, datetime] | None,
) -> BureauReading:
    """What the bureau factor rests on: the live answer, a fresh remembered score (`asked` is
    None: the bureau was not asked), or a remembered one standing in for a failed call."""
    if isinstance(asked, LiveScore):
        await uow.bureau_scores.remember(buyer_id, asked.score, asked.as_of)
        return BureauReading(asked.score, asked.as_of, live=True)
    if remembered is None:
        return BureauReading(None, why_not_live=asked or "not asked")
    score, as_of = remembered
    if asked is None:
        return BureauReading(score, as_of, fresh=True)
    return BureauReading(score, as_of, why_not_live=asked)


def _situation(proposal: Proposal, facts: ProposalFacts, bureau: BureauReading) -> Situation:
    buyer_id, seller_id = proposal.buyer_id, proposal.seller_id
    return Situation(
        buyer=facts.buyer or PartnerProfile(buyer_id),
        seller=facts.seller or PartnerProfile(seller_id),
        limit=facts.limit,
        exposure=facts.exposure or Exposure(buyer_id, proposal.value.currency),
        with_seller=facts.with_seller,
        bureau=bureau,
    )


def _announcement(tenant_id: UUID, made: Assessment) -> AssessmentMade:
    return AssessmentMade(
        tenant_id=tenant_id,
        assessment_id=made.id,
        buyer_id=made.proposal.buyer_id,
        seller_id=made.proposal.seller_id,
        commodity=made.proposal.commodity,
        value=made.proposal.value.amount,
        currency=made.proposal.value.currency,
        score=made.scored.score,
        decision=made.verdict.decision.value,
        model_name=made.scored.model.name,
        model_version=made.scored.model.version,
    )
