"""Orchestrated sagas: a persisted state machine per saga, with deadlines and compensations,
whose state changes and commands commit in one transaction through the outbox."""

from mandi_observability.metrics import SAGA_TRANSITIONS
from mandi_saga.definition import (
    Command,
    Compensation,
    Completed,
    Refused,
    SagaDefinition,
    SagaMessage,
    Step,
    StepOutcome,
)
from mandi_saga.machine import (
    DeadlinePassed,
    HistoryEntry,
    NotAwaitingOperator,
    OperatorResolution,
    OperatorRetry,
    Reply,
    Saga,
    SagaEvent,
    SagaStatus,
    StepStatus,
    Transition,
    advance,
    begin,
)
from mandi_saga.orchestrator import (
    Clock,
    SagaObserver,
    SagaOrchestrator,
    SagaUnitOfWork,
    UnknownSaga,
)
from mandi_saga.repository import SagaRepository, StaleSaga
from mandi_saga.schema import create_saga_tables, drop_saga_tables

__all__ = [
    "SAGA_TRANSITIONS",
    "Clock",
    "Command",
    "Compensation",
    "Completed",
    "DeadlinePassed",
    "HistoryEntry",
    "NotAwaitingOperator",
    "OperatorResolution",
    "OperatorRetry",
    "Refused",
    "Reply",
    "Saga",
    "SagaDefinition",
    "SagaEvent",
    "SagaMessage",
    "SagaObserver",
    "SagaOrchestrator",
    "SagaRepository",
    "SagaStatus",
    "SagaUnitOfWork",
    "StaleSaga",
    "Step",
    "StepOutcome",
    "StepStatus",
    "Transition",
    "UnknownSaga",
    "advance",
    "begin",
    "create_saga_tables",
    "drop_saga_tables",
]
