"""On the real PostgreSQL: one process at a time asks the verifier about an application."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from mandi_partners.adapters.verifications import InProcessVerifications
from mandi_partners.config import Settings
from mandi_partners.entrypoints.service import DEFINITION, PartnersRunning
from mandi_partners.service_layer import partners
from mandi_runtime import running
from mandi_security.principal import Principal, PrincipalType

pytestmark = pytest.mark.integration


async def test_a_claimed_application_is_neither_claimed_again_nor_swept_until_released(
    settings: Settings, new_registration
) -> None:
    staff = Principal(uuid4(), "reviewer-1", PrincipalType.INTERNAL, None, frozenset({"*"}))
    async with running(DEFINITION, settings, background=False) as service:
        registered = await partners.register(service.deps, staff, new_registration())
        partner_id = registered.view.id
        await partners.decide(service.deps, staff, partner_id, partners.Decision.SUBMIT)
        await _drained(service)  # its first try (the verifier is away: parked)
        lease = timedelta(minutes=1)
        async with service.deps.uow(staff.tenant_id) as uow:
            assert await uow.partners.awaiting_verification(10) == [partner_id]
            assert await uow.partners.claim_verification(partner_id, lease)
            await uow.commit()
        async with service.deps.uow(staff.tenant_id) as uow:  # another process, meanwhile
            assert not await uow.partners.claim_verification(partner_id, lease)
            assert await uow.partners.awaiting_verification(10) == []
            await uow.partners.release_verification(partner_id)
            await uow.commit()
        async with service.deps.uow(staff.tenant_id) as uow:
            assert await uow.partners.claim_verification(partner_id, timedelta(0))
            await uow.commit()
        async with service.deps.uow(staff.tenant_id) as uow:  # a lease that ran out is free
            assert await uow.partners.claim_verification(partner_id, lease)


async def _drained(service: PartnersRunning) -> None:
    verifications = service.deps.verifications
    assert isinstance(verifications, InProcessVerifications)
    await verifications.drain()
