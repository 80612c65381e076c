"""Everything the use cases need, built once by bootstrap.py and passed to each of them."""

from __future__ import annotations

from dataclasses import dataclass

from mandi_matching.service_layer.decisions import DecisionOrchestrator
from mandi_matching.service_layer.sagas import TradeSagas
from mandi_matching.service_layer.unit_of_work import (
    DirectoryFactory,
    MatchingUnitOfWork,
    UnitOfWorkFactory,
)
from mandi_runtime import Clock
from mandi_saga import SagaOrchestrator

__all__ = ["MatchingDependencies"]


@dataclass(frozen=True)
class MatchingDependencies:
    """The adapters behind the use cases, and the orchestrators that decide and trade."""

    uow: UnitOfWorkFactory
    # Read-only, on the read replica while it serves: lists of proposals and trades.
    read_uow: UnitOfWorkFactory
    directory: DirectoryFactory
    clock: Clock
    decisions: DecisionOrchestrator
    sagas: SagaOrchestrator[MatchingUnitOfWork]
    trade_sagas: TradeSagas
    radius_km: float = 500.0
    candidates_per_offer: int = 50
    saga_sweep_batch: int = 200
