"""How long a consumer keeps trying a message before it gives up and dead-letters it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

__all__ = ["PermanentFailure", "RetryPolicy"]


class PermanentFailure(Exception):
    """Raised by a handler for a failure no retry can fix: the message goes straight to the DLQ."""


def _worth_retrying(error: BaseException) -> bool:
    # Cancellation (shutdown, a lost partition) is a BaseException and must never be retried.
    return isinstance(error, Exception) and not isinstance(error, PermanentFailure)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts with exponential backoff and full jitter between them."""

    attempts: int = 5
    initial_backoff: float = 0.2
    max_backoff: float = 5.0

    def retrying(
        self, *, before_sleep: Callable[[RetryCallState], Awaitable[None] | None] | None = None
    ) -> AsyncRetrying:
        """Tenacity's loop for one message; it re-raises the last error once attempts run out.

        Full jitter (a wait drawn between zero and the exponential ceiling) spreads the retries
        of many consumers that failed together.
        """
        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_random_exponential(multiplier=self.initial_backoff, max=self.max_backoff),
            retry=retry_if_exception(_worth_retrying),
            before_sleep=before_sleep,
            reraise=True,
        )
