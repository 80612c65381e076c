"""What a trade's saga holds of an availability, and what it was answered.

A saga's command is named by its saga id and step: sent again (a retry, a redelivery), it gets
the answer it got the first time and changes nothing more. A reservation lives until its saga
releases it, or its deadline passes (a sweep releases it then).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

__all__ = ["Reservation", "ReservationStatus"]


class ReservationStatus(StrEnum):
    """Where a saga's step on an availability stands."""

    RESERVED = "reserved"
    REFUSED = "refused"
    RELEASED = "released"


@dataclass(frozen=True)
class Reservation:
    """One saga step on one availability: a reservation, a refusal, or a release."""

    saga_id: UUID
    step: str
    availability_id: UUID
    status: ReservationStatus
    quantity: Decimal  # reserved, or released by a release step
    free: Decimal  # what the availability had free once the step was applied
    deadline: datetime | None = None
    reason: str = ""  # a refusal's

    def released(self) -> Reservation:
        """The reservation, given back."""
        return replace(self, status=ReservationStatus.RELEASED)
