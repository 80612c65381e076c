"""Proposals: each party lists and reads its own side's, and accepts or declines them.

Accepting starts the trade saga in the transaction that marks the proposal accepted, so a
proposal is accepted once and has one saga. With an `Idempotency-Key`, the saga's id is derived
from the key (and the caller and tenant): a request sent again replays the stored answer, and
even a second request racing the first collides on the saga's id instead of starting another.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from mandi_contracts import ProposalAccepted, ProposalDeclined
from mandi_db import Answer, IdempotencyKey, idempotently
from mandi_errors import Conflict, NotFound
from mandi_matching.domain import access
from mandi_matching.domain.offers import Availability, Requirement, Side
from mandi_matching.domain.proposals import Proposal, ProposalStatus
from mandi_matching.service_layer.dependencies import MatchingDependencies
from mandi_matching.service_layer.unit_of_work import MatchingUnitOfWork
from mandi_matching.service_layer.views import ProposalView, SagaView, proposal_view, saga_view
from mandi_security import Principal

__all__ = ["accept", "decline", "proposal", "proposals", "saga_id_for"]

_OPEN_AND_DONE = tuple(status.value for status in ProposalStatus)


async def proposals(
    deps: MatchingDependencies,
    principal: Principal,
    *,
    requirement_id: UUID | None,
    statuses: tuple[str, ...] | None,
    limit: int,
    after: tuple[Decimal, UUID] | None,
) -> tuple[list[ProposalView], tuple[Decimal, UUID] | None]:
    """The caller's proposals best first (a partner's own; the tenant's for operator staff),
    and the (score, id) to continue after when there may be more."""
    partner = access.own_partner(principal, access.READ)
    async with deps.read_uow(principal.tenant_id) as uow:
        found = await uow.proposals.page(
            partner_id=partner,
            side=None,
            requirement_id=requirement_id,
            statuses=statuses or _OPEN_AND_DONE,
            limit=limit + 1,
            after=after,
        )
    views = [proposal_view(each, each.side_of(partner) if partner else None) for each in found]
    following = (found[limit - 1].score, found[limit - 1].id) if len(found) > limit else None
    return views[:limit], following


async def proposal(
    deps: MatchingDependencies, principal: Principal, proposal_id: UUID
) -> ProposalView:
    """One proposal, from the caller's side."""
    async with deps.read_uow(principal.tenant_id) as uow:
        found = await uow.proposals.get(proposal_id)
    if found is None:
        raise NotFound("No such proposal.")
    side = access.side_of(principal, access.READ, found.buyer_id, found.seller_id)
    return proposal_view(found, side)


async def accept(
    deps: MatchingDependencies,
    principal: Principal,
    proposal_id: UUID,
    key: IdempotencyKey | None,
) -> Answer[SagaView]:
    """Accepts a proposal for a party: its trade saga starts; the saga's state."""
    saga_id = saga_id_for(principal.tenant_id, key) if key else uuid4()

    async def work(uow: MatchingUnitOfWork) -> SagaView:
        found, side = await _party_proposal(uow, principal, proposal_id)
        now = deps.clock.now()
        accepted = found.accept(saga_id, now)
        data = await _trade_terms(uow, found, deps, now)
        await uow.proposals.save(accepted)
        definition = deps.trade_sagas.trade
        saga = await deps.sagas.start(uow, definition, data, saga_id=saga_id)
        await uow.publish(
            ProposalAccepted(**_ids(found), saga_id=saga_id, side=side.value),
            subject=str(found.requirement_id),
        )
        return saga_view(saga, definition)

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=SagaView)


async def decline(
    deps: MatchingDependencies,
    principal: Principal,
    proposal_id: UUID,
    reason: str,
    key: IdempotencyKey | None,
) -> Answer[ProposalView]:
    """Declines a proposal for a party; it is not proposed again."""

    async def work(uow: MatchingUnitOfWork) -> ProposalView:
        found, side = await _party_proposal(uow, principal, proposal_id)
        declined = found.decline(reason, deps.clock.now())
        await uow.proposals.save(declined)
        await uow.publish(
            ProposalDeclined(**_ids(found), side=side.value, reason=reason),
            subject=str(found.requirement_id),
        )
        return proposal_view(declined, side if not principal.is_internal else None)

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=ProposalView)


def saga_id_for(tenant_id: UUID, key: IdempotencyKey) -> UUID:
    """The saga id an accept with this key starts: the same key, the same saga."""
    return uuid5(NAMESPACE_URL, f"mandi:trade-saga:{tenant_id}:{key.principal_id}:{key.key}")


async def _party_proposal(
    uow: MatchingUnitOfWork, principal: Principal, proposal_id: UUID
) -> tuple[Proposal, Side]:
    """The proposal, locked, and the side the caller acts for (operator staff: the buyer's)."""
    found = await uow.proposals.get(proposal_id, for_update=True)
    if found is None:
        raise NotFound("No such proposal.")
    side = access.side_of(principal, access.WRITE, found.buyer_id, found.seller_id)
    return found, side or Side.BUYER


async def _trade_terms(
    uow: MatchingUnitOfWork, found: Proposal, deps: MatchingDependencies, now: datetime
) -> dict[str, Any]:
    """What the trade saga is started with: the proposal's terms, where and when to deliver."""
    requirement = await uow.book.requirement(found.requirement_id)
    availability = await uow.book.availability(found.availability_id)
    if requirement is None or availability is None:
        raise Conflict("The proposal's requirement or availability has left the book.")
    return {
        **{key: str(value) for key, value in _ids(found).items()},
        "trade_id": str(uuid4()),
        "commodity": found.commodity,
        "grade": found.grade,
        "quantity": str(found.quantity),
        "base_unit": found.base_unit,
        "price": str(found.price),
        "currency": found.currency,
        "price_unit": found.price_unit,
        "value": str(found.value),
        **_delivery(requirement, availability),
        "reservation_deadline": (now + deps.trade_sagas.reservation_hold).isoformat(),
    }


def _delivery(requirement: Requirement, availability: Availability) -> dict[str, str]:
    """Delivered to the buyer's place, in the days both windows share."""
    buyer, seller = requirement.terms, availability.terms
    return {
        "delivery_from": max(buyer.delivery_from, seller.delivery_from).isoformat(),
        "delivery_to": min(buyer.delivery_to, seller.delivery_to).isoformat(),
        "delivery_city": buyer.place.city,
        "delivery_state": buyer.place.state,
    }


def _ids(proposal: Proposal) -> dict[str, Any]:
    return {
        "tenant_id": proposal.tenant_id,
        "proposal_id": proposal.id,
        "requirement_id": proposal.requirement_id,
        "availability_id": proposal.availability_id,
        "buyer_id": proposal.buyer_id,
        "seller_id": proposal.seller_id,
    }
