"""Runs sagas in the caller's unit of work: state, history and commands commit together.

The orchestrator never commits. A service starts a saga in the transaction of the use case
that decided it (accepting a proposal), applies a reply in its consumer's transaction (with the
inbox claim), and sweeps deadlines in a leader's periodic job, one tenant's transaction at a
time; whatever the transition sends goes to the outbox of that same transaction. So a saga
never moves without its commands being sent, nor sends without having moved.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID, uuid4

from mandi_messaging import Event
from mandi_observability import get_logger
from mandi_observability.metrics import SAGA_TRANSITIONS
from mandi_saga.definition import SagaDefinition, SagaMessage
from mandi_saga.machine import (
    DeadlinePassed,
    HistoryEntry,
    OperatorResolution,
    OperatorRetry,
    Reply,
    Saga,
    SagaEvent,
    SagaStatus,
    Transition,
    advance,
    begin,
)
from mandi_saga.repository import SagaRepository

__all__ = ["Clock", "SagaObserver", "SagaOrchestrator", "SagaUnitOfWork", "UnknownSaga"]

_log = get_logger("mandi.saga")


class Clock(Protocol):
    """The current time (a test sets it)."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""


class SagaUnitOfWork(Protocol):
    """What the orchestrator needs of the caller's transaction: its tenant, its sagas, and its
    outbox (a service's unit of work has all three)."""

    @property
    def tenant_id(self) -> UUID: ...

    @property
    def sagas(self) -> SagaRepository: ...

    async def publish(self, event: Event, *, subject: str, topic: str | None = None) -> None:
        """Queues an event in the outbox of this transaction."""


U = TypeVar("U", bound=SagaUnitOfWork)
U_contra = TypeVar("U_contra", bound=SagaUnitOfWork, contravariant=True)


class SagaObserver(Protocol[U_contra]):
    """What the owning service does when one of its sagas moves, in the same transaction: tell
    the world through its outbox, and act on the outcome (confirm a trade)."""

    async def moved(self, uow: U_contra, before: SagaStatus | None, transition: Transition) -> None:
        """`transition` was applied to a saga that was `before` (None: it has just begun)."""


class UnknownSaga(LookupError):
    """No saga of the tenant's has this id."""


class SagaOrchestrator(Generic[U]):
    """Starts sagas of the definitions it knows and moves them on replies, deadlines and
    operators' actions, in the caller's unit of work."""

    def __init__(
        self,
        definitions: Iterable[SagaDefinition],
        clock: Clock,
        observer: SagaObserver[U] | None = None,
    ) -> None:
        self._definitions = {definition.type: definition for definition in definitions}
        self._clock = clock
        self._observer = observer

    async def start(
        self,
        uow: U,
        definition: SagaDefinition,
        data: Mapping[str, Any],
        saga_id: UUID | None = None,
    ) -> Saga:
        """Creates a saga and sends its first command; a caller that knows the id (an
        idempotency key's) names it, so a repeated start collides instead of doubling.

        `data` is kept as JSON, values JSON lacks (decimals, ids, times) as their text, and
        every command, the first as the last, is built from what was kept.
        """
        if self._definition(definition.type) is not definition:
            raise LookupError(f"saga type {definition.type!r} has another definition here")
        transition = begin(
            definition,
            saga_id=saga_id or uuid4(),
            tenant_id=uow.tenant_id,
            data=json.loads(json.dumps(dict(data), default=str)),
            now=self._clock.now(),
        )
        sagas = uow.sagas
        await sagas.add(transition.saga)
        return await self._record(uow, sagas, None, transition)

    async def on_reply(self, uow: U, reply: SagaMessage) -> Saga | None:
        """Applies a reply to its saga; a duplicate or stray reply changes nothing. None when
        the tenant has no such saga."""
        sagas = uow.sagas
        saga = await sagas.get(reply.saga_id, for_update=True)
        if saga is None:
            _log.warning("reply for an unknown saga", saga_id=str(reply.saga_id), step=reply.step)
            return None
        return await self._apply(uow, sagas, saga, Reply(reply), self._clock.now())

    async def expire_due(self, uow: U, now: datetime, limit: int) -> int:
        """Times out up to `limit` of the tenant's sagas whose deadline passed by `now`,
        skipping those another transaction holds; how many."""
        sagas = uow.sagas
        due = await sagas.due(now, limit)
        for saga in due:
            await self._apply(uow, sagas, saga, DeadlinePassed(), now)
        return len(due)

    async def retry(self, uow: U, saga_id: UUID, *, operator: str, reason: str) -> Saga:
        """Sends a stuck saga's pending compensation again, with its attempts reset."""
        return await self._operate(uow, saga_id, OperatorRetry(operator, reason))

    async def resolve(
        self,
        uow: U,
        saga_id: UUID,
        outcome: SagaStatus,
        *,
        operator: str,
        reason: str,
    ) -> Saga:
        """Settles a stuck saga by hand as failed (compensated by hand) or completed."""
        return await self._operate(uow, saga_id, OperatorResolution(outcome, operator, reason))

    async def get(self, uow: U, saga_id: UUID) -> Saga | None:
        """A saga's state, for an API to show."""
        return await uow.sagas.get(saga_id)

    async def history(self, uow: U, saga_id: UUID) -> list[HistoryEntry]:
        """Everything that happened to a saga, oldest first, for an API to show."""
        return await uow.sagas.history(saga_id)

    async def _operate(self, uow: U, saga_id: UUID, event: SagaEvent) -> Saga:
        sagas = uow.sagas
        saga = await sagas.get(saga_id, for_update=True)
        if saga is None:
            raise UnknownSaga(f"no saga {saga_id}")
        return await self._apply(uow, sagas, saga, event, self._clock.now())

    async def _apply(
        self,
        uow: U,
        sagas: SagaRepository,
        saga: Saga,
        event: SagaEvent,
        now: datetime,
    ) -> Saga:
        transition = advance(self._definition(saga.type), saga, event, now)
        if not transition.changed:
            return saga
        saved = await sagas.save(transition.saga)
        return await self._record(uow, sagas, saga.status, replace(transition, saga=saved))

    async def _record(
        self,
        uow: U,
        sagas: SagaRepository,
        before: SagaStatus | None,
        transition: Transition,
    ) -> Saga:
        """Appends the transition's history, queues its commands, and tells the world."""
        saga = transition.saga
        await sagas.append(saga, transition.history)
        for command in transition.commands:
            await uow.publish(command.event, subject=command.key, topic=command.topic)
        if saga.status is not before:
            SAGA_TRANSITIONS.labels(saga_type=saga.type, status=saga.status.value).inc()
        if self._observer is not None:
            await self._observer.moved(uow, before, transition)
        _log.info(
            "saga moved",
            saga_id=str(saga.id),
            saga_type=saga.type,
            step=self._definition(saga.type).steps[saga.step].name,
            status=saga.status.value,
            happened=[entry.kind for entry in transition.history],
        )
        return saga

    def _definition(self, saga_type: str) -> SagaDefinition:
        try:
            return self._definitions[saga_type]
        except KeyError:
            raise LookupError(f"no saga definition of type {saga_type!r}") from None
