import asyncio
import time
from dataclasses import replace

import pytest
from prometheus_client import REGISTRY

from mandi_errors import DependencyUnavailable
from mandi_errors.http import problem_response
from mandi_resilience import CallPolicy, CircuitOpen, GuardedCall

HANG = "hang"


class Dependency:
    """An external service answering with the outcomes given, then "ok"; it counts calls."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome == HANG:
            await asyncio.sleep(10)
        if isinstance(outcome, BaseException):
            raise outcome
        return str(outcome)


@pytest.fixture
def policy(request: pytest.FixtureRequest) -> CallPolicy:
    """Tiny timings, and a breaker name of this test's own so metrics do not mix."""
    return CallPolicy(
        name=f"dep-{request.node.name}",
        timeout_seconds=0.05,
        attempts=3,
        backoff_initial=0.001,
        backoff_max=0.005,
        deadline_seconds=1.0,
        retry_on=(ConnectionError,),
        breaker_fail_max=2,
        breaker_reset_seconds=0.1,
    )


def calls_counted(policy: CallPolicy, outcome: str) -> float:
    labels = {"breaker": policy.name, "outcome": outcome}
    return REGISTRY.get_sample_value("mandi_external_calls_total", labels) or 0.0


def breaker_gauge(policy: CallPolicy) -> float | None:
    return REGISTRY.get_sample_value("mandi_circuit_breaker_state", {"breaker": policy.name})


async def trip(guard: GuardedCall) -> None:
    for _ in range(guard.policy.breaker_fail_max):
        with pytest.raises(ConnectionError):
            await guard.call(Dependency(*[ConnectionError()] * guard.policy.attempts))
    assert guard.state == "open"


async def test_a_successful_call_returns_its_result(policy: CallPolicy) -> None:
    guard = GuardedCall(policy)

    assert await guard.call(Dependency("answer")) == "answer"
    assert calls_counted(policy, "success") == 1
    assert guard.state == "closed"


def test_the_breaker_state_is_exported_from_the_start(policy: CallPolicy) -> None:
    GuardedCall(policy)

    assert breaker_gauge(policy) == 0


async def test_a_transient_error_is_retried(policy: CallPolicy) -> None:
    dependency = Dependency(ConnectionError(), ConnectionError(), "answer")

    assert await GuardedCall(policy).call(dependency) == "answer"
    assert dependency.calls == 3


async def test_a_timeout_is_a_failure_and_is_retried(policy: CallPolicy) -> None:
    dependency = Dependency(HANG, "answer")

    assert await GuardedCall(policy).call(dependency) == "answer"
    assert dependency.calls == 2


async def test_retries_are_bounded_and_the_last_error_is_raised(policy: CallPolicy) -> None:
    dependency = Dependency(HANG, HANG, HANG, "too late")

    with pytest.raises(TimeoutError):
        await GuardedCall(policy).call(dependency)

    assert dependency.calls == policy.attempts
    assert calls_counted(policy, "failure") == 1


async def test_an_error_not_listed_as_transient_is_not_retried(policy: CallPolicy) -> None:
    dependency = Dependency(ValueError("refused"))

    with pytest.raises(ValueError, match="refused"):
        await GuardedCall(policy).call(dependency)

    assert dependency.calls == 1


async def test_the_deadline_bounds_the_whole_call(policy: CallPolicy) -> None:
    patient = replace(policy, attempts=100, deadline_seconds=0.2)
    dependency = Dependency(*[HANG] * 100)
    started = time.monotonic()

    with pytest.raises(TimeoutError):
        await GuardedCall(patient).call(dependency)

    assert time.monotonic() - started < 1.0  # 100 attempts would take 5 s
    assert 2 <= dependency.calls < 100


async def test_a_logical_call_counts_once_however_many_attempts(policy: CallPolicy) -> None:
    guard = GuardedCall(policy)
    dependency = Dependency(*[ConnectionError()] * 6)

    with pytest.raises(ConnectionError):
        await guard.call(dependency)
    assert (dependency.calls, guard.state) == (3, "closed")

    with pytest.raises(ConnectionError):
        await guard.call(dependency)
    assert (dependency.calls, guard.state) == (6, "open")
    assert breaker_gauge(policy) == 2


async def test_an_open_circuit_rejects_calls_without_making_them(policy: CallPolicy) -> None:
    guard = GuardedCall(policy)
    await trip(guard)
    dependency = Dependency("answer")

    with pytest.raises(CircuitOpen) as rejected:
        await guard.call(dependency)

    assert dependency.calls == 0
    assert isinstance(rejected.value, DependencyUnavailable)
    assert rejected.value.status == 503
    assert rejected.value.retry_after_seconds == 1
    assert calls_counted(policy, "rejected") == 1


async def test_an_open_circuit_answers_with_the_fallback(policy: CallPolicy) -> None:
    guard = GuardedCall(policy)
    await trip(guard)
    seen: list[BaseException] = []

    async def cached(error: BaseException) -> str:
        seen.append(error)
        return "cached"

    assert await guard.call(Dependency("fresh"), fallback=cached) == "cached"
    assert [type(error) for error in seen] == [CircuitOpen]
    assert calls_counted(policy, "fallback") == 1


async def test_a_failed_call_answers_with_a_plain_fallback(policy: CallPolicy) -> None:
    dependency = Dependency(ValueError("refused"))

    answer = await GuardedCall(policy).call(dependency, fallback=lambda error: f"default: {error}")

    assert answer == "default: refused"
    assert calls_counted(policy, "failure") == 1
    assert calls_counted(policy, "fallback") == 1


async def test_a_nested_open_circuit_is_a_failure_of_the_outer_call(policy: CallPolicy) -> None:
    inner = GuardedCall(replace(policy, name=f"{policy.name}-inner"))
    await trip(inner)
    outer = GuardedCall(replace(policy, attempts=1))

    with pytest.raises(CircuitOpen):
        await outer.call(lambda: inner.call(Dependency("unused")))

    assert calls_counted(outer.policy, "failure") == 1
    assert calls_counted(outer.policy, "rejected") == 0


async def test_a_successful_trial_after_the_reset_timeout_closes_the_circuit(
    policy: CallPolicy,
) -> None:
    guard = GuardedCall(policy)
    await trip(guard)
    await asyncio.sleep(policy.breaker_reset_seconds * 1.5)

    assert await guard.call(Dependency("recovered")) == "recovered"
    assert guard.state == "closed"
    assert breaker_gauge(policy) == 0


async def test_a_failed_trial_opens_the_circuit_again(policy: CallPolicy) -> None:
    guard = GuardedCall(policy)
    await trip(guard)
    await asyncio.sleep(policy.breaker_reset_seconds * 1.5)
    dependency = Dependency(ValueError("still broken"))

    with pytest.raises(ValueError, match="still broken"):
        await guard.call(dependency)

    assert dependency.calls == 1
    assert guard.state == "open"
    assert breaker_gauge(policy) == 2


async def test_only_one_trial_call_runs_while_half_open(policy: CallPolicy) -> None:
    guard = GuardedCall(replace(policy, timeout_seconds=1.0))
    await trip(guard)
    await asyncio.sleep(policy.breaker_reset_seconds * 1.5)
    release = asyncio.Event()
    trials = 0

    async def slow_recovery() -> str:
        nonlocal trials
        trials += 1
        await release.wait()
        return "recovered"

    trial = asyncio.create_task(guard.call(slow_recovery))
    await asyncio.sleep(0.01)
    assert breaker_gauge(guard.policy) == 1
    with pytest.raises(CircuitOpen):
        await guard.call(slow_recovery)
    release.set()

    assert await trial == "recovered"
    assert trials == 1
    assert guard.state == "closed"


async def test_a_cancelled_trial_does_not_close_the_circuit(policy: CallPolicy) -> None:
    guard = GuardedCall(policy)
    await trip(guard)
    await asyncio.sleep(policy.breaker_reset_seconds * 1.5)

    trial = asyncio.create_task(guard.call(Dependency(HANG)))
    await asyncio.sleep(0.01)
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial

    assert guard.state == "open"


@pytest.mark.parametrize(
    "invalid", [{"attempts": 0}, {"timeout_seconds": 0}, {"breaker_fail_max": 0}]
)
def test_a_policy_refuses_limits_that_cannot_work(invalid: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="dep"):
        CallPolicy(name="dep", **invalid)  # type: ignore[arg-type]


def test_an_open_circuit_is_answered_as_a_503_problem() -> None:
    response = problem_response(CircuitOpen("credit-bureau", 12.5), "/assessments")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "13"
    assert response.headers["content-type"] == "application/problem+json"
