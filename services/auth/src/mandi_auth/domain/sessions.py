"""Refresh tokens: each use replaces the token, and a token used twice revokes its whole family.

A family is one sign-in (one session); a stolen token and its rightful owner both refreshing
means one of them replays a token already used, and the family dies for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

__all__ = ["RefreshOutcome", "RefreshToken"]


class RefreshOutcome(StrEnum):
    """What presenting a refresh token leads to."""

    ROTATE = "rotate"
    REUSED = "reused"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass
class RefreshToken:
    """One refresh token of a session family."""

    id: UUID
    family_id: UUID
    tenant_id: UUID
    user_id: UUID
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None

    def outcome_of_use(self, moment: datetime) -> RefreshOutcome:
        """Whether presenting this token at `moment` may rotate it."""
        if self.revoked_at is not None:
            return RefreshOutcome.REVOKED
        if self.used_at is not None:
            return RefreshOutcome.REUSED
        if moment >= self.expires_at:
            return RefreshOutcome.EXPIRED
        return RefreshOutcome.ROTATE

    def mark_used(self, moment: datetime) -> None:
        """Spent: presenting it again is a reuse."""
        self.used_at = moment
