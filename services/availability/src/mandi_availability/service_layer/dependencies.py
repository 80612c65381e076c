"""Everything the use cases need, built once by bootstrap.py and passed to each of them."""

from __future__ import annotations

from dataclasses import dataclass

from mandi_availability.service_layer.unit_of_work import DirectoryFactory, UnitOfWorkFactory
from mandi_runtime import Clock

__all__ = ["AvailabilityDependencies"]


@dataclass(frozen=True)
class AvailabilityDependencies:
    """The adapters behind the use cases."""

    uow: UnitOfWorkFactory
    # Read-only, on the read replica while it serves: the catalog, lists.
    read_uow: UnitOfWorkFactory
    directory: DirectoryFactory
    clock: Clock
    sweep_batch_size: int = 200
