"""The catalog in Redis, shared by every replica: read on each request, invalidated by each
change (by the writer once it commits, and by the catalog's own events for anything missed).

Redis away is a miss, not an error: the catalog is read from the database instead.
"""

from __future__ import annotations

import logging
from uuid import UUID

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from mandi_availability.adapters.catalog_documents import commodity_document, commodity_from
from mandi_availability.domain.catalog import Commodity

__all__ = ["RedisCatalogCache"]

_log = logging.getLogger(__name__)


class RedisCatalogCache:
    """Commodities by tenant and code, for `ttl_seconds` at most."""

    def __init__(self, redis: Redis, *, ttl_seconds: int) -> None:
        self._redis = redis
        self._ttl = ttl_seconds

    async def get(self, tenant_id: UUID, code: str) -> Commodity | None:
        """The cached commodity, or None (not cached, or Redis away)."""
        try:
            cached = await self._redis.get(_key(tenant_id, code))
        except RedisError as error:
            _log.warning("catalog cache unreadable, reading the database: %s", type(error).__name__)
            return None
        return None if cached is None else commodity_from(orjson.loads(cached))

    async def put(self, tenant_id: UUID, commodity: Commodity) -> None:
        """Caches a commodity read from the database (skipped while Redis is away)."""
        document = orjson.dumps(commodity_document(commodity))
        try:
            await self._redis.set(_key(tenant_id, commodity.code), document, ex=self._ttl)
        except RedisError as error:
            _log.warning("catalog cache unwritable: %s", type(error).__name__)

    async def forget(self, tenant_id: UUID, code: str) -> None:
        """Drops a changed commodity; raises while Redis is away, so an event handler retries."""
        await self._redis.delete(_key(tenant_id, code))


def _key(tenant_id: UUID, code: str) -> str:
    return f"mandi:availability:catalog:{tenant_id}:{code}"
