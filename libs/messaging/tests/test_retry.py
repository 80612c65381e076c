"""The retry policy: bounded attempts, full-jitter exponential waits, no retry of the hopeless."""

from __future__ import annotations

import pytest
from tenacity import RetryCallState

from mandi_messaging import PermanentFailure, RetryPolicy

INSTANT = RetryPolicy(attempts=3, initial_backoff=0.0001, max_backoff=0.0001)


def test_waits_grow_with_jitter_and_stay_under_the_cap() -> None:
    wait = RetryPolicy(attempts=6, initial_backoff=0.1, max_backoff=1.0).retrying().wait
    for failed in range(1, 7):
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = failed
        ceiling = min(1.0, 0.1 * 2 ** (failed - 1))
        delays = [wait(state) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 100, "full jitter spreads the delays"


async def test_a_failure_is_tried_again_until_the_attempts_run_out() -> None:
    calls = 0

    async def always_fails() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("the ledger is locked")

    with pytest.raises(RuntimeError, match="ledger"):
        await INSTANT.retrying()(always_fails)
    assert calls == 3


async def test_a_permanent_failure_is_not_tried_again() -> None:
    calls = 0

    async def hopeless() -> None:
        nonlocal calls
        calls += 1
        raise PermanentFailure("the lot no longer exists")

    with pytest.raises(PermanentFailure):
        await INSTANT.retrying()(hopeless)
    assert calls == 1
