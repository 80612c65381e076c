"""Revocation and rate limits in one atomic Redis script: GCRA per bucket, daily quotas.

GCRA keeps one number per bucket, the theoretical arrival time (TAT) of the next request: a
request is admitted when `TAT - now <= tolerance`, which allows `burst` requests at once and
`per_second` sustained. The script checks every bucket before it writes any, so a request is
taken from all of them or from none; Redis runs it atomically, so concurrent callers can never
be over-admitted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from redis.asyncio import Redis

from mandi_auth.service_layer.ports import Bucket, Verdict
from mandi_runtime import Clock

__all__ = ["RedisGatekeeper"]

_PREFIX = "mandi:auth"
_LAST_USED = f"{_PREFIX}:api-keys:last-used"
_ADMIT = """
-- KEYS[1] revocation marker of the session ('' for none); KEYS[2] hash of keys' last use;
-- then for each bucket: its TAT key and today's quota key.
-- ARGV[1] bucket count; ARGV[2] key id to mark used ('' for none);
-- then for each bucket: emission interval (us), tolerance (us), daily quota (0 for none).
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
if KEYS[1] ~= '' and redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, 'revoked', 0, 0, 0, 0}
end
local buckets = tonumber(ARGV[1])
local new_tats, counts = {}, {}
local limit, remaining, reset = 0, -1, 0
for i = 1, buckets do
  local interval = tonumber(ARGV[3 * i])
  local tolerance = tonumber(ARGV[3 * i + 1])
  local per_day = tonumber(ARGV[3 * i + 2])
  local tat = math.max(tonumber(redis.call('GET', KEYS[2 * i + 1]) or now), now)
  if tat - now > tolerance then
    local burst = math.floor(tolerance / interval) + 1
    return {0, 'rate_limited', tat - tolerance - now, burst, 0, tat - now}
  end
  local used = tonumber(redis.call('GET', KEYS[2 * i + 2]) or 0)
  if per_day > 0 and used >= per_day then
    local midnight = (math.floor(now / 86400000000) + 1) * 86400000000
    return {0, 'quota_exceeded', midnight - now, per_day, 0, midnight - now}
  end
  new_tats[i], counts[i] = tat + interval, used
  local left = math.floor((tolerance - (tat + interval - now)) / interval) + 1
  if remaining < 0 or left < remaining then
    limit = math.floor(tolerance / interval) + 1
    remaining, reset = math.max(left, 0), tat + interval - now
  end
end
for i = 1, buckets do
  local tolerance = tonumber(ARGV[3 * i + 1])
  local ttl = math.ceil((new_tats[i] - now + tolerance) / 1000) + 1000
  redis.call('SET', KEYS[2 * i + 1], new_tats[i], 'PX', ttl)
  if tonumber(ARGV[3 * i + 2]) > 0 then
    redis.call('INCR', KEYS[2 * i + 2])
    redis.call('EXPIRE', KEYS[2 * i + 2], 172800)
  end
end
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[2], clock[1])
end
return {1, '', 0, limit, remaining, reset}
"""


def _revocation_key(session_id: UUID) -> str:
    return f"{_PREFIX}:revoked-session:{session_id}"


class RedisGatekeeper:
    """The Gatekeeper port on Redis."""

    def __init__(self, redis: Redis, clock: Clock) -> None:
        self._redis = redis
        self._clock = clock
        self._admit = redis.register_script(_ADMIT)

    async def admit(
        self, revoked_session: UUID | None, buckets: Sequence[Bucket], *, touch: UUID | None = None
    ) -> Verdict:
        """One request against every bucket, all or nothing, unless the session is revoked."""
        day = self._clock.now().strftime("%Y%m%d")
        keys = [_revocation_key(revoked_session) if revoked_session else "", _LAST_USED]
        arguments: list[str | int] = [len(buckets), str(touch) if touch else ""]
        for bucket in buckets:
            interval = round(1_000_000 / bucket.limit.per_second)
            keys += [f"{_PREFIX}:rate:{bucket.name}", f"{_PREFIX}:quota:{bucket.name}:{day}"]
            arguments += [interval, interval * (bucket.limit.burst - 1), bucket.limit.per_day or 0]
        allowed, reason, retry_us, limit, remaining, reset_us = await self._admit(
            keys=keys, args=arguments
        )
        return Verdict(
            allowed=bool(allowed),
            reason=(reason.decode() if isinstance(reason, bytes) else reason) or None,
            retry_after_seconds=int(retry_us) / 1_000_000,
            limit=int(limit),
            remaining=int(remaining),
            reset_seconds=int(reset_us) / 1_000_000,
        )

    async def revoke_session(self, session_id: UUID, for_seconds: float) -> None:
        """Refuses the session until its last access token has expired."""
        await self._redis.set(_revocation_key(session_id), 1, ex=max(1, math.ceil(for_seconds)))

    async def session_revoked(self, session_id: UUID) -> bool:
        """Whether the session was revoked (its marker lives until its last token expires)."""
        return bool(await self._redis.exists(_revocation_key(session_id)))

    async def last_used(self, key_ids: Sequence[UUID]) -> dict[UUID, datetime]:
        """When each key was last admitted."""
        if not key_ids:
            return {}
        stamps = await self._redis.hmget(_LAST_USED, [str(key_id) for key_id in key_ids])
        return {
            key_id: datetime.fromtimestamp(int(stamp), UTC)
            for key_id, stamp in zip(key_ids, stamps, strict=True)
            if stamp is not None
        }
