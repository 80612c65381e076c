"""A partner's staff: the users auth created to act for the partner, as auth announced them.

Auth owns users; partners keeps who acts for which partner, so that reviewers see a partner's
people and later rules (who may accept a trade for a partner) can ask here. A user is linked to
one partner, once: an announcement seen again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

__all__ = ["StaffMember"]


@dataclass(frozen=True)
class StaffMember:
    """A user acting for a partner, with the roles auth gave it."""

    tenant_id: UUID
    partner_id: UUID
    user_id: UUID
    roles: tuple[str, ...]
    linked_at: datetime
