"""Matching an offer: find its candidates on the book with indexed queries, gather what the
scorer may read of them, and have the decision orchestrator decide.

It runs in the consumer's transaction of the event that changed the book (a requirement posted,
an availability published or changed, quantity reserved or given back), so the read model, the
proposals and their events commit together, and a redelivered event decides nothing twice.

Matching of one commodity takes turns (a transaction lock per tenant and commodity, taken
before the candidates are read). Else a requirement and an availability arriving at once, on two
partitions, would each look for the other before either committed, and neither be proposed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from mandi_matching.domain.offers import (
    Availability,
    Candidate,
    CommodityFacts,
    Party,
    Requirement,
    RiskView,
)
from mandi_matching.domain.proposals import Proposal
from mandi_matching.service_layer.dependencies import MatchingDependencies
from mandi_matching.service_layer.unit_of_work import MatchingUnitOfWork
from mandi_rules import InsiderLinks

__all__ = ["match_availability", "match_offer", "match_requirement", "withdraw_proposals_of"]


async def match_requirement(
    deps: MatchingDependencies, uow: MatchingUnitOfWork, requirement_id: UUID, now: datetime
) -> list[Proposal]:
    """Decides the requirement's candidates again; the proposals made."""
    requirement = await uow.book.requirement(requirement_id)
    if requirement is None:
        return await _none(deps, uow, await uow.proposals.open_of_requirement(requirement_id), now)
    await uow.book.match_alone(requirement.terms.commodity)
    standing = await uow.proposals.open_of_requirement(requirement_id)
    near = await uow.book.availabilities_near(
        requirement, deps.radius_km, deps.candidates_per_offer, now
    )
    risk = await uow.risk.of_buyer(requirement.partner_id, {a.partner_id for a in near})
    parties = await _parties(uow, [requirement.partner_id, *(a.partner_id for a in near)])
    facts = await uow.catalog.commodity(requirement.terms.commodity)
    candidates = [
        _candidate(requirement, availability, parties, risk.get(availability.partner_id), facts)
        for availability in near
    ]
    return await deps.decisions.decide(uow, candidates, standing, now)


async def match_availability(
    deps: MatchingDependencies, uow: MatchingUnitOfWork, availability_id: UUID, now: datetime
) -> list[Proposal]:
    """Decides the availability's candidates again; the proposals made."""
    availability = await uow.book.availability(availability_id)
    if availability is None:
        standing = await uow.proposals.open_of_availability(availability_id)
        return await _none(deps, uow, standing, now)
    await uow.book.match_alone(availability.terms.commodity)
    standing = await uow.proposals.open_of_availability(availability_id)
    near = await uow.book.requirements_near(
        availability, deps.radius_km, deps.candidates_per_offer, now
    )
    risk = await uow.risk.of_seller(availability.partner_id, {r.partner_id for r in near})
    parties = await _parties(uow, [availability.partner_id, *(r.partner_id for r in near)])
    facts = await uow.catalog.commodity(availability.terms.commodity)
    candidates = [
        _candidate(requirement, availability, parties, risk.get(requirement.partner_id), facts)
        for requirement in near
    ]
    return await deps.decisions.decide(uow, candidates, standing, now)


async def match_offer(
    deps: MatchingDependencies, uow: MatchingUnitOfWork, offer_id: UUID, now: datetime
) -> list[Proposal]:
    """Decides an open offer's candidates again, whichever side it is."""
    if await uow.book.requirement(offer_id) is not None:
        return await match_requirement(deps, uow, offer_id, now)
    return await match_availability(deps, uow, offer_id, now)


async def withdraw_proposals_of(
    uow: MatchingUnitOfWork, offer_id: UUID, reason: str, now: datetime
) -> None:
    """Withdraws the open proposals of an offer that left the book."""
    standing = [
        *await uow.proposals.open_of_requirement(offer_id),
        *await uow.proposals.open_of_availability(offer_id),
    ]
    for proposal in standing:
        await uow.proposals.save(proposal.withdraw(reason, now))


async def _none(
    deps: MatchingDependencies,
    uow: MatchingUnitOfWork,
    standing: list[Proposal],
    now: datetime,
) -> list[Proposal]:
    """The offer is off the book: nothing is a candidate any more."""
    return await deps.decisions.decide(uow, [], standing, now)


async def _parties(uow: MatchingUnitOfWork, partner_ids: Iterable[UUID]) -> dict[UUID, Party]:
    wanted = set(partner_ids)
    known = await uow.partners.parties(wanted)
    # A partner matching has not heard of yet may not trade until it has: fail closed.
    return {partner_id: known.get(partner_id) or _unknown(partner_id) for partner_id in wanted}


def _unknown(partner_id: UUID) -> Party:
    links = InsiderLinks(partner_id, None, frozenset(), frozenset())
    return Party(partner_id, links, may_trade=False)


def _candidate(
    requirement: Requirement,
    availability: Availability,
    parties: dict[UUID, Party],
    risk: RiskView | None,
    facts: CommodityFacts | None,
) -> Candidate:
    seller = parties[availability.partner_id]
    return Candidate(
        requirement=requirement,
        availability=availability,
        buyer=parties[requirement.partner_id],
        seller=Party(seller.partner_id, seller.links, seller.may_trade, risk),
        quality_ranges=facts.quality_ranges if facts else {},
        price_unit_size=facts.unit_sizes.get(availability.terms.price_unit) if facts else None,
    )
