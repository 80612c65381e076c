"""How one external dependency is called: how long to wait, how often to retry, when to stop."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CallPolicy"]


@dataclass(frozen=True, kw_only=True)
class CallPolicy:
    """Timeouts, retries and circuit-breaker limits for the calls to one dependency.

    A call makes at most `attempts` attempts of `timeout_seconds` each, waiting a random time
    below `backoff_initial * 2**n` (capped at `backoff_max`) between them, and gives up when
    `deadline_seconds` have passed in all. `breaker_fail_max` failed calls in a row open the
    circuit for `breaker_reset_seconds`.
    """

    name: str
    timeout_seconds: float = 2.0
    attempts: int = 3
    backoff_initial: float = 0.1
    backoff_max: float = 2.0
    deadline_seconds: float = 10.0
    retry_on: tuple[type[BaseException], ...] = (ConnectionError,)
    breaker_fail_max: int = 5
    breaker_reset_seconds: float = 30.0

    def __post_init__(self) -> None:
        durations = (self.timeout_seconds, self.deadline_seconds, self.breaker_reset_seconds)
        if min(durations) <= 0 or min(self.backoff_initial, self.backoff_max) < 0:
            raise ValueError(f"{self.name}: timeouts must be positive, backoffs not negative")
        if self.attempts < 1 or self.breaker_fail_max < 1:
            raise ValueError(f"{self.name}: attempts and breaker_fail_max must be at least 1")
