"""API keys by id for the authorize endpoint, cached for half a second.

Every request through the gateway looks its key up; half a second of caching spares the database
nearly all of those reads and still refuses a revoked key within the second the issue allows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import UUID

from mandi_auth.domain.api_keys import ApiKey
from mandi_auth.service_layer.unit_of_work import DirectoryFactory, UnitOfWorkFactory

__all__ = ["CachedApiKeyDirectory"]


class CachedApiKeyDirectory:
    """Finds keys across tenants through the credential index, remembering answers briefly."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        directory: DirectoryFactory,
        *,
        ttl_seconds: float = 0.5,
        max_entries: int = 50_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = uow
        self._directory = directory
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._cache: dict[UUID, tuple[float, ApiKey | None]] = {}

    async def find(self, key_id: UUID) -> ApiKey | None:
        """The key, or None; an unknown id is remembered as unknown for the same short time."""
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] > self._monotonic():
            return cached[1]
        key = await self._load(key_id)
        if len(self._cache) >= self._max_entries:
            self._cache.clear()
        self._cache[key_id] = (self._monotonic() + self._ttl, key)
        return key

    def forget(self, key_id: UUID) -> None:
        """Drops a key changed by this process, so this process sees the change at once."""
        self._cache.pop(key_id, None)

    async def _load(self, key_id: UUID) -> ApiKey | None:
        async with self._directory() as directory:
            tenant_id = await directory.credentials.tenant_of(key_id)
        if tenant_id is None:
            return None
        async with self._uow(tenant_id) as uow:
            return await uow.api_keys.get(key_id)
