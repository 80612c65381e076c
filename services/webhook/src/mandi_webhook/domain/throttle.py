"""An endpoint's rate limit: a token bucket holding one second's worth of deliveries.

A receiver that asked for 100 deliveries a second gets at most a burst of 100, then 100 a
second. The limit holds per dispatcher: with n replicas sending, an endpoint may see up to n
times its rate (each replica keeps its own bucket, so none waits on another to send).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TokenBucket"]


@dataclass
class TokenBucket:
    """Tokens refill at `rate` a second up to `rate`; a delivery takes one."""

    rate: float
    tokens: float
    updated: float  # monotonic seconds

    @classmethod
    def full(cls, rate: float, now: float) -> TokenBucket:
        """A bucket with its whole burst available."""
        return cls(rate, rate, now)

    def take(self, now: float) -> bool:
        """Takes a token if there is one."""
        self._refill(now)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def empty(self, now: float) -> bool:
        """Whether no token is there now."""
        self._refill(now)
        return self.tokens < 1

    def limit_to(self, rate: float) -> None:
        """Follows a changed rate limit."""
        self.rate = rate
        self.tokens = min(self.tokens, rate)

    def _refill(self, now: float) -> None:
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
