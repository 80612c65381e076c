"""The events matching takes from other services, and the replies to its sagas, each handled by
a plain typed function.

The runtime runs the group inside `serve` or in `python -m mandi_matching consume`; a handler
gets the unit of work of the event's tenant (it commits with the inbox claim, never here).
"""

from __future__ import annotations

from uuid import UUID

from mandi_contracts import (
    EVENTS,
    AssessmentMade,
    AvailabilityExpired,
    AvailabilityPublished,
    AvailabilityReleased,
    AvailabilityReserved,
    AvailabilityUpdated,
    AvailabilityWithdrawn,
    CatalogChanged,
    CreditRefused,
    CreditReleased,
    CreditReserved,
    PartnerApproved,
    PartnerRegistered,
    PartnerReinstated,
    PartnerRejected,
    PartnerSuspended,
    PartnerUpdated,
    QuantityReleased,
    QuantityReserved,
    RequirementExpired,
    RequirementFulfilled,
    RequirementPosted,
    RequirementUpdated,
    RequirementWithdrawn,
    ReservationConfirmed,
    ReservationRefused,
)
from mandi_matching.service_layer import read_models
from mandi_matching.service_layer.dependencies import MatchingDependencies
from mandi_matching.service_layer.unit_of_work import MatchingUnitOfWork
from mandi_messaging import Consumers, Envelope, events_topic, replies_topic
from mandi_rules import InsiderLinks

__all__ = ["consumers"]

consumers = Consumers(
    group="matching",
    topics=[
        events_topic("availability"),
        events_topic("partners"),
        events_topic("risk"),
        replies_topic("availability"),
        replies_topic("risk"),
    ],
    registry=EVENTS,
)

_Requirement = RequirementPosted | RequirementUpdated
_Availability = AvailabilityPublished | AvailabilityUpdated
_Quantity = AvailabilityReserved | AvailabilityReleased
_Closed = AvailabilityWithdrawn | AvailabilityExpired
_RequirementClosed = RequirementWithdrawn | RequirementExpired | RequirementFulfilled
_Standing = PartnerApproved | PartnerReinstated | PartnerRejected | PartnerSuspended
_Linked = PartnerRegistered | PartnerUpdated
_Reply = (
    QuantityReserved
    | ReservationRefused
    | ReservationConfirmed
    | QuantityReleased
    | CreditReserved
    | CreditRefused
    | CreditReleased
)


@consumers.on(RequirementPosted)
async def on_requirement_posted(
    event: RequirementPosted, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """A buyer's requirement on the book: matched at once."""
    await _requirement(event, uow, deps)


@consumers.on(RequirementUpdated)
async def on_requirement_updated(
    event: RequirementUpdated, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """A requirement's new terms: matched again."""
    await _requirement(event, uow, deps)


@consumers.on(AvailabilityPublished)
async def on_availability_published(
    event: AvailabilityPublished, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """A seller's availability on the book: matched at once."""
    await _availability(event, uow, deps)


@consumers.on(AvailabilityUpdated)
async def on_availability_updated(
    event: AvailabilityUpdated, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """An availability's new terms: matched again."""
    await _availability(event, uow, deps)


@consumers.on(AvailabilityReserved)
async def on_availability_reserved(
    event: AvailabilityReserved, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """Less is free of an availability: its proposals are decided again."""
    await _quantity(event, uow, deps)


@consumers.on(AvailabilityReleased)
async def on_availability_released(
    event: AvailabilityReleased, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """More is free of an availability again: it is matched again."""
    await _quantity(event, uow, deps)


@consumers.on(AvailabilityWithdrawn)
async def on_availability_withdrawn(
    event: AvailabilityWithdrawn, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """The seller took the availability off the book."""
    await _closed(event, event.availability_id, uow, deps, "The availability was withdrawn.")


@consumers.on(AvailabilityExpired)
async def on_availability_expired(
    event: AvailabilityExpired, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """The availability's validity ended."""
    await _closed(event, event.availability_id, uow, deps, "The availability expired.")


@consumers.on(RequirementWithdrawn)
async def on_requirement_withdrawn(
    event: RequirementWithdrawn, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """The buyer took the requirement off the book."""
    await _closed(event, event.requirement_id, uow, deps, "The requirement was withdrawn.")


@consumers.on(RequirementExpired)
async def on_requirement_expired(
    event: RequirementExpired, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """The requirement's validity ended."""
    await _closed(event, event.requirement_id, uow, deps, "The requirement expired.")


@consumers.on(RequirementFulfilled)
async def on_requirement_fulfilled(
    event: RequirementFulfilled, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """A trade met the requirement."""
    await _closed(event, event.requirement_id, uow, deps, "The requirement was fulfilled.")


@consumers.on(CatalogChanged)
async def on_catalog_changed(
    event: CatalogChanged, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """A commodity's quality ranges and units: its open requirements are matched again."""
    await read_models.record_catalog(deps, uow, event, deps.clock.now())


@consumers.on(PartnerRegistered)
async def on_partner_registered(event: PartnerRegistered, uow: MatchingUnitOfWork) -> None:
    """A new partner: its group and people, for the insider-trading exclusion."""
    await _links(event, uow)


@consumers.on(PartnerUpdated)
async def on_partner_updated(event: PartnerUpdated, uow: MatchingUnitOfWork) -> None:
    """A partner's group or people changed."""
    await _links(event, uow)


@consumers.on(PartnerApproved)
async def on_partner_approved(
    event: PartnerApproved, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """An approved partner may trade."""
    await _standing(event, uow, deps, may_trade=True)


@consumers.on(PartnerReinstated)
async def on_partner_reinstated(
    event: PartnerReinstated,
    uow: MatchingUnitOfWork,
    deps: MatchingDependencies,
) -> None:
    """A reinstated partner may trade again."""
    await _standing(event, uow, deps, may_trade=True)


@consumers.on(PartnerSuspended)
async def on_partner_suspended(
    event: PartnerSuspended,
    uow: MatchingUnitOfWork,
    deps: MatchingDependencies,
) -> None:
    """A suspended partner may not trade: its proposals are withdrawn."""
    await _standing(event, uow, deps, may_trade=False)


@consumers.on(PartnerRejected)
async def on_partner_rejected(
    event: PartnerRejected, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """A rejected application may not trade."""
    await _standing(event, uow, deps, may_trade=False)


@consumers.on(AssessmentMade)
async def on_assessment_made(
    event: AssessmentMade, uow: MatchingUnitOfWork, envelope: Envelope
) -> None:
    """The latest risk assessment of a buyer with a seller."""
    await read_models.record_assessment(uow, event, envelope.time)


@consumers.on(QuantityReserved)
async def on_quantity_reserved(
    reply: QuantityReserved, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """Availability reserved a trade saga's quantity."""
    await _reply(reply, uow, deps)


@consumers.on(ReservationRefused)
async def on_reservation_refused(
    reply: ReservationRefused, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """Availability refused to reserve, or to confirm, a trade saga's quantity."""
    await _reply(reply, uow, deps)


@consumers.on(ReservationConfirmed)
async def on_reservation_confirmed(
    reply: ReservationConfirmed, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """The reserved quantity is the trade's."""
    await _reply(reply, uow, deps)


@consumers.on(QuantityReleased)
async def on_quantity_released(
    reply: QuantityReleased, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """Availability gave back a saga's quantity."""
    await _reply(reply, uow, deps)


@consumers.on(CreditReserved)
async def on_credit_reserved(
    reply: CreditReserved, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """Risk reserved the trade's value against the buyer's credit."""
    await _reply(reply, uow, deps)


@consumers.on(CreditRefused)
async def on_credit_refused(
    reply: CreditRefused, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """Risk refused the trade's value."""
    await _reply(reply, uow, deps)


@consumers.on(CreditReleased)
async def on_credit_released(
    reply: CreditReleased, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    """Risk gave back a saga's credit."""
    await _reply(reply, uow, deps)


async def _requirement(
    event: _Requirement, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    await read_models.record_requirement(deps, uow, event, deps.clock.now())


async def _availability(
    event: _Availability, uow: MatchingUnitOfWork, deps: MatchingDependencies
) -> None:
    await read_models.record_availability(deps, uow, event, deps.clock.now())


async def _quantity(event: _Quantity, uow: MatchingUnitOfWork, deps: MatchingDependencies) -> None:
    now = deps.clock.now()
    await read_models.record_free(
        deps,
        uow,
        availability_id=event.availability_id,
        free=event.free,
        version=event.version,
        now=now,
        grew=isinstance(event, AvailabilityReleased),
    )


async def _closed(
    event: _Closed | _RequirementClosed,
    offer_id: UUID,
    uow: MatchingUnitOfWork,
    deps: MatchingDependencies,
    reason: str,
) -> None:
    await read_models.close_offer(uow, offer_id, event.version, reason, deps.clock.now())


async def _links(event: _Linked, uow: MatchingUnitOfWork) -> None:
    links = InsiderLinks(
        event.partner_id,
        event.group_id,
        frozenset(event.director_fingerprints),
        frozenset(event.contact_fingerprints),
    )
    await read_models.record_links(uow, links, event.version)


async def _standing(
    event: _Standing,
    uow: MatchingUnitOfWork,
    deps: MatchingDependencies,
    *,
    may_trade: bool,
) -> None:
    await read_models.record_standing(
        deps,
        uow,
        event.partner_id,
        may_trade=may_trade,
        version=event.version,
        now=deps.clock.now(),
    )


async def _reply(reply: _Reply, uow: MatchingUnitOfWork, deps: MatchingDependencies) -> None:
    await deps.sagas.on_reply(uow, reply)
