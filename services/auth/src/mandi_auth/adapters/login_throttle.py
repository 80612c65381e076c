"""Failed sign-ins counted in Redis, checked and counted in one atomic script.

Each count is a hash of `failures` and `last` (the newest failure, in microseconds of Redis's
own clock, one clock for every auth instance). An attempt no count holds back is counted as a
failure on every key before its password is checked, in the same script that checked: a burst
of parallel guesses gets only the free attempts, however fast it comes.

Keys are named by an HMAC of what they count: a bare hash of a tenant and email (or of an
address) could be recomputed from a guess by anyone who reads Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Mapping, Sequence

from redis.asyncio import Redis

from mandi_auth.domain.login_backoff import LoginBackoff, LoginScope
from mandi_auth.service_layer.ports import ThrottleKey

__all__ = ["RedisLoginThrottle"]

_PREFIX = "mandi:auth:login-throttle:"
_REMEMBER_SECONDS = 24 * 3600  # failures older than a day no longer count
# The key that names throttle keys is derived from the API key pepper, so no new secret has to be
# distributed; the label keeps it apart from the pepper's other uses.
_NAMING_LABEL = b"mandi.auth.login-throttle"
_MIN_PEPPER_BYTES = 16

_RESERVE = """
-- KEYS: the counts of failures. ARGV[1]: seconds a count is remembered;
-- then for each key: free attempts, base wait (us), longest wait (us).
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local wait = 0
for i, key in ipairs(KEYS) do
  local state = redis.call('HMGET', key, 'failures', 'last')
  local failures, last = tonumber(state[1]), tonumber(state[2])
  local free, base = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
  local longest = tonumber(ARGV[3 * i + 1])
  if failures and last and failures >= free then
    wait = math.max(wait, last + math.min(longest, base * 2 ^ (failures - free)) - now)
  end
end
if wait > 0 then
  return math.ceil(wait)
end
for _, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'failures', 1)
  redis.call('HSET', key, 'last', string.format('%.0f', now))  -- tostring() would round it
  redis.call('EXPIRE', key, ARGV[1])
end
return 0
"""

_SUCCEED = """
-- KEYS[1..ARGV[1]]: counts to forget; the rest: counts to take one reserved failure off.
local cleared = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  if i <= cleared then
    redis.call('DEL', key)
  elseif redis.call('HINCRBY', key, 'failures', -1) <= 0 then
    redis.call('DEL', key)
  end
end
return 0
"""


class RedisLoginThrottle:
    """The LoginThrottle port on Redis, each scope backing off by its own policy."""

    def __init__(
        self, redis: Redis, pepper: bytes, limits: Mapping[LoginScope, LoginBackoff]
    ) -> None:
        if len(pepper) < _MIN_PEPPER_BYTES:
            raise ValueError(f"the pepper has at least {_MIN_PEPPER_BYTES} bytes")
        self._naming_key = hmac.new(pepper, _NAMING_LABEL, hashlib.sha256).digest()
        self._limits = limits
        self._reserve = redis.register_script(_RESERVE)
        self._succeed = redis.register_script(_SUCCEED)

    def _name(self, key: ThrottleKey) -> str:
        # JSON keeps the parts apart: no tenant, email or address can pass for another split.
        subject = json.dumps([key.scope.value, *key.subject]).encode()
        digest = hmac.new(self._naming_key, subject, hashlib.sha256).hexdigest()
        return f"{_PREFIX}{key.scope.value}:{digest}"

    def _policy_arguments(self, key: ThrottleKey) -> list[int]:
        policy = self._limits[key.scope]
        return [
            policy.free_attempts,
            math.ceil(policy.base_seconds * 1_000_000),
            math.ceil(policy.max_seconds * 1_000_000),
        ]

    async def reserve(self, keys: Sequence[ThrottleKey]) -> float:
        """The longest wait any key imposes; when none, the attempt is counted as failed on all."""
        arguments = [_REMEMBER_SECONDS]
        for key in keys:
            arguments += self._policy_arguments(key)
        wait_us = await self._reserve(keys=[self._name(key) for key in keys], args=arguments)
        return int(wait_us) / 1_000_000

    async def succeeded(
        self, *, clear: Sequence[ThrottleKey], give_back: Sequence[ThrottleKey]
    ) -> None:
        """After a correct sign-in: clears `clear`, gives back the reservation on `give_back`."""
        names = [self._name(key) for key in (*clear, *give_back)]
        await self._succeed(keys=names, args=[len(clear)])
