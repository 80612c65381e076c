"""Everything the use cases need, built once by bootstrap.py and passed to each of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from mandi_availability.domain.catalog import Commodity
from mandi_availability.service_layer.unit_of_work import (
    DirectoryFactory,
    LookupFactory,
    UnitOfWorkFactory,
)
from mandi_runtime import Clock

__all__ = ["AvailabilityDependencies", "CatalogCache"]


class CatalogCache(Protocol):
    """The catalog, shared by every replica, in front of the database."""

    async def get(self, tenant_id: UUID, code: str) -> Commodity | None: ...
    async def put(self, tenant_id: UUID, commodity: Commodity) -> None: ...
    async def forget(self, tenant_id: UUID, code: str) -> None: ...


@dataclass(frozen=True)
class AvailabilityDependencies:
    """The adapters behind the use cases."""

    uow: UnitOfWorkFactory
    # Read-only, on the read replica while it serves: the catalog, lists.
    read_uow: UnitOfWorkFactory
    # Read-only on the primary, without a session: an offer by id, so a client reads its writes.
    lookups: LookupFactory
    directory: DirectoryFactory
    catalog_cache: CatalogCache
    clock: Clock
    sweep_batch_size: int = 200
