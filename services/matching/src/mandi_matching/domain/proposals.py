"""A proposal: one availability offered for one requirement, as its decision scored it, and
what its parties did with it.

A proposal is open until a party accepts or declines it, or the book moves under it (the offer
closed, or a new decision replaced it). An accepted proposal waits for its trade saga: it is
traded when the saga confirms the trade, and failed when the saga gives up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from mandi_errors import Conflict
from mandi_matching.domain.offers import Side, side_in

__all__ = ["FactorPoints", "Proposal", "ProposalStatus"]


class ProposalStatus(StrEnum):
    """Where a proposal stands."""

    OPEN = "open"
    ACCEPTED = "accepted"  # its trade saga runs
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # the book moved under it
    FAILED = "failed"  # its trade saga gave up
    TRADED = "traded"


@dataclass(frozen=True)
class FactorPoints:
    """What one factor gave a proposal's score, out of its most, and why."""

    name: str
    points: Decimal
    maximum: Decimal
    rationale: str


@dataclass(frozen=True)
class Proposal:
    """An availability proposed for a requirement, with the decision behind it."""

    id: UUID
    tenant_id: UUID
    requirement_id: UUID
    availability_id: UUID
    buyer_id: UUID
    seller_id: UUID
    commodity: str
    grade: str
    quantity: Decimal
    base_unit: str
    price: Decimal
    currency: str
    price_unit: str
    value: Decimal
    score: Decimal
    scorer_name: str
    scorer_version: int
    breakdown: tuple[FactorPoints, ...]
    rationale: str
    inputs: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime
    status: ProposalStatus = ProposalStatus.OPEN
    saga_id: UUID | None = None
    reason: str = ""
    version: int = 1

    def side_of(self, partner_id: UUID | None) -> Side | None:
        """Which side of the proposal the partner is on; None when neither."""
        return side_in(partner_id, self.buyer_id, self.seller_id)

    def accept(self, saga_id: UUID, now: datetime) -> Proposal:
        """Accepted: the trade saga `saga_id` will make it a trade, or fail."""
        self._require_open("accepted")
        return self._next(now, status=ProposalStatus.ACCEPTED, saga_id=saga_id)

    def decline(self, reason: str, now: datetime) -> Proposal:
        """Declined by a party: it is not proposed again."""
        self._require_open("declined")
        return self._next(now, status=ProposalStatus.DECLINED, reason=reason)

    def withdraw(self, reason: str, now: datetime) -> Proposal:
        """The book moved under it: an offer closed, or a new decision replaced it."""
        self._require_open("withdrawn")
        return self._next(now, status=ProposalStatus.WITHDRAWN, reason=reason)

    def traded(self, now: datetime) -> Proposal:
        """Its saga confirmed the trade."""
        self._require(ProposalStatus.ACCEPTED, "traded")
        return self._next(now, status=ProposalStatus.TRADED)

    def fail(self, reason: str, now: datetime) -> Proposal:
        """Its saga gave up; `reason` says why."""
        self._require(ProposalStatus.ACCEPTED, "failed")
        return self._next(now, status=ProposalStatus.FAILED, reason=reason)

    def _require_open(self, action: str) -> None:
        self._require(ProposalStatus.OPEN, action)

    def _require(self, status: ProposalStatus, action: str) -> None:
        if self.status is not status:
            raise Conflict(
                f"Only a proposal that is {status.value} can be {action}; "
                f"this one is {self.status.value}."
            )

    def _next(self, now: datetime, **changes: Any) -> Proposal:
        return replace(self, **changes, updated_at=now, version=self.version + 1)
