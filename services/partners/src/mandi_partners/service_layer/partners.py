"""Onboarding use cases: register, update, submit, decide; and reading partners.

Every change runs in one transaction with its events and, when the client sent an
Idempotency-Key, with the answer stored under that key: a retry gets the stored answer back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from mandi_contracts.partners import (
    MaskedTaxId,
    PartnerApproved,
    PartnerRegistered,
    PartnerReinstated,
    PartnerRejected,
    PartnerSubmitted,
    PartnerSuspended,
    PartnerUpdated,
)
from mandi_db import IdempotencyKey, idempotently
from mandi_errors import Conflict, NotFound, PreconditionFailed, PreconditionRequired
from mandi_messaging.registry import Event
from mandi_partners.domain import access
from mandi_partners.domain.partner import (
    Contact,
    Location,
    Partner,
    PartnerChanges,
    PartnerType,
)
from mandi_partners.domain.tax_ids import TaxId
from mandi_partners.service_layer.dependencies import PartnersDependencies
from mandi_partners.service_layer.unit_of_work import (
    PageRequest,
    PartnerFilter,
    PartnersUnitOfWork,
)
from mandi_partners.service_layer.views import PartnerView, partner_view, view_type
from mandi_rules import trade_block
from mandi_security.principal import Principal

__all__ = [
    "Decision",
    "Outcome",
    "RegisterPartner",
    "TradeCheck",
    "amend",
    "decide",
    "get_partner",
    "list_partners",
    "register",
    "trade_check",
]


@dataclass(frozen=True)
class RegisterPartner:
    """A company to onboard, as the operator's staff enter it."""

    legal_name: str
    country: str
    types: frozenset[PartnerType]
    trade_name: str | None = None
    tax_ids: tuple[TaxId, ...] = ()
    locations: tuple[Location, ...] = ()
    contacts: tuple[Contact, ...] = ()
    group_id: UUID | None = None


class Decision(StrEnum):
    """What a reviewer or the partner does with an application."""

    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    REVISE = "revise"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


@dataclass(frozen=True)
class Outcome:
    """The partner after a change, and whether this answer is a stored one replayed."""

    view: PartnerView
    replayed: bool = False


@dataclass(frozen=True)
class TradeCheck:
    """Whether two partners may trade with each other, and if not, why."""

    allowed: bool
    reason: str | None


Work = Callable[[PartnersUnitOfWork], Awaitable[PartnerView]]
_TAX_ID_TAKEN = "Another partner is registered with this tax id."


async def _idempotently(
    deps: PartnersDependencies, principal: Principal, key: IdempotencyKey | None, work: Work
) -> Outcome:
    transaction = deps.uow(principal.tenant_id)
    answer = await idempotently(transaction, key, work, answer_type=view_type(principal))
    return Outcome(answer.value, answer.replayed)


async def _locked(uow: PartnersUnitOfWork, partner_id: UUID, if_match: int | None) -> Partner:
    partner = await uow.partners.get(partner_id, for_update=True)
    if partner is None:
        raise NotFound("No such partner.")
    if if_match is not None and if_match != partner.version:
        raise PreconditionFailed(
            f"The partner changed since it was read: it is at version {partner.version}."
        )
    return partner


async def _refuse_taken_tax_ids(uow: PartnersUnitOfWork, partner: Partner) -> None:
    # The unique index is the last word (two registrations racing); this check says it first.
    if await uow.partners.held_elsewhere(partner.id, partner.tax_ids):
        raise Conflict(_TAX_ID_TAKEN)


async def _settle_tax_ids(uow: PartnersUnitOfWork, partner: Partner, principal: Principal) -> None:
    """Refuses a tax id another partner holds, or keeps it contested for a partner's own staff."""
    held = await uow.partners.held_elsewhere(partner.id, partner.tax_ids)
    if held and access.learns_who_holds_tax_ids(principal):
        raise Conflict(_TAX_ID_TAKEN)
    # The partner's staff are answered alike whether another company holds it or not;
    # reviewers see the contested tax id and settle it.
    partner.contest(held)


async def _save_new_tax_ids(
    uow: PartnersUnitOfWork, partner: Partner, principal: Principal
) -> None:
    await _settle_tax_ids(uow, partner, principal)
    try:
        await uow.partners.save(partner)
    except Conflict:
        # Another partner took one of them since the check (the unique index said so): for the
        # partner's own staff that is one more contested tax id, not an answer of its own.
        if access.learns_who_holds_tax_ids(principal):
            raise
        await _settle_tax_ids(uow, partner, principal)
        await uow.partners.save(partner)


def _links_event_fields(uow: PartnersUnitOfWork, partner: Partner) -> dict[str, object]:
    links = uow.partners.links_of(partner)
    return {
        "tenant_id": partner.tenant_id,
        "partner_id": partner.id,
        "version": partner.version,
        "group_id": links.group_id,
        "director_fingerprints": sorted(links.director_fingerprints),
        "contact_fingerprints": sorted(links.contact_fingerprints),
    }


async def register(
    deps: PartnersDependencies,
    principal: Principal,
    command: RegisterPartner,
    idempotency: IdempotencyKey | None = None,
) -> Outcome:
    """Registers a company; its application stays pending until it is submitted."""
    access.require_internal(principal, "register partners")
    now = deps.clock.now()
    partner = Partner(
        id=uuid4(),
        tenant_id=principal.tenant_id,
        **command.__dict__,
        created_at=now,
        updated_at=now,
    )

    async def work(uow: PartnersUnitOfWork) -> PartnerView:
        await _refuse_taken_tax_ids(uow, partner)
        await uow.tenants.remember(principal.tenant_id)
        await uow.partners.add(partner)
        event = PartnerRegistered(
            **_links_event_fields(uow, partner),
            partner_types=sorted(kind.value for kind in partner.types),
            country=partner.country,
            tax_ids=[
                MaskedTaxId(kind=tax_id.kind.value, country=tax_id.country, masked=tax_id.masked)
                for tax_id in partner.tax_ids
            ],
            registered_by=principal.principal_id,
        )
        await uow.publish(event, subject=str(partner.id))
        return partner_view(partner, principal)

    return await _idempotently(deps, principal, idempotency, work)


async def amend(
    deps: PartnersDependencies,
    principal: Principal,
    partner_id: UUID,
    changes: PartnerChanges,
    *,
    if_match: int | None,
    idempotency: IdempotencyKey | None = None,
) -> Outcome:
    """Updates a partner's details; the client names the version it read (If-Match)."""
    access.require_may_amend(principal, partner_id, changes)
    if if_match is None:
        raise PreconditionRequired("An update names the version it changes (If-Match).")

    async def work(uow: PartnersUnitOfWork) -> PartnerView:
        partner = await _locked(uow, partner_id, if_match)
        partner.amend(changes)
        partner.updated_at = deps.clock.now()
        if changes.tax_ids is None:
            await uow.partners.save(partner)
        else:
            await _save_new_tax_ids(uow, partner, principal)
        changed = [
            field.name for field in fields(changes) if getattr(changes, field.name) is not None
        ]
        event = PartnerUpdated(
            **_links_event_fields(uow, partner),
            changed_fields=changed,
            updated_by=principal.principal_id,
        )
        await uow.publish(event, subject=str(partner.id))
        return partner_view(partner, principal)

    return await _idempotently(deps, principal, idempotency, work)


def _apply(decision: Decision, partner: Partner, moment: datetime, note: str | None) -> None:
    if decision is Decision.SUBMIT:
        partner.submit()
    elif decision is Decision.APPROVE:
        partner.approve(moment, note)
    elif decision is Decision.REJECT:
        partner.reject(moment, note or "")
    elif decision is Decision.REVISE:
        partner.revise()
    elif decision is Decision.SUSPEND:
        partner.suspend(moment, note or "")
    else:
        partner.reinstate(moment, note or "")


async def _decision_event(
    uow: PartnersUnitOfWork, decision: Decision, partner: Partner, principal: Principal
) -> Event:
    ids = {"tenant_id": partner.tenant_id, "partner_id": partner.id, "version": partner.version}
    by = principal.principal_id
    if decision is Decision.REVISE:
        fields_of_links = _links_event_fields(uow, partner)
        return PartnerUpdated(**fields_of_links, changed_fields=["status"], updated_by=by)
    events: dict[Decision, Callable[[], Event]] = {
        Decision.SUBMIT: lambda: PartnerSubmitted(**ids, submitted_by=by),
        Decision.APPROVE: lambda: PartnerApproved(**ids, approved_by=by),
        Decision.REJECT: lambda: PartnerRejected(**ids, rejected_by=by),
        Decision.SUSPEND: lambda: PartnerSuspended(**ids, suspended_by=by),
        Decision.REINSTATE: lambda: PartnerReinstated(**ids, reinstated_by=by),
    }
    return events[decision]()


def _require_may_decide(principal: Principal, partner_id: UUID, decision: Decision) -> None:
    # A partner's own staff submit their application and revise a rejected one; the rest is
    # the reviewers'.
    if decision in (Decision.SUBMIT, Decision.REVISE):
        access.require_visible(principal, partner_id, scope=access.WRITE)
    else:
        access.require_internal(principal, "review and suspend partners")


async def decide(
    deps: PartnersDependencies,
    principal: Principal,
    partner_id: UUID,
    decision: Decision,
    note: str | None = None,
    *,
    if_match: int | None = None,
    idempotency: IdempotencyKey | None = None,
) -> Outcome:
    """Moves an application on; a submitted one is verified right after, in the background."""
    _require_may_decide(principal, partner_id, decision)

    async def work(uow: PartnersUnitOfWork) -> PartnerView:
        partner = await _locked(uow, partner_id, if_match)
        _apply(decision, partner, deps.clock.now(), note)
        partner.updated_at = deps.clock.now()
        await uow.partners.save(partner)
        event = await _decision_event(uow, decision, partner, principal)
        await uow.publish(event, subject=str(partner.id))
        return partner_view(partner, principal)

    outcome = await _idempotently(deps, principal, idempotency, work)
    if decision is Decision.SUBMIT and not outcome.replayed:
        deps.verifications.schedule(principal.tenant_id, partner_id)
    return outcome


async def get_partner(
    deps: PartnersDependencies, principal: Principal, partner_id: UUID
) -> PartnerView:
    """One partner, as the principal may see it."""
    access.require_visible(principal, partner_id)
    async with deps.lookups(principal.tenant_id) as lookups:
        partner = await lookups.partners.get(partner_id)
    if partner is None:
        raise NotFound("No such partner.")
    return partner_view(partner, principal)


async def list_partners(
    deps: PartnersDependencies,
    principal: Principal,
    criteria: PartnerFilter,
    page: PageRequest,
) -> tuple[list[PartnerView], tuple[datetime, UUID] | None]:
    """A page of partners and where the next one starts (None: this was the last)."""
    principal.require_scope(access.READ)
    if not principal.is_internal:
        criteria = PartnerFilter(**{**criteria.__dict__, "only_partner": principal.partner_id})
    limit = min(page.limit, deps.max_page_size)
    async with deps.read_uow(principal.tenant_id) as uow:  # a moment stale is fine for a list
        found = await uow.partners.page(criteria, PageRequest(limit + 1, page.after))
    shown = found[:limit]
    last = shown[-1] if len(found) > limit else None
    following = (last.created_at, last.id) if last and last.created_at else None
    return [partner_view(partner, principal) for partner in shown], following


async def trade_check(
    deps: PartnersDependencies, principal: Principal, first: UUID, second: UUID
) -> TradeCheck:
    """Whether two partners may trade (the insider-trading rule), for the operator's staff."""
    access.require_internal(principal, "check who may trade with whom", scope=access.READ)
    async with deps.uow(principal.tenant_id) as uow:
        links = [await uow.partners.insider_links(partner_id) for partner_id in (first, second)]
    if links[0] is None or links[1] is None:
        raise NotFound("No such partner.")
    block = trade_block(links[0], links[1])
    return TradeCheck(allowed=block is None, reason=block.reason if block else None)
