"""The wall clock, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["SystemClock"]


class SystemClock:
    """The Clock port on the system clock."""

    def now(self) -> datetime:
        """Now, in UTC."""
        return datetime.now(UTC)
