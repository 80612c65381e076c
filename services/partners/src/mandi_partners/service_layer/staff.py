"""A partner's staff: linked as auth announces its users, read by whoever may see the partner."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from mandi_contracts.auth import UserCreated
from mandi_errors import InvalidInput
from mandi_partners.domain import access
from mandi_partners.domain.staff import StaffMember
from mandi_partners.service_layer.dependencies import PartnersDependencies
from mandi_partners.service_layer.unit_of_work import PartnersUnitOfWork
from mandi_partners.service_layer.views import StaffView
from mandi_security.principal import Principal

__all__ = ["link_staff_user", "partner_staff"]


async def link_staff_user(uow: PartnersUnitOfWork, event: UserCreated, at: datetime) -> bool:
    """Links a user auth created for a partner; False for operator staff or a repeat.

    The event's tenant must be the envelope's (the unit of work's): an event that says
    otherwise is refused, never applied to either tenant.
    """
    if event.tenant_id != uow.tenant_id:
        raise InvalidInput("The event's tenant is not the tenant it was published for.")
    if event.partner_id is None:
        return False
    member = StaffMember(
        tenant_id=event.tenant_id,
        partner_id=event.partner_id,
        user_id=event.user_id,
        roles=tuple(sorted(event.roles)),
        linked_at=at,
    )
    return await uow.staff.link(member)


async def partner_staff(
    deps: PartnersDependencies, principal: Principal, partner_id: UUID
) -> list[StaffView]:
    """The users acting for a partner, for those who may see the partner."""
    access.require_visible(principal, partner_id)
    async with deps.read_uow(principal.tenant_id) as uow:
        members = await uow.staff.of_partner(partner_id)
    return [
        StaffView(user_id=m.user_id, roles=list(m.roles), linked_at=m.linked_at) for m in members
    ]
