"""The state machine of one saga: every transition a pure function of (state, event, now).

No I/O and no clock: a transition returns the new state, the commands to send and what
happened, and the orchestrator persists and sends them in one transaction. So the rules below
are tested by driving them, timeouts included, with whatever `now` a test likes.

Each step has a status of its own, which is what keeps replies idempotent: a reply changes
something only when its step waits for it. A step that timed out is `abandoned`, not forgotten:
if its success arrives after all (a reservation granted after the saga gave up), its effect
is held again and is compensated like any other. Compensations run one at a time, the held step
furthest along first; each is sent again at its deadline, and after the definition's number of
attempts the saga waits for an operator (whose retry or resolution is an event too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from mandi_saga.definition import (
    Command,
    Completed,
    Refused,
    SagaDefinition,
    SagaMessage,
    Step,
)

__all__ = [
    "DeadlinePassed",
    "HistoryEntry",
    "NotAwaitingOperator",
    "OperatorResolution",
    "OperatorRetry",
    "Reply",
    "Saga",
    "SagaEvent",
    "SagaStatus",
    "StepStatus",
    "Transition",
    "advance",
    "begin",
]


class SagaStatus(StrEnum):
    """Where a saga is: running a step, undoing steps, or done one way or the other."""

    RUNNING = "running"
    COMPENSATING = "compensating"
    COMPLETED = "completed"
    FAILED = "failed"  # every held effect was undone
    NEEDS_OPERATOR = "needs_operator"  # a compensation kept going unanswered


class StepStatus(StrEnum):
    """Where one step is; `done` is the only status whose effect is held and not being undone."""

    WAITING = "waiting"
    SENT = "sent"
    DONE = "done"
    REFUSED = "refused"
    ABANDONED = "abandoned"  # timed out: a success arriving later is compensated
    UNDOING = "undoing"
    UNDONE = "undone"


@dataclass(frozen=True)
class Saga:
    """One saga's state; `step` is the step run or compensated now, `deadline` when the reply
    awaited is overdue, `attempts` how often the pending compensation was sent."""

    id: UUID
    tenant_id: UUID
    type: str
    status: SagaStatus
    step: int
    steps: tuple[StepStatus, ...]
    data: Mapping[str, Any]
    deadline: datetime | None
    attempts: int
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Reply:
    """A reply to one of the saga's commands arrived."""

    message: SagaMessage


@dataclass(frozen=True)
class DeadlinePassed:
    """The sweep found the saga's deadline due (the transition checks it against `now`)."""


@dataclass(frozen=True)
class OperatorRetry:
    """An operator asks for the pending compensation to be sent again, attempts reset."""

    operator: str
    reason: str


@dataclass(frozen=True)
class OperatorResolution:
    """An operator settles a stuck saga by hand: `failed` (the pending compensation was done by
    hand; others still held are compensated) or `completed` (the saga's outcome stands)."""

    outcome: SagaStatus
    operator: str
    reason: str


SagaEvent = Reply | DeadlinePassed | OperatorRetry | OperatorResolution


class NotAwaitingOperator(ValueError):
    """An operator acted on a saga that is not waiting for one."""


@dataclass(frozen=True)
class HistoryEntry:
    """Something that happened to a saga, when, to which step, with its particulars."""

    at: datetime
    kind: str
    step: str | None
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class Transition:
    """A saga's new state, the commands to send and the history to append; no history means
    nothing changed (a duplicate or stray reply, a deadline not yet due)."""

    saga: Saga
    commands: tuple[Command, ...] = ()
    history: tuple[HistoryEntry, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether there is anything to save."""
        return bool(self.history)

    def then(self, following: Transition) -> Transition:
        """This transition followed by another that started from its state."""
        return Transition(
            following.saga, self.commands + following.commands, self.history + following.history
        )


def begin(
    definition: SagaDefinition,
    *,
    saga_id: UUID,
    tenant_id: UUID,
    data: Mapping[str, Any],
    now: datetime,
) -> Transition:
    """A new saga, running its first step."""
    saga = Saga(
        id=saga_id,
        tenant_id=tenant_id,
        type=definition.type,
        status=SagaStatus.RUNNING,
        step=0,
        steps=(StepStatus.WAITING,) * len(definition.steps),
        data=data,
        deadline=None,
        attempts=0,
        version=0,
        created_at=now,
        updated_at=now,
    )
    started = Transition(saga, history=(HistoryEntry(now, "started", None, {}),))
    return started.then(_send_step(definition, saga, 0, now))


def advance(definition: SagaDefinition, saga: Saga, event: SagaEvent, now: datetime) -> Transition:
    """The transition `event` causes at `now`."""
    match event:
        case Reply(message):
            return _on_reply(definition, saga, message, now)
        case DeadlinePassed():
            return _on_deadline(definition, saga, now)
        case OperatorRetry(operator, reason):
            return _retry(definition, saga, {"operator": operator, "reason": reason}, now)
        case OperatorResolution(outcome, operator, reason):
            detail = {"operator": operator, "reason": reason}
            return _resolve(definition, saga, outcome, detail, now)


def _on_reply(
    definition: SagaDefinition, saga: Saga, message: SagaMessage, now: datetime
) -> Transition:
    index = definition.index_of(message.step)
    if index is None:
        return Transition(saga)
    step, status = definition.steps[index], saga.steps[index]
    if status is StepStatus.UNDOING and _undoes(step, message):
        return _compensated(definition, saga, index, now)
    outcome = step.read_reply(message)
    if status is StepStatus.SENT and isinstance(outcome, Completed):
        return _step_done(definition, saga, index, now)
    if status is StepStatus.SENT and isinstance(outcome, Refused):
        refused = _with_step(saga, index, StepStatus.REFUSED, now)
        history = _entry(now, "refused", definition, index, {"reason": outcome.reason})
        compensating = _compensate_next(definition, refused, now)
        return Transition(refused, history=(history,)).then(compensating)
    if status is StepStatus.ABANDONED and isinstance(outcome, Completed):
        return _late_success(definition, saga, index, now)
    return Transition(saga)


def _undoes(step: Step, message: SagaMessage) -> bool:
    """Whether `message` answers the step's compensation, under the name it was sent with."""
    undo = step.compensation
    if undo is None or message.step != (undo.step or step.name):
        return False
    return undo.recognises(message)


def _step_done(definition: SagaDefinition, saga: Saga, index: int, now: datetime) -> Transition:
    done = _with_step(saga, index, StepStatus.DONE, now)
    history = (_entry(now, "completed", definition, index, {}),)
    if index + 1 < len(definition.steps):
        return Transition(done, history=history).then(_send_step(definition, done, index + 1, now))
    finished = replace(done, status=SagaStatus.COMPLETED, deadline=None, attempts=0)
    return Transition(finished, history=(*history, HistoryEntry(now, "saga_completed", None, {})))


def _late_success(definition: SagaDefinition, saga: Saga, index: int, now: datetime) -> Transition:
    """A timed-out step succeeded after all: its effect is held, so it is compensated too (at
    once if the saga had finished failing, else when the pending compensation is answered)."""
    held = _with_step(saga, index, StepStatus.DONE, now)
    late = Transition(held, history=(_entry(now, "late_success", definition, index, {}),))
    if held.status is SagaStatus.FAILED:
        return late.then(_compensate_next(definition, held, now))
    return late


def _on_deadline(definition: SagaDefinition, saga: Saga, now: datetime) -> Transition:
    if saga.deadline is None or now < saga.deadline:
        return Transition(saga)
    timed_out = _record(saga, now, "timed_out", definition, {"attempt": saga.attempts})
    if saga.status is SagaStatus.RUNNING:
        abandoned = _with_step(timed_out.saga, saga.step, StepStatus.ABANDONED, now)
        return Transition(abandoned, history=timed_out.history).then(
            _compensate_next(definition, abandoned, now)
        )
    if saga.attempts < definition.compensation_attempts:
        return timed_out.then(
            _send_compensation(definition, saga, saga.step, saga.attempts + 1, now)
        )
    stuck = replace(timed_out.saga, status=SagaStatus.NEEDS_OPERATOR, deadline=None)
    needs_operator = HistoryEntry(now, "needs_operator", None, {})
    return Transition(stuck, history=(*timed_out.history, needs_operator))


def _compensate_next(definition: SagaDefinition, saga: Saga, now: datetime) -> Transition:
    """Undoes the held step furthest along, or ends the saga failed when nothing is held."""
    held = [
        index
        for index, status in enumerate(saga.steps)
        if status is StepStatus.DONE and definition.steps[index].compensation is not None
    ]
    if held:
        return _send_compensation(definition, saga, max(held), 1, now)
    failed = replace(saga, status=SagaStatus.FAILED, deadline=None, attempts=0, updated_at=now)
    return Transition(failed, history=(HistoryEntry(now, "saga_failed", None, {}),))


def _compensated(definition: SagaDefinition, saga: Saga, index: int, now: datetime) -> Transition:
    undone = _with_step(saga, index, StepStatus.UNDONE, now)
    compensated = Transition(undone, history=(_entry(now, "compensated", definition, index, {}),))
    if undone.status is SagaStatus.COMPLETED:  # resolved by an operator meanwhile
        return compensated
    return compensated.then(_compensate_next(definition, undone, now))


def _retry(
    definition: SagaDefinition, saga: Saga, detail: Mapping[str, Any], now: datetime
) -> Transition:
    _require_operator(saga)
    retried = _record(saga, now, "operator_retry", definition, detail)
    return retried.then(_send_compensation(definition, saga, saga.step, 1, now))


def _resolve(
    definition: SagaDefinition,
    saga: Saga,
    outcome: SagaStatus,
    detail: Mapping[str, Any],
    now: datetime,
) -> Transition:
    _require_operator(saga)
    if outcome not in {SagaStatus.FAILED, SagaStatus.COMPLETED}:
        raise ValueError(f"an operator resolves a saga as failed or completed, not {outcome}")
    resolved = _record(saga, now, "operator_resolved", definition, {**detail, "outcome": outcome})
    if outcome is SagaStatus.COMPLETED:
        done = replace(resolved.saga, status=SagaStatus.COMPLETED, deadline=None, attempts=0)
        return Transition(done, history=resolved.history)
    by_hand = _with_step(resolved.saga, saga.step, StepStatus.UNDONE, now)
    return Transition(by_hand, history=resolved.history).then(
        _compensate_next(definition, by_hand, now)
    )


def _send_step(definition: SagaDefinition, saga: Saga, index: int, now: datetime) -> Transition:
    step = definition.steps[index]
    sent = replace(
        _with_step(saga, index, StepStatus.SENT, now),
        step=index,
        deadline=now + step.deadline,
        attempts=1,
    )
    command = step.command(sent)
    detail = {"command": type(command.event).__name__, "deadline": _iso(sent.deadline)}
    return Transition(sent, (command,), (_entry(now, "command_sent", definition, index, detail),))


def _send_compensation(
    definition: SagaDefinition, saga: Saga, index: int, attempt: int, now: datetime
) -> Transition:
    compensation = definition.steps[index].compensation
    if compensation is None:
        raise ValueError(f"step {definition.steps[index].name!r} has no compensation")
    sent = replace(
        _with_step(saga, index, StepStatus.UNDOING, now),
        status=SagaStatus.COMPENSATING,
        step=index,
        deadline=now + compensation.deadline,
        attempts=attempt,
    )
    command = compensation.command(sent)
    detail = {
        "command": type(command.event).__name__,
        "attempt": attempt,
        "deadline": _iso(sent.deadline),
    }
    history = (_entry(now, "compensation_sent", definition, index, detail),)
    return Transition(sent, (command,), history)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _require_operator(saga: Saga) -> None:
    if saga.status is not SagaStatus.NEEDS_OPERATOR:
        raise NotAwaitingOperator(f"saga {saga.id} is {saga.status}, not waiting for an operator")


def _with_step(saga: Saga, index: int, status: StepStatus, now: datetime) -> Saga:
    steps = (*saga.steps[:index], status, *saga.steps[index + 1 :])
    return replace(saga, steps=steps, updated_at=now)


def _entry(
    now: datetime, kind: str, definition: SagaDefinition, index: int, detail: Mapping[str, Any]
) -> HistoryEntry:
    return HistoryEntry(now, kind, definition.steps[index].name, detail)


def _record(
    saga: Saga, now: datetime, kind: str, definition: SagaDefinition, detail: Mapping[str, Any]
) -> Transition:
    """The saga unchanged but for a history entry about its current step."""
    return Transition(
        replace(saga, updated_at=now), history=(_entry(now, kind, definition, saga.step, detail),)
    )
