"""Matching on the real PostgreSQL: events build the read model, a new requirement or
availability is matched at once through the decision orchestrator, and each party sees only
its own side."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from mandi_contracts import AvailabilityReleased, AvailabilityReserved
from mandi_errors import NotFound
from mandi_matching.service_layer import proposals, read_models
from mandi_messaging import events_topic

pytestmark = pytest.mark.integration


async def _listed(service: Any, principal: Any) -> list[Any]:
    views, _ = await proposals.proposals(
        service.deps, principal, requirement_id=None, statuses=None, limit=50, after=None
    )
    return views


async def test_a_requirement_is_proposed_the_availability_near_it_with_its_breakdown(
    service: Any, book: Any, outbox_events: Any
) -> None:
    await book.catalog()
    seller, buyer = await book.partner(), await book.partner()
    availability = await book.availability(seller, place=book.PUNE)
    requirement = await book.requirement(buyer)

    [proposal] = await _listed(service, book.operator())
    assert (proposal.requirement_id, proposal.availability_id) == (requirement, availability)
    assert (proposal.buyer_id, proposal.seller_id, proposal.status) == (buyer, seller, "open")
    assert proposal.quantity == Decimal(10000)
    assert proposal.value == Decimal(620000)  # 100 quintals at 6,200 INR
    assert sum(factor.points for factor in proposal.breakdown) == proposal.score
    assert (proposal.scorer, proposal.scorer_version) == ("heuristic", 1)
    assert proposal.inputs is not None
    [event] = await outbox_events(book.tenant, "mandi.match.proposed")
    assert (event["proposal_id"], event["score"]) == (str(proposal.id), str(proposal.score))


async def test_each_party_sees_its_own_side_and_the_other_stays_masked(
    service: Any, book: Any
) -> None:
    await book.catalog()
    seller, buyer, stranger = await book.partner(), await book.partner(), await book.partner()
    availability = await book.availability(seller)
    requirement = await book.requirement(buyer)

    [as_buyer] = await _listed(service, book.staff(buyer))
    assert (as_buyer.side, as_buyer.requirement_id, as_buyer.buyer_id) == (
        "buyer",
        requirement,
        buyer,
    )
    assert (as_buyer.availability_id, as_buyer.seller_id, as_buyer.inputs) == (None, None, None)
    [as_seller] = await _listed(service, book.staff(seller))
    assert (as_seller.availability_id, as_seller.seller_id) == (availability, seller)
    assert (as_seller.requirement_id, as_seller.buyer_id) == (None, None)

    assert await _listed(service, book.staff(stranger)) == []
    with pytest.raises(NotFound):
        await proposals.proposal(service.deps, book.staff(stranger), as_buyer.id)


async def test_a_buyer_never_sees_another_buyers_proposals(service: Any, book: Any) -> None:
    await book.catalog()
    seller, first, second = await book.partner(), await book.partner(), await book.partner()
    await book.availability(seller)
    await book.requirement(first)
    await book.requirement(second)

    seen_by_first = await _listed(service, book.staff(first))
    seen_by_second = await _listed(service, book.staff(second))
    assert len(seen_by_first) == len(seen_by_second) == 1
    assert seen_by_first[0].id != seen_by_second[0].id
    assert {view.buyer_id for view in seen_by_first} == {first}
    assert len(await _listed(service, book.staff(seller))) == 2


async def test_insiders_are_never_proposed_to_each_other(service: Any, book: Any) -> None:
    await book.catalog()
    group = book.tenant  # any id: both partners belong to one group
    seller, buyer = await book.partner(group=group), await book.partner(group=group)
    director = await book.partner(directors=("fp-director-1",))
    same_director = await book.partner(directors=("fp-director-1",))
    await book.availability(seller)
    await book.availability(director)
    await book.requirement(buyer)
    await book.requirement(same_director)

    assert await _listed(service, book.operator()) != []  # the unrelated pairs are proposed
    pairs = {(view.buyer_id, view.seller_id) for view in await _listed(service, book.operator())}
    assert (buyer, seller) not in pairs
    assert (same_director, director) not in pairs
    assert pairs == {(buyer, director), (same_director, seller)}


async def test_an_availability_beyond_the_radius_is_no_candidate(service: Any, book: Any) -> None:
    await book.catalog()
    seller, buyer = await book.partner(), await book.partner()
    await book.availability(seller, place=book.DELHI)  # about 1,150 km from Mumbai
    await book.requirement(buyer)

    assert await _listed(service, book.operator()) == []


async def test_an_availability_published_later_is_proposed_to_the_waiting_requirement(
    service: Any, book: Any
) -> None:
    await book.catalog()
    seller, buyer = await book.partner(), await book.partner()
    requirement = await book.requirement(buyer)
    assert await _listed(service, book.operator()) == []

    availability = await book.availability(seller)

    [proposal] = await _listed(service, book.operator())
    assert (proposal.requirement_id, proposal.availability_id) == (requirement, availability)


async def test_a_requirement_and_an_availability_arriving_at_once_are_still_proposed(
    service: Any, book: Any
) -> None:
    await book.catalog()
    pairs = [(await book.partner(), await book.partner()) for _ in range(12)]
    deps, now = service.deps, service.deps.clock.now()

    async def told(event: Any, record: Any) -> None:
        async with deps.uow(book.tenant) as uow:
            await record(deps, uow, event, now)
            await uow.commit()

    arriving = []
    for index, (seller, buyer) in enumerate(pairs):
        place = (-60.0 + 10 * index, 75.0)  # 1,100 km apart: no pair meets another
        arriving += [
            told(book.published(seller, place=place), read_models.record_availability),
            told(book.posted(buyer, place=place), read_models.record_requirement),
        ]
    await asyncio.gather(*arriving)  # each pair's two transactions overlap

    proposed = {(view.buyer_id, view.seller_id) for view in await _listed(service, book.operator())}
    assert proposed == {(buyer, seller) for seller, buyer in pairs}


async def test_reserved_quantity_withdraws_what_no_longer_fits_and_released_proposes_again(
    service: Any, book: Any
) -> None:
    await book.catalog()
    seller, first, second = await book.partner(), await book.partner(), await book.partner()
    availability = await book.availability(seller)
    await book.requirement(first)
    await book.requirement(second)
    assert len(await _open(service, book)) == 2
    ids = {"tenant_id": book.tenant, "availability_id": availability, "partner_id": seller}
    saga, whole = uuid4(), Decimal(10000)

    taken = AvailabilityReserved(
        **ids, version=3, saga_id=saga, quantity=whole, reserved=whole, free=Decimal(0)
    )
    await book.send(taken, events_topic("availability"), availability)
    assert await _open(service, book) == []

    given_back = AvailabilityReleased(
        **ids, version=4, saga_id=saga, quantity=whole, reserved=Decimal(0), free=whole
    )
    await book.send(given_back, events_topic("availability"), availability)
    assert {view.buyer_id for view in await _open(service, book)} == {first, second}


async def _open(service: Any, book: Any) -> list[Any]:
    views, _ = await proposals.proposals(
        service.deps, book.operator(), requirement_id=None, statuses=("open",), limit=50, after=None
    )
    return views


async def test_offers_that_arrived_before_their_catalog_are_proposed_once_it_arrives(
    service: Any, book: Any
) -> None:
    seller, buyer = await book.partner(), await book.partner()
    await book.availability(seller)
    requirement = await book.requirement(buyer)
    assert await _listed(service, book.operator()) == []  # priced per quintal: unknown yet

    await book.catalog()

    [proposal] = await _listed(service, book.operator())
    assert (proposal.requirement_id, proposal.value) == (requirement, Decimal(620000))
