"""Use cases of the order book: a partner's availabilities and requirements, from draft to the
book and off it. Publishing needs an approved partner that is not suspended (the standing the
partners service's events built); each change of an offer on the book is announced."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from mandi_availability.domain import access
from mandi_availability.domain.catalog import Commodity
from mandi_availability.domain.offers import (
    Availability,
    DeliveryPlace,
    OfferKind,
    OfferStatus,
    OfferTerms,
    Requirement,
)
from mandi_availability.domain.quantities import Money
from mandi_availability.domain.standing import require_may_publish
from mandi_availability.service_layer.catalog import cached_commodity
from mandi_availability.service_layer.dependencies import AvailabilityDependencies
from mandi_availability.service_layer.unit_of_work import (
    AvailabilityUnitOfWork,
    Offer,
    OfferFilter,
    PageRequest,
)
from mandi_availability.service_layer.views import OfferView, offer_view
from mandi_contracts import (
    AvailabilityPublished,
    AvailabilityUpdated,
    AvailabilityWithdrawn,
    OfferTermsData,
    RequirementPosted,
    RequirementUpdated,
    RequirementWithdrawn,
)
from mandi_db import Answer, IdempotencyKey, idempotently
from mandi_errors import InvalidInput, NotFound, PreconditionFailed, PreconditionRequired
from mandi_messaging.registry import Event
from mandi_security import Principal

__all__ = [
    "OfferDraft",
    "change_offer",
    "create_offer",
    "get_offer",
    "list_offers",
    "publish_offer",
    "withdraw_offer",
]


@dataclass(frozen=True)
class OfferDraft:
    """An offer's terms as a client sends them: checked against the commodity when used."""

    commodity: str
    grade: str
    quality: dict[str, Decimal]
    quantity: Decimal
    unit: str
    minimum_lot: Decimal | None
    price: Money
    price_unit: str | None
    place: DeliveryPlace
    delivery_from: date
    delivery_to: date
    valid_until: datetime

    def terms_for(self, commodity: Commodity) -> OfferTerms:
        """The terms, in the commodity's base unit; InvalidInput for any rule they break."""
        return OfferTerms.checked(
            commodity,
            grade=self.grade,
            quality=dict(self.quality),
            quantity=self.quantity,
            unit=self.unit,
            minimum_lot=self.minimum_lot,
            price=self.price,
            price_unit=self.price_unit,
            place=self.place,
            delivery_from=self.delivery_from,
            delivery_to=self.delivery_to,
            valid_until=self.valid_until,
        )


# What a change does to a locked offer: the offer it becomes, and the event it announces.
Transition = Callable[
    [AvailabilityUnitOfWork, Offer, datetime], Awaitable[tuple[Offer, Event | None]]
]


async def create_offer(
    deps: AvailabilityDependencies,
    principal: Principal,
    kind: OfferKind,
    draft: OfferDraft,
    *,
    partner_id: UUID | None = None,
    key: IdempotencyKey | None = None,
) -> Answer[OfferView]:
    """A draft offer of the principal's partner (or of the one operator staff name)."""
    acting = access.acting_partner(principal, partner_id)

    async def work(uow: AvailabilityUnitOfWork) -> OfferView:
        terms = draft.terms_for(await cached_commodity(deps, uow, draft.commodity))
        now = deps.clock.now()
        made = Availability if kind is OfferKind.AVAILABILITY else Requirement
        offer = made(uuid4(), uow.tenant_id, acting, draft.commodity, terms, now, now)
        await uow.offers.add(offer)
        await uow.tenants.remember(uow.tenant_id)  # its sweeps now visit the tenant
        return offer_view(offer)

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=OfferView)


async def get_offer(
    deps: AvailabilityDependencies, principal: Principal, kind: OfferKind, offer_id: UUID
) -> OfferView:
    """One offer, if the principal may see it (an unseen one does not exist for it)."""
    principal.require_scope(access.READ)
    async with deps.lookups(principal.tenant_id) as lookups:
        offer = await lookups.offers.get(kind, offer_id)
    return offer_view(_seen(principal, kind, offer))


async def list_offers(
    deps: AvailabilityDependencies,
    principal: Principal,
    kind: OfferKind,
    criteria: OfferFilter,
    page: PageRequest,
) -> tuple[list[OfferView], tuple[datetime, UUID] | None]:
    """A page of offers (on the book unless asked otherwise) and where the next page starts.

    Offers off the book (drafts, withdrawn, expired) show only to their own partner's staff and
    to operator staff. Read from the replica when there is one: a moment stale is fine.
    """
    principal.require_scope(access.READ)
    if not principal.is_internal:
        criteria = replace(criteria, sees_every_partner=False, own_partner=principal.partner_id)
    async with deps.read_uow(principal.tenant_id) as uow:
        found = await uow.offers.page(kind, criteria, replace(page, limit=page.limit + 1))
    following = found[page.limit - 1] if len(found) > page.limit else None
    views = [offer_view(offer) for offer in found[: page.limit]]
    return views, (following.created_at, following.id) if following else None


async def publish_offer(
    deps: AvailabilityDependencies,
    principal: Principal,
    kind: OfferKind,
    offer_id: UUID,
    *,
    if_match: int | None = None,
    key: IdempotencyKey | None = None,
) -> Answer[OfferView]:
    """Puts a draft on the book, if its partner may publish."""

    async def publish(
        uow: AvailabilityUnitOfWork, offer: Offer, now: datetime
    ) -> tuple[Offer, Event]:
        require_may_publish(await uow.standings.get(offer.partner_id))
        published = offer.publish(now)
        return published, _announcement(published, AvailabilityPublished, RequirementPosted)

    return await _changed(deps, principal, kind, offer_id, publish, if_match=if_match, key=key)


async def withdraw_offer(
    deps: AvailabilityDependencies,
    principal: Principal,
    kind: OfferKind,
    offer_id: UUID,
    *,
    if_match: int | None = None,
    key: IdempotencyKey | None = None,
) -> Answer[OfferView]:
    """Takes an offer off the book (or discards a draft)."""

    async def withdraw(
        _uow: AvailabilityUnitOfWork, offer: Offer, now: datetime
    ) -> tuple[Offer, Event | None]:
        was_on_the_book = offer.on_the_book
        withdrawn = offer.withdraw(now)
        event = _notice(withdrawn, AvailabilityWithdrawn, RequirementWithdrawn)
        return withdrawn, event if was_on_the_book else None

    return await _changed(deps, principal, kind, offer_id, withdraw, if_match=if_match, key=key)


async def change_offer(
    deps: AvailabilityDependencies,
    principal: Principal,
    kind: OfferKind,
    offer_id: UUID,
    draft: OfferDraft,
    *,
    if_match: int | None,
    key: IdempotencyKey | None = None,
) -> Answer[OfferView]:
    """Replaces an offer's terms, naming the version read (If-Match)."""
    if if_match is None:
        raise PreconditionRequired("A change names the version it changes (If-Match).")

    async def change(
        uow: AvailabilityUnitOfWork, offer: Offer, now: datetime
    ) -> tuple[Offer, Event | None]:
        if draft.commodity != offer.commodity:
            raise InvalidInput("An offer's commodity does not change: withdraw it instead.")
        commodity = await cached_commodity(deps, uow, offer.commodity)
        changed = offer.change(draft.terms_for(commodity), now)
        if changed.status is OfferStatus.DRAFT:
            return changed, None
        return changed, _announcement(changed, AvailabilityUpdated, RequirementUpdated)

    return await _changed(deps, principal, kind, offer_id, change, if_match=if_match, key=key)


async def _changed(
    deps: AvailabilityDependencies,
    principal: Principal,
    kind: OfferKind,
    offer_id: UUID,
    transition: Transition,
    *,
    if_match: int | None,
    key: IdempotencyKey | None,
) -> Answer[OfferView]:
    async def work(uow: AvailabilityUnitOfWork) -> OfferView:
        offer = await _visible(uow, principal, kind, offer_id, for_update=True)
        access.acting_partner(principal, offer.partner_id)
        if if_match is not None and if_match != offer.version:
            raise PreconditionFailed(
                f"The offer is at version {offer.version}, not {if_match}: read it again."
            )
        changed, event = await transition(uow, offer, deps.clock.now())
        await uow.offers.save(changed)
        if event is not None:
            await uow.publish(event, subject=str(changed.id))
        return offer_view(changed)

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=OfferView)


async def _visible(
    uow: AvailabilityUnitOfWork,
    principal: Principal,
    kind: OfferKind,
    offer_id: UUID,
    *,
    for_update: bool = False,
) -> Offer:
    return _seen(principal, kind, await uow.offers.get(kind, offer_id, for_update=for_update))


def _seen(principal: Principal, kind: OfferKind, offer: Offer | None) -> Offer:
    """The offer, if the principal may see it; an unseen one does not exist for it."""
    if offer is None or not access.sees(principal, offer.partner_id, on_the_book=offer.on_the_book):
        raise NotFound(f"No such {kind.value}.")
    return offer


def _announcement(
    offer: Offer,
    of_availability: type[AvailabilityPublished | AvailabilityUpdated],
    of_requirement: type[RequirementPosted | RequirementUpdated],
) -> Event:
    terms = _terms_data(offer)
    if isinstance(offer, Availability):
        return of_availability(**_availability_ids(offer), terms=terms)
    return of_requirement(**_requirement_ids(offer), terms=terms)


def _notice(
    offer: Offer,
    of_availability: type[AvailabilityWithdrawn],
    of_requirement: type[RequirementWithdrawn],
) -> Event:
    if isinstance(offer, Availability):
        return of_availability(**_availability_ids(offer))
    return of_requirement(**_requirement_ids(offer))


def _availability_ids(offer: Offer) -> dict[str, object]:
    return {
        "tenant_id": offer.tenant_id,
        "availability_id": offer.id,
        "partner_id": offer.partner_id,
        "version": offer.version,
    }


def _requirement_ids(offer: Offer) -> dict[str, object]:
    return {
        "tenant_id": offer.tenant_id,
        "requirement_id": offer.id,
        "partner_id": offer.partner_id,
        "version": offer.version,
    }


def _terms_data(offer: Offer) -> OfferTermsData:
    terms, place = offer.terms, offer.terms.place
    return OfferTermsData(
        commodity=offer.commodity,
        grade=terms.grade,
        quality=dict(terms.quality),
        base_unit=terms.base_unit,
        quantity=terms.quantity,
        minimum_lot=terms.minimum_lot,
        price=terms.price.amount,
        currency=terms.price.currency,
        price_unit=terms.price_unit,
        latitude=place.latitude,
        longitude=place.longitude,
        state=place.state,
        city=place.city,
        delivery_from=terms.delivery_from,
        delivery_to=terms.delivery_to,
        valid_until=terms.valid_until,
    )
