"""Failed sign-ins counted in Redis, per account and per client address."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from mandi_auth.domain.login_backoff import LoginBackoff
from mandi_auth.service_layer.ports import Clock

__all__ = ["RedisLoginThrottle"]

_PREFIX = "mandi:auth:login-failures:"
_REMEMBER_SECONDS = 24 * 3600  # failures older than a day no longer count


class RedisLoginThrottle:
    """Backs off per account (`account:…` keys) and, more leniently, per address (`address:…`)."""

    def __init__(
        self, redis: Redis, clock: Clock, *, account: LoginBackoff, address: LoginBackoff
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._account, self._address = account, address

    def _policy(self, key: str) -> LoginBackoff:
        return self._address if key.startswith("address:") else self._account

    async def wait_seconds(self, keys: Sequence[str]) -> float:
        """The longest wait any of the keys imposes now."""
        pipeline = self._redis.pipeline()
        for key in keys:
            pipeline.hmget(_PREFIX + key, ["failures", "last"])
        now = self._clock.now().timestamp()
        waits = [0.0]
        for key, (failures, last) in zip(keys, await pipeline.execute(), strict=True):
            if failures is not None and last is not None:
                until = float(last) + self._policy(key).wait_after(int(failures))
                waits.append(max(0.0, until - now))
        return max(waits)

    async def failed(self, keys: Sequence[str]) -> None:
        """Counts a failure on each key."""
        now = self._clock.now().timestamp()
        pipeline = self._redis.pipeline()
        for key in keys:
            pipeline.hincrby(_PREFIX + key, "failures", 1)
            pipeline.hset(_PREFIX + key, "last", str(now))
            pipeline.expire(_PREFIX + key, _REMEMBER_SECONDS)
        await pipeline.execute()

    async def succeeded(self, account_key: str) -> None:
        """Forgets an account's failures after a correct sign-in."""
        await self._redis.delete(_PREFIX + account_key)
