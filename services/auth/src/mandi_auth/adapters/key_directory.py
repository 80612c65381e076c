"""API keys by id, and tenants' status, for the authorize endpoint: cached for half a second.

Every request through the gateway looks its key (or its token's tenant) up; the brief cache
spares the database nearly all of those reads and still refuses a revoked key or a suspended
tenant within the second the gateway allows.
"""

from __future__ import annotations

from uuid import UUID

from mandi_auth.adapters.brief_cache import BriefCache
from mandi_auth.domain.api_keys import ApiKey
from mandi_auth.service_layer.unit_of_work import DirectoryFactory, UnitOfWorkFactory

__all__ = ["CachedApiKeyDirectory", "CachedTenantStatus"]


class CachedApiKeyDirectory:
    """Finds keys across tenants through the credential index, remembering answers briefly."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        directory: DirectoryFactory,
        cache: BriefCache[UUID, ApiKey | None] | None = None,
    ) -> None:
        self._uow = uow
        self._directory = directory
        self._cache: BriefCache[UUID, ApiKey | None] = cache or BriefCache()

    async def find(self, key_id: UUID) -> ApiKey | None:
        """The key, or None; an unknown id is remembered as unknown for the same short time."""
        return await self._cache.get(key_id, self._load)

    def forget(self, key_id: UUID) -> None:
        """Drops a key changed by this process, so this process sees the change at once."""
        self._cache.forget(key_id)

    async def _load(self, key_id: UUID) -> ApiKey | None:
        async with self._directory() as directory:
            tenant_id = await directory.credentials.tenant_of(key_id)
        if tenant_id is None:
            return None
        async with self._uow(tenant_id) as uow:
            return await uow.api_keys.get(key_id)


class CachedTenantStatus:
    """Whether a tenant may act, remembered briefly; an unknown tenant may not."""

    def __init__(
        self, directory: DirectoryFactory, cache: BriefCache[UUID, bool] | None = None
    ) -> None:
        self._directory = directory
        self._cache: BriefCache[UUID, bool] = cache or BriefCache()

    async def is_active(self, tenant_id: UUID) -> bool:
        """False for a suspended or unknown tenant."""
        return await self._cache.get(tenant_id, self._load)

    def forget(self, tenant_id: UUID) -> None:
        """Drops a status changed by this process."""
        self._cache.forget(tenant_id)

    async def _load(self, tenant_id: UUID) -> bool:
        async with self._directory() as directory:
            tenant = await directory.tenants.get(tenant_id)
        return tenant is not None and tenant.is_active
