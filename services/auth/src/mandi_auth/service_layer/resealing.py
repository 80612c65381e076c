"""Re-encryption under the newest keys, so an old key can leave its keyring.

Rotating `key_encryption_keys` (private signing keys) or `field_keys` (users' emails): append the
new key to the setting and restart, let this run (the background job, or `python -m mandi_auth
reseal`), then remove the old key. Values sealed before rows were bound (format 1) are upgraded
on the way.
"""

from __future__ import annotations

from uuid import UUID

from mandi_auth.service_layer.dependencies import AuthDependencies

__all__ = ["reseal_all", "reseal_emails", "reseal_signing_keys"]


async def reseal_all(deps: AuthDependencies, batch_size: int) -> int:
    """Re-encrypts the private signing keys, then each tenant's emails; how many rows were."""
    total = await reseal_signing_keys(deps, batch_size)
    for tenant_id in await _tenants(deps):
        total += await reseal_emails(deps, tenant_id, batch_size)
    return total


async def reseal_signing_keys(deps: AuthDependencies, batch_size: int) -> int:
    """Re-encrypts the private signing keys sealed with an older key, a batch per transaction."""
    total = 0
    while True:
        async with deps.directory() as directory:
            await directory.signing_keys.lock()  # no replica adds a key meanwhile
            done = 0
            for key, sealed in await directory.signing_keys.all():
                resealed = deps.signer.reseal(key.kid, sealed)
                if resealed is not None:
                    await directory.signing_keys.replace_sealed(key.kid, resealed)
                    done += 1
                    if done == batch_size:
                        break
            await directory.commit()
        total += done
        if done < batch_size:
            return total


async def reseal_emails(deps: AuthDependencies, tenant_id: UUID, batch_size: int) -> int:
    """Re-encrypts a tenant's users' emails sealed with an older key, a batch per transaction."""
    total = 0
    while True:
        async with deps.uow(tenant_id) as uow:
            done = await uow.users.reseal(batch_size)
            await uow.commit()
        total += done
        if done < batch_size:
            return total


async def _tenants(deps: AuthDependencies) -> list[UUID]:
    async with deps.directory() as directory:
        return await directory.tenants.all()
