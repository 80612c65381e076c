"""Everything the use cases need, built once by bootstrap.py and passed to each of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from mandi_partners.service_layer.unit_of_work import (
    DirectoryFactory,
    LookupFactory,
    UnitOfWorkFactory,
)
from mandi_partners.service_layer.verification import Verifier
from mandi_runtime import Clock

__all__ = ["PartnersDependencies", "VerificationScheduler"]


class VerificationScheduler(Protocol):
    """Starts a submitted application's verification without keeping the request waiting."""

    def schedule(self, tenant_id: UUID, partner_id: UUID) -> None:
        """Verifies the partner soon; a lost schedule is caught by the periodic sweep."""


@dataclass(frozen=True)
class PartnersDependencies:
    """The adapters and limits behind the use cases."""

    uow: UnitOfWorkFactory
    # Read-only, on the read replica while it serves: lists, which may be a moment stale.
    read_uow: UnitOfWorkFactory
    # Read-only, on the primary, without a session: a partner by id, the most frequent request.
    lookups: LookupFactory
    directory: DirectoryFactory
    clock: Clock
    verifier: Verifier
    verifications: VerificationScheduler
    max_page_size: int = 100
    sweep_batch_size: int = 50
    # How long a process may ask the verifier about one application before another may: the
    # verifier call's own deadline and a margin.
    verification_lease: timedelta = timedelta(seconds=60)
