"""Answers remembered for a fraction of a second, for reads the gateway makes on every request.

Half a second of memory spares the database nearly every such read and still lets a change made
elsewhere (a key revoked, a tenant suspended) take effect within the second the gateway allows.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["BriefCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BriefCache(Generic[K, V]):
    """Loads a value at most once per `ttl_seconds` per key; forgets everything when full."""

    def __init__(
        self,
        *,
        ttl_seconds: float = 0.5,
        max_entries: int = 50_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: dict[K, tuple[float, V]] = {}

    async def get(self, key: K, load: Callable[[K], Awaitable[V]]) -> V:
        """The remembered value while fresh, else what `load` answers now (remembered)."""
        cached = self._entries.get(key)
        if cached is not None and cached[0] > self._monotonic():
            return cached[1]
        value = await load(key)
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (self._monotonic() + self._ttl, value)
        return value

    def forget(self, key: K) -> None:
        """Drops a value changed by this process, so this process sees the change at once."""
        self._entries.pop(key, None)
