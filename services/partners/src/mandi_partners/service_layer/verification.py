"""What the use cases ask of the external KYC and tax-id verifier, and what it answers.

The adapter behind `Verifier` never raises for an unreachable verifier: it answers PARKED, so the
application waits for a later attempt or a reviewer instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from mandi_partners.domain.partner import Verification
from mandi_partners.domain.tax_ids import TaxId

__all__ = ["VerificationAnswer", "VerificationRequest", "Verifier"]


@dataclass(frozen=True)
class VerificationRequest:
    """Who to verify: the company's legal name, country and tax ids (in clear, for the verifier)."""

    partner_id: UUID
    legal_name: str
    country: str
    tax_ids: tuple[TaxId, ...]


@dataclass(frozen=True)
class VerificationAnswer:
    """PASSED or FAILED from the verifier, or PARKED when it could not answer.

    `note` says why in words a reviewer reads (never a tax id); `reference` is the verifier's own
    id of the check, for audits.
    """

    outcome: Verification
    note: str | None = None
    reference: str | None = None


class Verifier(Protocol):
    """The external verification API, behind a timeout, retries and a circuit breaker."""

    async def verify(self, request: VerificationRequest) -> VerificationAnswer:
        """The verifier's answer, or PARKED when it is unreachable or its circuit is open."""
