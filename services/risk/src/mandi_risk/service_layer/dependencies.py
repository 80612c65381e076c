"""Everything the use cases need, built once by bootstrap.py and passed to each of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from mandi_risk.service_layer.unit_of_work import (
    DirectoryFactory,
    LookupFactory,
    UnitOfWorkFactory,
)
from mandi_runtime import Clock

__all__ = ["Bureau", "LiveScore", "RiskDependencies"]


@dataclass(frozen=True)
class LiveScore:
    """A score the credit bureau gave just now."""

    score: int
    as_of: datetime


class Bureau(Protocol):
    """The external credit bureau, behind its timeout, retries and circuit breaker."""

    async def live_score(self, partner_id: UUID) -> LiveScore | str:
        """The partner's score, or why there is none live ("breaker open", "timed out", ...)."""


@dataclass(frozen=True)
class RiskDependencies:
    """The adapters behind the use cases."""

    uow: UnitOfWorkFactory
    # Read-only, on the read replica while it serves: lists of assessments.
    read_uow: UnitOfWorkFactory
    # Read-only on the primary, without a session: the bureau score remembered for a buyer.
    lookups: LookupFactory
    directory: DirectoryFactory
    bureau: Bureau
    clock: Clock
    # A bureau score read live this recently is used without asking the bureau again.
    bureau_fresh_for: timedelta = timedelta(hours=24)
    drift_window_hours: int = 24
    drift_threshold: float = 0.25
