"""Matching's read models, kept from other services' events: the open book, partners, risk
assessments and the catalog. Matching never asks another service anything to decide.

Each offer and partner is stored as of its latest version, so a late or repeated event changes
nothing. When the book changes, the offer is matched again (see `matching`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from mandi_contracts import (
    AssessmentMade,
    AvailabilityPublished,
    AvailabilityUpdated,
    CatalogChanged,
    OfferTermsData,
    RequirementPosted,
    RequirementUpdated,
)
from mandi_matching.domain.offers import (
    Availability,
    CommodityFacts,
    Place,
    QualityRange,
    Requirement,
    RiskView,
    Terms,
)
from mandi_matching.service_layer import matching
from mandi_matching.service_layer.dependencies import MatchingDependencies
from mandi_matching.service_layer.unit_of_work import MatchingUnitOfWork
from mandi_rules import InsiderLinks

__all__ = [
    "close_offer",
    "record_assessment",
    "record_availability",
    "record_catalog",
    "record_free",
    "record_links",
    "record_requirement",
    "record_standing",
]


async def record_requirement(
    deps: MatchingDependencies,
    uow: MatchingUnitOfWork,
    event: RequirementPosted | RequirementUpdated,
    now: datetime,
) -> None:
    """A requirement on the book, or its new terms: matched again."""
    requirement = Requirement(
        event.requirement_id, event.partner_id, _terms(event.terms), event.version
    )
    if await uow.book.put_requirement(requirement, on_the_book=True):
        await uow.tenants.remember(uow.tenant_id)
        await matching.match_requirement(deps, uow, event.requirement_id, now)


async def record_availability(
    deps: MatchingDependencies,
    uow: MatchingUnitOfWork,
    event: AvailabilityPublished | AvailabilityUpdated,
    now: datetime,
) -> None:
    """An availability on the book, or its new terms (nothing is reserved of a changed one)."""
    terms = _terms(event.terms)
    availability = Availability(
        event.availability_id, event.partner_id, terms, terms.quantity, event.version
    )
    if await uow.book.put_availability(availability, on_the_book=True):
        await uow.tenants.remember(uow.tenant_id)
        await matching.match_availability(deps, uow, event.availability_id, now)


async def record_free(
    deps: MatchingDependencies,
    uow: MatchingUnitOfWork,
    *,
    availability_id: UUID,
    free: Decimal,
    version: int,
    now: datetime,
    grew: bool,
) -> None:
    """A trade reserved or gave back some of an availability: its proposals are decided again
    on what is free now. Less free can make no new candidate, so then only the proposals
    standing are (when it has any)."""
    if not await uow.book.set_free(availability_id, free, version):
        return
    if grew or await uow.proposals.open_of_availability(availability_id):
        await matching.match_availability(deps, uow, availability_id, now)


async def close_offer(
    uow: MatchingUnitOfWork, offer_id: UUID, version: int, reason: str, now: datetime
) -> None:
    """An offer left the book (withdrawn, expired, fulfilled): its open proposals go with it."""
    if await uow.book.close(offer_id, version):
        await matching.withdraw_proposals_of(uow, offer_id, reason, now)


async def record_links(uow: MatchingUnitOfWork, links: InsiderLinks, version: int) -> None:
    """A partner's group and people, for the insider-trading exclusion."""
    await uow.partners.put_links(links, version)


async def record_standing(
    deps: MatchingDependencies,
    uow: MatchingUnitOfWork,
    partner_id: UUID,
    *,
    may_trade: bool,
    version: int,
    now: datetime,
) -> None:
    """Whether a partner may trade: its open offers are matched again either way (approved,
    they may now be proposed; suspended, their proposals are withdrawn)."""
    if await uow.partners.put_standing(partner_id, may_trade=may_trade, version=version):
        for offer_id in await uow.book.open_offers_of(partner_id):
            await matching.match_offer(deps, uow, offer_id, now)


async def record_assessment(uow: MatchingUnitOfWork, event: AssessmentMade, at: datetime) -> None:
    """The latest assessment of a buyer with a seller, for the next decisions."""
    view = RiskView(score=event.score, decision=event.decision)
    await uow.risk.put(event.buyer_id, event.seller_id, view, at)


async def record_catalog(
    deps: MatchingDependencies, uow: MatchingUnitOfWork, event: CatalogChanged, now: datetime
) -> None:
    """A commodity's quality ranges, to measure how near two qualities are, and its units, to
    value a proposal. Its open requirements are matched again: what could not be valued or
    measured before (offers that arrived before the catalog did) may be now."""
    ranges = {name: QualityRange(low, high) for name, (low, high) in event.quality_ranges.items()}
    facts = CommodityFacts(quality_ranges=ranges, unit_sizes=dict(event.units))
    if await uow.catalog.put(event.commodity, event.version, facts):
        for requirement_id in await uow.book.open_requirements_of(event.commodity):
            await matching.match_requirement(deps, uow, requirement_id, now)


def _terms(data: OfferTermsData) -> Terms:
    return Terms(
        commodity=data.commodity,
        grade=data.grade,
        quality=dict(data.quality),
        base_unit=data.base_unit,
        quantity=data.quantity,
        minimum_lot=data.minimum_lot,
        price=data.price,
        currency=data.currency,
        price_unit=data.price_unit,
        place=Place(data.latitude, data.longitude, data.city, data.state),
        delivery_from=data.delivery_from,
        delivery_to=data.delivery_to,
        valid_until=data.valid_until,
    )
