"""Calling one external dependency through a timeout, retries and a circuit breaker.

pybreaker drives coroutines only through tornado, so the breaker is driven here with its
`calling()` context manager around the whole retry loop: each logical call counts once.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from math import ceil
from typing import TypeVar, cast

from pybreaker import STATE_HALF_OPEN, CircuitBreaker, CircuitBreakerError
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from mandi_errors import DependencyUnavailable
from mandi_observability.metrics import EXTERNAL_CALLS
from mandi_resilience.breaker_state import BreakerStateExporter
from mandi_resilience.policy import CallPolicy

__all__ = ["CircuitOpen", "Fallback", "GuardedCall"]

T = TypeVar("T")
Fallback = Callable[[BaseException], Awaitable[T] | T]


class CircuitOpen(DependencyUnavailable):
    """The dependency's circuit is open: the call was not made."""

    def __init__(self, dependency: str, retry_after_seconds: float) -> None:
        super().__init__(
            f"{dependency} is unavailable; try again later.",
            retry_after_seconds=ceil(retry_after_seconds),
        )
        self.dependency = dependency


class GuardedCall:
    """Calls to one dependency, guarded as its CallPolicy says; build one per dependency."""

    def __init__(self, policy: CallPolicy) -> None:
        self.policy = policy
        exporter = BreakerStateExporter(policy.name)
        self._breaker = CircuitBreaker(
            fail_max=policy.breaker_fail_max,
            reset_timeout=policy.breaker_reset_seconds,
            name=policy.name,
            listeners=[exporter],
            throw_new_error_on_trip=False,  # the call that trips the breaker keeps its own error
        )
        self._trial_running = False
        exporter.publish(self._breaker.current_state)

    @property
    def state(self) -> str:
        """The breaker's state: "closed", "open" or "half-open"."""
        return str(self._breaker.current_state)

    async def call(
        self, fn: Callable[[], Awaitable[T]], *, fallback: Fallback[T] | None = None
    ) -> T:
        """fn's result; on failure or an open circuit, the fallback's answer or the error."""
        admitted = ExitStack()
        try:
            self._admit(admitted)
        except CircuitOpen as rejected:
            self._count("rejected")
            if fallback is None:
                raise
            return await self._fall_back(rejected, fallback)
        try:
            with admitted:  # the breaker records the outcome of the whole retried call
                result = await self._with_retries(fn)
        except Exception as failure:
            self._count("failure")
            if fallback is None:
                raise
            return await self._fall_back(failure, fallback)
        self._count("success")
        return result

    async def _with_retries(self, fn: Callable[[], Awaitable[T]]) -> T:
        async with asyncio.timeout(self.policy.deadline_seconds):
            return cast("T", await self._retrying()(self._attempt, fn))

    def _admit(self, stack: ExitStack) -> None:
        # pybreaker lets every call through while half-open; asyncio would send a burst of them
        # to a recovering dependency, so one trial call runs and the others are refused.
        if self._trial_running:
            raise self._open_error()
        try:
            stack.enter_context(self._breaker.calling())
        except CircuitBreakerError:
            raise self._open_error() from None
        if self._breaker.current_state == STATE_HALF_OPEN:
            self._trial_running = True
            stack.callback(self._end_trial)

    def _end_trial(self) -> None:
        self._trial_running = False

    def _open_error(self) -> CircuitOpen:
        return CircuitOpen(self.policy.name, self.policy.breaker_reset_seconds)

    def _retrying(self) -> AsyncRetrying:
        policy = self.policy
        return AsyncRetrying(
            stop=stop_after_attempt(policy.attempts),
            wait=wait_random_exponential(multiplier=policy.backoff_initial, max=policy.backoff_max),
            retry=retry_if_exception_type((TimeoutError, *policy.retry_on)),
            reraise=True,
        )

    async def _attempt(self, fn: Callable[[], Awaitable[T]]) -> T:
        async with asyncio.timeout(self.policy.timeout_seconds):
            return await fn()

    async def _fall_back(self, error: Exception, fallback: Fallback[T]) -> T:
        self._count("fallback")
        answer = fallback(error)
        if inspect.isawaitable(answer):
            return cast("T", await answer)
        return answer

    def _count(self, outcome: str) -> None:
        EXTERNAL_CALLS.labels(self.policy.name, outcome).inc()
