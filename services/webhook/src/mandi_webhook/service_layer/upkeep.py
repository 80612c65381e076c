"""The leader's periodic work: re-encrypting secrets under the newest field key, and deleting
expired idempotent answers (they hold the secrets they showed, sealed).

Rotating `field_keys`: append the new key to the setting and restart, let `reseal_all` run (the
background job, or `python -m mandi_webhook reseal`), wait out the idempotency retention, then
remove the old key.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from mandi_webhook.service_layer.dependencies import WebhookDependencies

__all__ = ["purge_ended_deliveries", "purge_idempotency_keys", "reseal_all"]

_PURGE_BATCH = 1000


async def reseal_all(deps: WebhookDependencies, batch_size: int) -> int:
    """Re-encrypts, tenant by tenant, every signing secret sealed with an older key or format;
    a batch per transaction."""
    total = 0
    for tenant_id in await _tenants(deps):
        while True:
            async with deps.uow(tenant_id) as uow:
                done = await uow.endpoints.reseal(batch_size)
                await uow.commit()
            total += done
            if done < batch_size:
                break
    return total


async def purge_idempotency_keys(deps: WebhookDependencies) -> int:
    """Deletes the stored answers of expired Idempotency-Keys, tenant by tenant."""
    total = 0
    for tenant_id in await _tenants(deps):
        async with deps.uow(tenant_id) as uow:
            total += await uow.idempotency.purge_expired()
            await uow.commit()
    return total


async def purge_ended_deliveries(deps: WebhookDependencies, retention: timedelta) -> int:
    """Deletes deliveries (and their attempts) that succeeded or died longer ago than
    `retention`, tenant by tenant, a batch per transaction."""
    total = 0
    before = deps.clock.now() - retention
    for tenant_id in await _tenants(deps):
        while True:
            async with deps.uow(tenant_id) as uow:
                done = await uow.deliveries.purge_ended(before, _PURGE_BATCH)
                await uow.commit()
            total += done
            if done < _PURGE_BATCH:
                break
    return total


async def _tenants(deps: WebhookDependencies) -> list[UUID]:
    async with deps.directory() as directory:
        return await directory.tenants.all()
