"""What a trade's saga holds of an availability, and what it was answered.

A saga's command is named by its saga id and step: sent again (a retry, a redelivery), it gets
the answer it got the first time and changes nothing more. A reservation lives until its saga
releases it, or its deadline passes (a sweep releases it then); once its saga confirms it, it is
the trade's, and only a release gives it back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

__all__ = ["Reservation", "ReservationStatus", "StepKind"]


class ReservationStatus(StrEnum):
    """Where a saga's step on an availability stands."""

    RESERVED = "reserved"
    CONFIRMED = "confirmed"
    REFUSED = "refused"
    RELEASED = "released"


class StepKind(StrEnum):
    """Which command a saga step was: only a reserve step holds a quantity."""

    RESERVE = "reserve"
    CONFIRM = "confirm"
    RELEASE = "release"


@dataclass(frozen=True)
class Reservation:
    """One saga step on one availability: a reservation, a confirmation, a refusal of either, or a
    release."""

    saga_id: UUID
    step: str
    kind: StepKind
    availability_id: UUID
    status: ReservationStatus
    quantity: Decimal  # reserved, or confirmed or released by its step
    free: Decimal  # what the availability had free once the step was applied
    deadline: datetime | None = None
    reason: str = ""  # a refusal's

    def overdue(self, now: datetime) -> bool:
        """Whether the reservation is not confirmed and its saga's deadline has passed: the
        sweep gives it back (and counts as this does)."""
        return (
            self.status is ReservationStatus.RESERVED
            and self.deadline is not None
            and self.deadline < now
        )

    def confirmed(self) -> Reservation:
        """The reservation, made its trade's: no deadline gives it back any more."""
        return replace(self, status=ReservationStatus.CONFIRMED)

    def released(self) -> Reservation:
        """The reservation, given back."""
        return replace(self, status=ReservationStatus.RELEASED)
