"""Verifying submitted applications, and the background work that keeps data and keys tidy.

No transaction is held across the call to the verifier: the application is read, the verifier
asked, and the answer recorded in a second transaction, if the application still waits for it.
"""

from __future__ import annotations

import logging
from uuid import UUID

from mandi_contracts.partners import PartnerVerified
from mandi_errors import NotFound
from mandi_partners.domain import access
from mandi_partners.domain.partner import Partner, PartnerStatus, Verification
from mandi_partners.service_layer.dependencies import PartnersDependencies
from mandi_partners.service_layer.verification import VerificationAnswer, VerificationRequest
from mandi_partners.service_layer.views import PartnerView, partner_view
from mandi_security.principal import Principal

__all__ = [
    "purge_idempotency_keys",
    "reseal_all",
    "retry_waiting_verifications",
    "verify_now",
    "verify_partner",
]

_log = logging.getLogger(__name__)
_WAITING = (Verification.NOT_STARTED, Verification.PARKED)


def _waits(partner: Partner | None) -> bool:
    return (
        partner is not None
        and partner.status is PartnerStatus.UNDER_REVIEW
        and partner.verification in _WAITING
    )


async def verify_partner(deps: PartnersDependencies, tenant_id: UUID, partner_id: UUID) -> None:
    """Asks the verifier about a waiting application and records the answer.

    The application is claimed first (a lease, committed): while one process asks the verifier
    about it, no other does, whether its sweep or a request started it.
    """
    partner = await _claimed(deps, tenant_id, partner_id)
    if partner is None:
        return
    try:
        # While the verifier's circuit is open this answers PARKED at once, without calling it;
        # once the circuit's reset time has passed, one call tries the verifier again.
        request = VerificationRequest(
            partner.id, partner.legal_name, partner.country, partner.tax_ids
        )
        await _record(deps, tenant_id, partner_id, await deps.verifier.verify(request))
    finally:
        async with deps.uow(tenant_id) as uow:
            await uow.partners.release_verification(partner_id)
            await uow.commit()


async def _claimed(deps: PartnersDependencies, tenant_id: UUID, partner_id: UUID) -> Partner | None:
    async with deps.uow(tenant_id) as uow:
        partner = await uow.partners.get(partner_id)
        if partner is None or not _waits(partner):
            return None
        if not await uow.partners.claim_verification(partner_id, deps.verification_lease):
            return None  # another process is asking the verifier about it now
        await uow.commit()
    return partner


async def _record(
    deps: PartnersDependencies, tenant_id: UUID, partner_id: UUID, answer: VerificationAnswer
) -> None:
    async with deps.uow(tenant_id) as uow:
        partner = await uow.partners.get(partner_id, for_update=True)
        if partner is None or not _waits(partner):
            return  # decided or withdrawn meanwhile
        if partner.verification is answer.outcome:
            return  # parked again: nothing new to record
        partner.record_verification(answer.outcome, answer.note)
        partner.updated_at = deps.clock.now()
        await uow.partners.save(partner)
        event = PartnerVerified(
            tenant_id=tenant_id,
            partner_id=partner_id,
            version=partner.version,
            outcome=answer.outcome.value,
        )
        await uow.publish(event, subject=str(partner_id))
        await uow.commit()
    _log.info(
        "verification of partner %s: %s",
        partner_id,
        answer.outcome.value,
        extra={"partner_id": str(partner_id), "reference": answer.reference},
    )


async def verify_now(
    deps: PartnersDependencies, principal: Principal, partner_id: UUID
) -> PartnerView:
    """A reviewer's request to try the verifier again now, whatever its circuit says."""
    access.require_internal(principal, "retry verifications")
    async with deps.uow(principal.tenant_id) as uow:
        partner = await uow.partners.get(partner_id)
    if partner is None:
        raise NotFound("No such partner.")
    await verify_partner(deps, principal.tenant_id, partner_id)
    async with deps.uow(principal.tenant_id) as uow:
        refreshed = await uow.partners.get(partner_id)
    assert refreshed is not None  # noqa: S101 - partners are never deleted
    return partner_view(refreshed, principal)


async def _tenants(deps: PartnersDependencies) -> list[UUID]:
    async with deps.directory() as directory:
        return await directory.tenants.all()


async def retry_waiting_verifications(deps: PartnersDependencies) -> int:
    """Verifies applications that wait (parked, or never verified after a restart)."""
    attempted = 0
    for tenant_id in await _tenants(deps):
        async with deps.uow(tenant_id) as uow:
            waiting = await uow.partners.awaiting_verification(deps.sweep_batch_size)
        for partner_id in waiting:
            await verify_partner(deps, tenant_id, partner_id)
            attempted += 1
    return attempted


async def reseal_all(deps: PartnersDependencies, batch_size: int) -> int:
    """Re-encrypts, tenant by tenant, every value sealed with an older key or format.

    Tax ids, contacts and stored idempotent answers; each batch is a transaction of its own.
    """
    total = 0
    for tenant_id in await _tenants(deps):
        while True:
            async with deps.uow(tenant_id) as uow:
                done = await uow.partners.reseal(batch_size)
                await uow.commit()
            total += done
            if done < batch_size:
                break
    return total


async def purge_idempotency_keys(deps: PartnersDependencies) -> int:
    """Deletes the stored answers of expired Idempotency-Keys, tenant by tenant."""
    total = 0
    for tenant_id in await _tenants(deps):
        async with deps.uow(tenant_id) as uow:
            total += await uow.idempotency.purge_expired()
            await uow.commit()
    return total
