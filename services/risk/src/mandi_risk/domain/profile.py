"""What risk knows of a partner: its standing and insider links (from partners' events), the
rating its risk officers gave it, and how it has paid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from mandi_errors import InvalidInput
from mandi_rules import InsiderLinks

__all__ = ["LATE_DAYS_CAP", "PartnerProfile", "PaymentRecord", "Rating", "Standing"]

LATE_DAYS_CAP = 90  # a payment this late counts as the worst; later adds nothing


class Standing(StrEnum):
    """Where the partner stands with the operator, as partners' events last said."""

    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


class Rating(StrEnum):
    """A risk officer's rating of a partner, best first."""

    AAA = "AAA"
    AA = "AA"
    A = "A"
    BBB = "BBB"
    BB = "BB"
    B = "B"
    C = "C"
    D = "D"

    @property
    def strength(self) -> float:
        """From 1 (AAA) down to 0 (D), in equal steps."""
        ladder = list(Rating)
        return 1 - ladder.index(self) / (len(ladder) - 1)


@dataclass(frozen=True)
class PaymentRecord:
    """How a partner paid for its past trades: counts of payments and days late in total."""

    on_time: int = 0
    late: int = 0
    days_late: int = 0  # summed over the late payments, each capped at LATE_DAYS_CAP

    def __post_init__(self) -> None:
        if min(self.on_time, self.late, self.days_late) < 0:
            raise InvalidInput("Payment counts and days late cannot be negative.")
        if self.days_late and not self.late:
            raise InvalidInput("Days late come with late payments.")

    @property
    def payments(self) -> int:
        """How many payments are known."""
        return self.on_time + self.late

    @property
    def on_time_ratio(self) -> float | None:
        """The share paid on time; None with no history."""
        return self.on_time / self.payments if self.payments else None

    @property
    def average_days_late(self) -> float:
        """Days late per payment (on-time ones count as zero)."""
        return self.days_late / self.payments if self.payments else 0.0

    def with_payment(self, days_late: int) -> PaymentRecord:
        """The record after one more payment, `days_late` days after it was due (0: on time)."""
        if days_late < 0:
            raise InvalidInput("A payment made early is on time: days late cannot be negative.")
        if days_late == 0:
            return PaymentRecord(self.on_time + 1, self.late, self.days_late)
        late_days = min(days_late, LATE_DAYS_CAP)
        return PaymentRecord(self.on_time, self.late + 1, self.days_late + late_days)


@dataclass(frozen=True)
class PartnerProfile:
    """A partner as risk sees it. One it has not heard of is pending, with no links known."""

    partner_id: UUID
    standing: Standing = Standing.PENDING
    group_id: UUID | None = None
    director_fingerprints: frozenset[str] = field(default_factory=frozenset)
    contact_fingerprints: frozenset[str] = field(default_factory=frozenset)
    version: int = 0  # of the partner, as its last applied event named it
    rating: Rating | None = None
    payments: PaymentRecord = field(default_factory=PaymentRecord)

    @property
    def links(self) -> InsiderLinks:
        """What ties the partner to others, for the insider-trading rule."""
        return InsiderLinks(
            self.partner_id, self.group_id, self.director_fingerprints, self.contact_fingerprints
        )

    def superseded_by(self, version: int) -> bool:
        """Whether a partners' event of this version is newer than what this profile holds."""
        return version > self.version
