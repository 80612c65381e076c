"""The auth service's Redis client: one bounded pool, so a burst waits instead of failing."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

__all__ = ["pooled_redis"]


def pooled_redis(
    url: str, *, password: str | None, max_connections: int, timeout_seconds: float
) -> Redis:
    """A client whose commands beyond `max_connections` wait up to `timeout_seconds` for one.

    redis-py's default pool raises at its 100th concurrent command instead.
    """
    pool = BlockingConnectionPool.from_url(
        url, password=password, max_connections=max_connections, timeout=timeout_seconds
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes its connections
