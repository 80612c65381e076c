"""How long a consumer keeps trying a message before it gives up and dead-letters it."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["PermanentFailure", "RetryPolicy"]


class PermanentFailure(Exception):
    """Raised by a handler for a failure no retry can fix: the message goes straight to the DLQ."""


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts with exponential backoff and full jitter between them."""

    attempts: int = 5
    initial_backoff: float = 0.2
    max_backoff: float = 5.0

    def backoff(self, failed_attempts: int) -> float:
        """Seconds to wait after `failed_attempts` failures (full jitter spreads retry storms)."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2 ** (failed_attempts - 1))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography
