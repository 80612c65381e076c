"""Rate limits and quotas: how many requests a key, a user or a tenant may make.

A rate is `per_second` sustained with bursts of `burst`; a quota caps a UTC day. Plans name a
rate and a quota; a key may override its plan's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from mandi_errors import InvalidInput

__all__ = ["Limit", "Plan"]


@dataclass(frozen=True)
class Limit:
    """A sustained rate with a burst, and an optional daily quota."""

    per_second: float
    burst: int
    per_day: int | None = None

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise InvalidInput("A rate is positive and its burst at least 1.")
        if self.per_day is not None and self.per_day < 1:
            raise InvalidInput("A daily quota is at least 1.")


@dataclass(frozen=True)
class Plan:
    """A named limit partners subscribe their keys to."""

    name: str
    limit: Limit
