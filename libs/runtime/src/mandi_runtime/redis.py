"""A service's Redis client: one bounded pool, so a burst waits instead of failing; and what
Redis raises when it is away, which the service answers 503 with Retry-After."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mandi_config import ServiceSettings

__all__ = ["pooled_redis", "redis_of", "redis_unavailable"]


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


def redis_of(settings: ServiceSettings) -> Redis:
    """The service's Redis client, as its settings say."""
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    return pooled_redis(
        settings.redis_url,
        password=password,
        max_connections=settings.redis_max_connections,
        timeout_seconds=settings.redis_pool_timeout_seconds,
    )


def redis_unavailable(error: BaseException) -> bool:
    """Whether an error means Redis could not be reached (restarting, loading, refusing)."""
    return isinstance(error, RedisConnectionError | RedisTimeoutError | BusyLoadingError)
