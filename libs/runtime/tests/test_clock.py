"""SystemClock: the wall clock, as use cases read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mandi_runtime import SystemClock


def test_the_system_clock_tells_the_current_time_in_utc() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    after = datetime.now(UTC)

    assert now.utcoffset() == timedelta(0)
    assert now.tzinfo is UTC
    assert before <= now <= after
