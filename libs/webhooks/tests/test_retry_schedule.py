import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mandi_webhooks import (
    DEFAULT_RETRY_AFTER_CAP,
    DEFAULT_RETRY_SCHEDULE,
    RetrySchedule,
    next_attempt_delay,
    parse_retry_after,
)

SECONDS = timedelta(seconds=1)
MINUTES = timedelta(minutes=1)
HOURS = timedelta(hours=1)
NOW = datetime(2026, 3, 2, 7, 28, 0, tzinfo=UTC)


class EdgeRandom(random.Random):
    """Draws the lowest or the highest jitter factor every time."""

    def __init__(self, *, highest: bool) -> None:
        super().__init__(0)
        self.highest = highest

    def uniform(self, a: float, b: float) -> float:
        return b if self.highest else a


def test_the_default_schedule_is_immediately_then_5s_5m_30m_2h_5h_10h_10h() -> None:
    assert DEFAULT_RETRY_SCHEDULE.delays == (
        timedelta(0),
        5 * SECONDS,
        5 * MINUTES,
        30 * MINUTES,
        2 * HOURS,
        5 * HOURS,
        10 * HOURS,
        10 * HOURS,
    )
    assert DEFAULT_RETRY_SCHEDULE.attempts == 8
    assert DEFAULT_RETRY_SCHEDULE.jitter == 0.1


def test_the_first_attempt_is_immediate_whatever_the_jitter() -> None:
    for highest in (False, True):
        assert next_attempt_delay(1, rng=EdgeRandom(highest=highest)) == timedelta(0)


@pytest.mark.parametrize(
    ("attempt", "shortest", "longest"),
    [
        (2, 4.5 * SECONDS, 5.5 * SECONDS),
        (3, 270 * SECONDS, 330 * SECONDS),
        (4, 27 * MINUTES, 33 * MINUTES),
        (5, 108 * MINUTES, 132 * MINUTES),
        (6, 4.5 * HOURS, 5.5 * HOURS),
        (7, 9 * HOURS, 11 * HOURS),
        (8, 9 * HOURS, 11 * HOURS),
    ],
)
def test_each_wait_is_its_step_give_or_take_ten_percent(
    attempt: int, shortest: timedelta, longest: timedelta
) -> None:
    assert next_attempt_delay(attempt, rng=EdgeRandom(highest=False)) == shortest
    assert next_attempt_delay(attempt, rng=EdgeRandom(highest=True)) == longest


def test_after_the_last_attempt_the_delivery_is_exhausted() -> None:
    assert next_attempt_delay(9) is None
    assert next_attempt_delay(100) is None


def test_attempts_are_counted_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        next_attempt_delay(0)


@given(attempt=st.integers(1, 8), seed=st.integers(0, 2**32))
def test_a_jittered_wait_stays_in_its_band(attempt: int, seed: int) -> None:
    step = DEFAULT_RETRY_SCHEDULE.delays[attempt - 1]

    delay = next_attempt_delay(attempt, rng=random.Random(seed))

    assert delay is not None
    assert step * 0.9 <= delay <= step * 1.1


@given(attempt=st.integers(2, 8), seeds=st.tuples(st.integers(0, 2**32), st.integers(0, 2**32)))
def test_jitter_never_makes_a_later_step_wait_less_than_an_earlier_one(
    attempt: int, seeds: tuple[int, int]
) -> None:
    earlier = next_attempt_delay(attempt - 1, rng=random.Random(seeds[0]))
    later = next_attempt_delay(attempt, rng=random.Random(seeds[1]))

    assert earlier is not None
    assert later is not None
    if DEFAULT_RETRY_SCHEDULE.delays[attempt - 1] > DEFAULT_RETRY_SCHEDULE.delays[attempt - 2]:
        assert later >= earlier


@given(seed=st.integers(0, 2**32))
def test_a_delivery_is_exhausted_after_about_27_and_a_half_hours(seed: int) -> None:
    rng = random.Random(seed)
    waits = [next_attempt_delay(n, rng=rng) for n in range(1, 9)]

    total = sum((wait for wait in waits if wait is not None), timedelta(0))

    scheduled = 27 * HOURS + 35 * MINUTES + 5 * SECONDS
    assert None not in waits
    assert scheduled * 0.9 <= total <= scheduled * 1.1


def test_a_configured_schedule_is_followed() -> None:
    schedule = RetrySchedule(delays=(timedelta(0), 1 * SECONDS, 1 * MINUTES), jitter=0)

    waits = [next_attempt_delay(n, schedule, random.Random(1)) for n in range(1, 5)]

    assert waits == [timedelta(0), 1 * SECONDS, 1 * MINUTES, None]
    assert schedule.attempts == 3


@pytest.mark.parametrize(
    ("delays", "jitter", "why"),
    [
        ((), 0.1, "at least one attempt"),
        ((SECONDS,), 1.0, "from 0 up to but not 1"),
        ((SECONDS,), -0.1, "from 0 up to but not 1"),
        ((-SECONDS,), 0.1, "not negative"),
        ((MINUTES, SECONDS), 0.1, "never shrink"),
        ((SECONDS, 2 * SECONDS), 0.5, "fall below"),
        ((5 * HOURS, 10 * HOURS), 0.34, "fall below"),
    ],
)
def test_a_schedule_whose_jitter_could_reorder_its_steps_is_refused(
    delays: tuple[timedelta, ...], jitter: float, why: str
) -> None:
    with pytest.raises(ValueError, match=why):
        RetrySchedule(delays=delays, jitter=jitter)


def test_a_third_is_the_widest_jitter_the_default_steps_allow() -> None:
    assert RetrySchedule(jitter=0.33).jitter == 0.33
    with pytest.raises(ValueError, match="fall below"):
        RetrySchedule(jitter=0.34)


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("120", 120 * SECONDS),
        ("0", timedelta(0)),
        (" 30 ", 30 * SECONDS),
        ("36000", 10 * HOURS),
        ("36001", 10 * HOURS),
        ("99999999999", 10 * HOURS),
        ("9" * 5000, 10 * HOURS),
        ("Mon, 02 Mar 2026 07:29:00 GMT", 60 * SECONDS),
        ("Monday, 02-Mar-26 07:30:30 GMT", 150 * SECONDS),
        ("Mon Mar  2 07:28:45 2026", 45 * SECONDS),
        ("Mon, 02 Mar 2026 07:00:00 GMT", timedelta(0)),
        ("Tue, 03 Mar 2026 07:28:00 GMT", 10 * HOURS),
    ],
)
def test_retry_after_in_seconds_or_as_a_date_is_a_capped_wait(header: str, wait: timedelta) -> None:
    assert parse_retry_after(header, now=NOW) == wait


@pytest.mark.parametrize(
    "header",
    [None, "", "soon", "-5", "1.5", "+30", "1e3", "30s", "Mon, 31 Feb 2026 07:29:00 GMT"],
)
def test_an_unreadable_retry_after_is_none(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None


def test_the_retry_after_cap_is_configurable() -> None:
    assert parse_retry_after("600", maximum=5 * MINUTES) == 5 * MINUTES
    assert parse_retry_after("60", maximum=5 * MINUTES) == 60 * SECONDS
    assert DEFAULT_RETRY_AFTER_CAP == 10 * HOURS


def test_a_retry_after_date_is_measured_from_the_clock_by_default() -> None:
    soon = datetime.now(UTC) + timedelta(minutes=2)

    wait = parse_retry_after(soon.strftime("%a, %d %b %Y %H:%M:%S GMT"))

    assert wait is not None
    assert 100 * SECONDS < wait <= 120 * SECONDS
