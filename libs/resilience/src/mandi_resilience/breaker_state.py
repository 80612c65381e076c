"""The circuit breaker's state as the `mandi_circuit_breaker_state` gauge, kept current."""

from __future__ import annotations

import logging

from pybreaker import (
    STATE_CLOSED,
    STATE_HALF_OPEN,
    STATE_OPEN,
    CircuitBreaker,
    CircuitBreakerListener,
    CircuitBreakerState,
)

from mandi_observability.metrics import CIRCUIT_BREAKER_STATE

__all__ = ["BreakerStateExporter"]

# The values the gauge's help text and the dashboards use.
_GAUGE_VALUES = {STATE_CLOSED: 0, STATE_HALF_OPEN: 1, STATE_OPEN: 2}
_log = logging.getLogger(__name__)


class BreakerStateExporter(CircuitBreakerListener):
    """A pybreaker listener writing each state change to the gauge, labelled with the breaker."""

    def __init__(self, breaker_name: str) -> None:
        self.breaker_name = breaker_name

    def publish(self, state_name: str) -> None:
        """Sets the gauge to the value of `state_name`."""
        CIRCUIT_BREAKER_STATE.labels(self.breaker_name).set(_GAUGE_VALUES[state_name])

    def state_change(
        self,
        cb: CircuitBreaker,  # noqa: ARG002 - pybreaker's signature
        old_state: CircuitBreakerState | None,
        new_state: CircuitBreakerState,
    ) -> None:
        """Called by pybreaker on every transition."""
        self.publish(new_state.name)
        level = logging.WARNING if new_state.name == STATE_OPEN else logging.INFO
        previous = old_state.name if old_state else None
        _log.log(level, "circuit breaker %s: %s -> %s", self.breaker_name, previous, new_state.name)
