"""The partners' standing, kept from the partners service's events (the typed consumers)."""

from __future__ import annotations

from uuid import UUID

from mandi_availability.domain.standing import PartnerStanding, Standing
from mandi_availability.service_layer.unit_of_work import AvailabilityUnitOfWork
from mandi_errors import InvalidInput

__all__ = ["record_standing"]


async def record_standing(
    uow: AvailabilityUnitOfWork,
    *,
    tenant_id: UUID,
    partner_id: UUID,
    standing: Standing,
    version: int,
) -> bool:
    """Records what an event says of a partner, unless a newer event said more; whether it did.

    The event's tenant must be the envelope's (the unit of work's): one that says otherwise is
    refused, never applied to either tenant.
    """
    if tenant_id != uow.tenant_id:
        raise InvalidInput("The event's tenant is not the tenant it was published for.")
    known = await uow.standings.get(partner_id)
    if known is not None and not known.superseded_by(version):
        return False
    await uow.standings.put(PartnerStanding(partner_id, standing, version))
    return True
