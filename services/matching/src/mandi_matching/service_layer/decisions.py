"""The decision orchestrator: the one way a match is decided, recorded and proposed.

It asks the active scorer (by name and version) about every candidate, keeps each proposal with
the inputs, the breakdown, the rationale and the scorer's version it was decided on, and tells
the world through the outbox. Callers never pick or call a scorer themselves, so a learned
scorer replaces the heuristic one by activating it here.

Matching an offer again decides all its candidates again: a proposal whose decision still
stands is left as it is; one whose decision changed is withdrawn and a new one made; one whose
pair is excluded now, or no longer a candidate, is withdrawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID, uuid4

from prometheus_client import Counter

from mandi_contracts import MatchProposed
from mandi_matching.domain.decisions import Decision, ScorerCatalog, decide, rank
from mandi_matching.domain.offers import Candidate
from mandi_matching.domain.proposals import FactorPoints, Proposal
from mandi_matching.domain.scoring import Excluded, ScorerRef
from mandi_matching.service_layer.unit_of_work import MatchingUnitOfWork
from mandi_observability import get_logger

__all__ = ["DecisionOrchestrator"]

_log = get_logger("mandi.matching.decisions")
MATCH_DECISIONS = Counter(
    "mandi_matching_decisions_total",
    "Candidates decided, by outcome: proposed, or the rule that excluded them.",
    ["outcome"],
)
Pair = tuple[UUID, UUID]  # requirement id, availability id


class DecisionOrchestrator:
    """Decides candidates with the active scorer, and keeps the proposals in step."""

    def __init__(self, scorers: ScorerCatalog) -> None:
        self._scorers = scorers

    @property
    def active(self) -> ScorerRef:
        """The name and version of the scorer that decides."""
        return self._scorers.active().ref

    async def decide(
        self,
        uow: MatchingUnitOfWork,
        candidates: Iterable[Candidate],
        standing: Iterable[Proposal],
        now: datetime,
    ) -> list[Proposal]:
        """Decides every candidate, and brings `standing` (the open proposals of the offer
        matched) in step with the decisions; the proposals made."""
        decisions, excluded = self._decisions(candidates, now)
        kept: dict[Pair, Proposal] = {}
        made: list[Proposal] = []
        for proposal in standing:
            decision = decisions.get((proposal.requirement_id, proposal.availability_id))
            if decision is not None and _same(proposal, decision):
                kept[proposal.requirement_id, proposal.availability_id] = proposal
                continue
            pair = (proposal.requirement_id, proposal.availability_id)
            await uow.proposals.save(proposal.withdraw(excluded.get(pair, "decided again"), now))
        for decision in rank(decisions.values()):
            if (decision.requirement_id, decision.availability_id) not in kept:
                made.append(await self._propose(uow, decision, now))  # noqa: PERF401 (awaits)
        return made

    def _decisions(
        self, candidates: Iterable[Candidate], now: datetime
    ) -> tuple[dict[Pair, Decision], dict[Pair, str]]:
        scorer = self._scorers.active()
        decisions: dict[Pair, Decision] = {}
        excluded: dict[Pair, str] = {}
        for candidate in candidates:
            pair = (candidate.requirement.id, candidate.availability.id)
            outcome = decide(scorer, candidate, now)
            if isinstance(outcome, Excluded):
                excluded[pair] = outcome.reason
                MATCH_DECISIONS.labels(outcome=outcome.rule).inc()
                _log.debug("candidate excluded", rule=outcome.rule, reason=outcome.reason)
            else:
                decisions[pair] = outcome
                MATCH_DECISIONS.labels(outcome="proposed").inc()
        return decisions, excluded

    async def _propose(
        self, uow: MatchingUnitOfWork, decision: Decision, now: datetime
    ) -> Proposal:
        proposal = _proposal(uow.tenant_id, decision, now)
        await uow.proposals.add(proposal)
        await uow.publish(
            MatchProposed(
                tenant_id=proposal.tenant_id,
                proposal_id=proposal.id,
                requirement_id=proposal.requirement_id,
                availability_id=proposal.availability_id,
                buyer_id=proposal.buyer_id,
                seller_id=proposal.seller_id,
                commodity=proposal.commodity,
                grade=proposal.grade,
                quantity=proposal.quantity,
                base_unit=proposal.base_unit,
                price=proposal.price,
                currency=proposal.currency,
                score=proposal.score,
                scorer=proposal.scorer_name,
                scorer_version=proposal.scorer_version,
            ),
            subject=str(proposal.requirement_id),
        )
        return proposal


def _same(proposal: Proposal, decision: Decision) -> bool:
    """Whether a standing proposal says what the new decision would."""
    return (
        proposal.score == decision.score
        and proposal.quantity == decision.quantity
        and proposal.price == decision.price
        and (proposal.scorer_name, proposal.scorer_version)
        == (decision.scorer.name, decision.scorer.version)
    )


def _proposal(tenant_id: UUID, decision: Decision, now: datetime) -> Proposal:
    return Proposal(
        id=uuid4(),
        tenant_id=tenant_id,
        requirement_id=decision.requirement_id,
        availability_id=decision.availability_id,
        buyer_id=decision.buyer_id,
        seller_id=decision.seller_id,
        commodity=decision.commodity,
        grade=decision.grade,
        quantity=decision.quantity,
        base_unit=decision.base_unit,
        price=decision.price,
        currency=decision.currency,
        price_unit=decision.price_unit,
        value=decision.value,
        score=decision.score,
        scorer_name=decision.scorer.name,
        scorer_version=decision.scorer.version,
        breakdown=tuple(
            FactorPoints(factor.name, factor.points, factor.maximum, factor.rationale)
            for factor in decision.breakdown
        ),
        rationale=decision.rationale,
        inputs=decision.inputs,
        created_at=now,
        updated_at=now,
    )
