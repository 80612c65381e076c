"""A circuit breaker per endpoint, so that one dead endpoint never slows the others.

After `threshold` failures in a row an endpoint's circuit opens: none of its deliveries is
claimed for `cool_down`, which doubles each time a probe fails, up to `max_cool_down`. When it
ends the circuit is half open: one delivery goes, as a probe. Its success closes the circuit;
its failure opens it again. A failure here is a transport failure or a 5xx, 408 or 429: what
says the receiver is not well, not a 4xx that says the delivery itself was refused.

Deliveries whose endpoint's circuit is open stay pending with their schedule untouched; they
are claimed again once it closes, so no attempt is spent on an endpoint known to be down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from mandi_webhook.domain.deliveries import AttemptResult

__all__ = ["BreakerPolicy", "Circuit", "Circuits", "is_endpoint_failure"]

_UNWELL = frozenset({408, 429})
_SERVER_ERRORS = 500


def is_endpoint_failure(result: AttemptResult) -> bool:
    """Whether an attempt's result says the endpoint is unwell."""
    code = result.status_code
    return code is None or code >= _SERVER_ERRORS or code in _UNWELL


@dataclass(frozen=True)
class BreakerPolicy:
    """When a circuit opens, and for how long."""

    threshold: int = 5
    cool_down: timedelta = timedelta(seconds=5)
    max_cool_down: timedelta = timedelta(minutes=5)


@dataclass
class Circuit:
    """One endpoint's circuit."""

    failures: int = 0
    open_until: datetime | None = None
    cool_down: timedelta | None = None
    probing: bool = False

    def admits(self, now: datetime) -> bool:
        """Whether a delivery to the endpoint may go now (while half open: the one probe)."""
        if self.open_until is None:
            return True
        return now >= self.open_until and not self.probing


@dataclass
class Circuits:
    """The circuits of every endpoint this process delivers to."""

    policy: BreakerPolicy = field(default_factory=BreakerPolicy)
    _circuits: dict[UUID, Circuit] = field(default_factory=dict)

    def closed_to(self, now: datetime) -> set[UUID]:
        """The endpoints no delivery may go to now (open, or half open with a probe out)."""
        return {each for each, circuit in self._circuits.items() if not circuit.admits(now)}

    def admits(self, endpoint_id: UUID, now: datetime) -> bool:
        """Whether a delivery may go to the endpoint now; if it is the probe, it is marked."""
        circuit = self._circuits.get(endpoint_id)
        if circuit is None:
            return True
        if not circuit.admits(now):
            return False
        if circuit.open_until is not None:
            circuit.probing = True
        return True

    def record(self, endpoint_id: UUID, result: AttemptResult, now: datetime) -> bool:
        """Counts an attempt's result; whether it opened the endpoint's circuit."""
        if not is_endpoint_failure(result):
            self._circuits.pop(endpoint_id, None)
            return False
        circuit = self._circuits.setdefault(endpoint_id, Circuit())
        circuit.failures += 1
        if self.is_open(endpoint_id, now):
            return False  # an attempt sent before it opened: it stays open as it is
        was_probe, circuit.probing = circuit.probing, False
        if not was_probe and circuit.failures < self.policy.threshold:
            return False
        circuit.cool_down = self._next_cool_down(circuit.cool_down if was_probe else None)
        circuit.open_until = now + circuit.cool_down
        return True

    def is_open(self, endpoint_id: UUID, now: datetime) -> bool:
        """Whether the endpoint's circuit is open (not yet half open)."""
        circuit = self._circuits.get(endpoint_id)
        return circuit is not None and circuit.open_until is not None and now < circuit.open_until

    def _next_cool_down(self, previous: timedelta | None) -> timedelta:
        if previous is None:
            return self.policy.cool_down
        return min(previous * 2, self.policy.max_cool_down)
