"""The time, as use cases ask for it: a port they take, the wall clock in production."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    """The current time (a test sets it)."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""


class SystemClock:
    """The Clock port on the system clock, in UTC."""

    def now(self) -> datetime:
        """Now, in UTC."""
        return datetime.now(UTC)
