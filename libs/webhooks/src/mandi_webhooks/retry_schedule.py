"""When a failed delivery is tried again: the schedule, its jitter, and a receiver's Retry-After.

The jitter is proportional: each wait is its step's delay times a factor drawn from
[1 - jitter, 1 + jitter]. Full jitter (anything from zero to the delay) would spread retries
best, but could turn a ten-hour wait into a few seconds and break the schedule partners are
promised; a proportional band keeps every wait near its step and still spreads a crowd of
deliveries that failed together. The band is bounded so that a longer step's shortest wait
is never below the previous step's longest one: jitter never swaps the order of the steps.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = [
    "DEFAULT_RETRY_AFTER_CAP",
    "DEFAULT_RETRY_SCHEDULE",
    "RetrySchedule",
    "next_attempt_delay",
    "parse_retry_after",
]

_DEFAULT_DELAYS = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
_DEFAULT_JITTER = 0.1
# The longest step of the default schedule: a receiver may ask for no longer wait than that.
DEFAULT_RETRY_AFTER_CAP = timedelta(hours=10)
_DELTA_SECONDS = re.compile(r"[0-9]+")
# More digits than this is a wait beyond any cap; int() is not asked to read an endless string.
_MAX_DELTA_DIGITS = 12
_SYSTEM_RANDOM = random.SystemRandom()


@dataclass(frozen=True)
class RetrySchedule:
    """The wait before each attempt of a delivery (the first's is usually zero), with jitter.

    `delays[n]` is the wait before attempt n + 1, counted from the failure of attempt n; a
    delivery has as many attempts as there are delays.
    """

    delays: tuple[timedelta, ...] = _DEFAULT_DELAYS
    jitter: float = _DEFAULT_JITTER

    def __post_init__(self) -> None:
        if not self.delays:
            raise ValueError("a retry schedule has at least one attempt")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter is a fraction of the delay, from 0 up to but not 1")
        if any(delay < timedelta(0) for delay in self.delays):
            raise ValueError("a retry delay is not negative")
        for earlier, later in zip(self.delays, self.delays[1:], strict=False):
            self._check_order(earlier, later)

    @property
    def attempts(self) -> int:
        """How many attempts a delivery gets before it is exhausted."""
        return len(self.delays)

    def _check_order(self, earlier: timedelta, later: timedelta) -> None:
        if later < earlier:
            raise ValueError("retry delays never shrink from one attempt to the next")
        if later > earlier and later * (1 - self.jitter) < earlier * (1 + self.jitter):
            raise ValueError(
                f"jitter of {self.jitter:.0%} lets the wait of {later} fall below that of "
                f"{earlier}; choose a smaller jitter or steps further apart"
            )


DEFAULT_RETRY_SCHEDULE = RetrySchedule()


def next_attempt_delay(
    attempt: int,
    schedule: RetrySchedule = DEFAULT_RETRY_SCHEDULE,
    rng: random.Random = _SYSTEM_RANDOM,
) -> timedelta | None:
    """The jittered wait before attempt number `attempt` (from 1), or None past the last one."""
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    if attempt > schedule.attempts:
        return None
    delay = schedule.delays[attempt - 1]
    return delay * rng.uniform(1 - schedule.jitter, 1 + schedule.jitter)


def parse_retry_after(
    value: str | None,
    *,
    now: datetime | None = None,
    maximum: timedelta = DEFAULT_RETRY_AFTER_CAP,
) -> timedelta | None:
    """The wait a `Retry-After` header asks for, at most `maximum`; None when it is unreadable.

    It is delta-seconds or an HTTP-date (RFC 9110); a date in the past asks for no wait.
    """
    if value is None:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        if len(text) > _MAX_DELTA_DIGITS:
            return maximum
        return min(timedelta(seconds=int(text)), maximum)
    when = _http_date(text)
    if when is None:
        return None
    wait = when - (now or datetime.now(UTC))
    return min(max(wait, timedelta(0)), maximum)


def _http_date(text: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # HTTP dates are always GMT; a date without a zone is read as one.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
