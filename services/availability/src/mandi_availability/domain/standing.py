"""Whether a partner may put offers on the book, as the partners service last said.

Only an approved partner that is not suspended publishes. The standing is a local read model,
built from the partners service's events in the order they were published for each partner;
a partner it has not heard of may not publish (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from mandi_errors import Conflict

__all__ = ["PartnerStanding", "Standing", "require_may_publish"]


class Standing(StrEnum):
    """Where a partner stands with the marketplace's operator."""

    APPROVED = "approved"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


@dataclass(frozen=True)
class PartnerStanding:
    """A partner's standing, as of the partner's `version` its last event named."""

    partner_id: UUID
    standing: Standing
    version: int

    def superseded_by(self, version: int) -> bool:
        """Whether an event of this version is newer than what this standing was built from."""
        return version > self.version


def require_may_publish(standing: PartnerStanding | None) -> None:
    """Refuses a partner that is not approved, or is suspended, or is not known yet."""
    if standing is None or standing.standing is not Standing.APPROVED:
        raise Conflict("Only an approved partner that is not suspended publishes offers.")
